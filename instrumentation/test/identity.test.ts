/*
 * The ready-made identity resolvers: the caller from a JWT bearer token's claims (decoded, not
 * verified) and from an API key header (a fingerprint, never the key).
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { apiKeyId, identityFromApiKey, identityFromJwt } from '../src/identity.js';
import type { HasHeaders } from '../src/identity.js';
import type { AuditIdentity } from '../src/types.js';

function request(headers: IncomingHttpHeaders): HasHeaders {
  return { headers };
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** An unsigned JWT (header.payload.signature) whose payload is exactly `payload`. */
function rawJwt(payload: string, signature = 'c2lnbmF0dXJl'): string {
  return `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(payload)}.${signature}`;
}

function jwt(claims: Record<string, unknown>): string {
  return rawJwt(JSON.stringify(claims));
}

function bearer(token: string): HasHeaders {
  return request({ authorization: `Bearer ${token}` });
}

describe('identityFromJwt', () => {
  const resolve = identityFromJwt();

  it('takes principalId from sub, userName, accountId from tid and the issuer', () => {
    const identity = resolve(
      bearer(
        jwt({
          sub: '00u1abcd',
          preferred_username: 'john@example.com',
          name: 'John Doe',
          email: 'jd@example.com',
          tid: 'tenant-42',
          iss: 'https://login.example.com/',
          exp: 1_900_000_000,
        }),
      ),
    );
    assert.deepEqual(identity, {
      type: 'WebIdentityUser',
      principalId: '00u1abcd',
      userName: 'john@example.com',
      accountId: 'tenant-42',
      sessionContext: { webIdFederationData: { federatedProvider: 'https://login.example.com/' } },
    });
  });

  it('falls back from preferred_username to name, then email', () => {
    assert.equal(
      resolve(bearer(jwt({ sub: 's', name: 'John Doe', email: 'jd@example.com' })))?.userName,
      'John Doe',
    );
    assert.equal(resolve(bearer(jwt({ sub: 's', email: 'jd@example.com' })))?.userName, 'jd@example.com');
    assert.equal(resolve(bearer(jwt({ sub: 's' })))?.userName, undefined);
  });

  it('ignores claims that are not strings', () => {
    const identity = resolve(bearer(jwt({ sub: 12345, preferred_username: ['a'], name: 'Named', tid: {} })));
    assert.deepEqual(identity, { type: 'WebIdentityUser', userName: 'Named' });
  });

  it('takes accountId from tenant when there is no tid', () => {
    assert.equal(resolve(bearer(jwt({ sub: 's', tenant: 'acme' })))?.accountId, 'acme');
    assert.equal(resolve(bearer(jwt({ sub: 's', tid: 'first', tenant: 'second' })))?.accountId, 'first');
  });

  it('reads a custom user name claim first, and a custom type', () => {
    const custom = identityFromJwt({ userNameClaim: 'upn', type: 'SAMLUser' });
    const identity = custom(bearer(jwt({ sub: 's', upn: 'john@corp', preferred_username: 'ignored' })));
    assert.equal(identity?.userName, 'john@corp');
    assert.equal(identity.type, 'SAMLUser');
    // Without the custom claim, the defaults still apply.
    assert.equal(custom(bearer(jwt({ sub: 's', name: 'John' })))?.userName, 'John');
  });

  it('accepts an unsigned token (empty signature), a lower-case scheme and a custom header', () => {
    assert.equal(resolve(bearer(rawJwt(JSON.stringify({ sub: 'u' }), '')))?.principalId, 'u');
    assert.equal(resolve(request({ authorization: `bearer ${jwt({ sub: 'u' })}` }))?.principalId, 'u');
    const fromHeader = identityFromJwt({ header: 'X-Id-Token' });
    assert.equal(fromHeader(request({ 'x-id-token': `Bearer ${jwt({ sub: 'v' })}` }))?.principalId, 'v');
    assert.equal(fromHeader(bearer(jwt({ sub: 'v' }))), undefined, 'only the configured header is read');
  });

  it('gives undefined, without throwing, for malformed or missing tokens', () => {
    const good = jwt({ sub: 'u' });
    const [head, payload] = good.split('.');
    const cases: [string, HasHeaders][] = [
      ['no authorization header', request({})],
      ['an empty header', request({ authorization: '' })],
      ['no Bearer scheme', request({ authorization: good })],
      ['another scheme', request({ authorization: `Basic ${base64url('john:hunter2')}` })],
      ['two parts', bearer(`${head!}.${payload!}`)],
      ['four parts', bearer(`${good}.extra`)],
      ['one part', bearer(payload!)],
      ['characters outside base64url', bearer(`${head!}.${payload!}+/=.sig`)],
      ['a payload that is not JSON', bearer(`${head!}.${base64url('not json')}.sig`)],
      [
        'a payload of binary garbage',
        bearer(`${head!}.${Buffer.from([0xff, 0xfe, 0x00]).toString('base64url')}.sig`),
      ],
      ['a JSON null payload', bearer(rawJwt('null'))],
      ['a JSON array payload', bearer(rawJwt('[{"sub":"u"}]'))],
      ['a JSON string payload', bearer(rawJwt('"sub"'))],
      ['a JSON number payload', bearer(rawJwt('42'))],
    ];
    for (const [what, input] of cases) {
      let identity: AuditIdentity | undefined;
      assert.doesNotThrow(() => {
        identity = resolve(input);
      }, what);
      assert.equal(identity, undefined, what);
    }
  });

  it('reads the first value of a repeated header', () => {
    const identity = resolve(
      request({ authorization: [`Bearer ${jwt({ sub: 'first' })}`] } as unknown as IncomingHttpHeaders),
    );
    assert.equal(identity?.principalId, 'first');
  });
});

describe('identityFromApiKey', () => {
  const key = 'sk_live_4f9a2c7e1b3d5a6f8e0c';

  it('records a stable fingerprint of the key, never the key; without a lookup its owner is Unknown', async () => {
    const identity = await identityFromApiKey()(request({ 'x-api-key': key }));
    assert.deepEqual(identity, { type: 'Unknown', accessKeyId: apiKeyId(key) });
    assert.match(apiKeyId(key), /^AK[0-9A-F]{16}$/);
    assert.equal(apiKeyId(key), apiKeyId(key), 'stable');
    assert.notEqual(apiKeyId(key), apiKeyId(`${key}x`), 'distinct keys, distinct ids');
    assert.ok(!JSON.stringify(identity).includes(key), 'the key appears nowhere');
  });

  it("merges the lookup's owner, and the key still appears nowhere", async () => {
    const seen: string[] = [];
    const resolve = identityFromApiKey({
      lookup: async (given) => {
        seen.push(given);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return { userName: 'ci-bot', principalId: 'AIDACI', accountId: '123456789012', type: 'AWSService' };
      },
    });
    const identity = await resolve(request({ 'x-api-key': key }));
    assert.deepEqual(seen, [key], 'lookup gets the key itself');
    assert.deepEqual(identity, {
      type: 'AWSService',
      userName: 'ci-bot',
      principalId: 'AIDACI',
      accountId: '123456789012',
      accessKeyId: apiKeyId(key),
    });
    assert.ok(!JSON.stringify(identity).includes(key));
  });

  it("keeps the lookup's own accessKeyId", async () => {
    const resolve = identityFromApiKey({ lookup: () => ({ userName: 'ci-bot', accessKeyId: 'AKIACIBOT' }) });
    const identity = await resolve(request({ 'x-api-key': key }));
    assert.equal(identity?.accessKeyId, 'AKIACIBOT');
    assert.equal(identity.type, 'IAMUser');
    assert.ok(!JSON.stringify(identity).includes(key));
  });

  it('an unknown key (lookup gives undefined) is Unknown, not an IAMUser, with its fingerprint', async () => {
    const resolve = identityFromApiKey({ lookup: () => undefined, type: 'IAMUser' });
    assert.deepEqual(await resolve(request({ 'x-api-key': key })), {
      type: 'Unknown',
      accessKeyId: apiKeyId(key),
    });
  });

  it("types a known key's owner as the type option says (default IAMUser) unless lookup says", async () => {
    const owner = { userName: 'ci-bot' };
    const byDefault = await identityFromApiKey({ lookup: () => owner })(request({ 'x-api-key': key }));
    const typed = await identityFromApiKey({ lookup: () => owner, type: 'AWSService' })(
      request({ 'x-api-key': key }),
    );
    assert.equal(byDefault?.type, 'IAMUser');
    assert.equal(typed?.type, 'AWSService');
  });

  it('reads a custom header', async () => {
    const resolve = identityFromApiKey({ header: 'Authorization-Key' });
    assert.equal((await resolve(request({ 'authorization-key': key })))?.accessKeyId, apiKeyId(key));
    assert.equal(await resolve(request({ 'x-api-key': key })), undefined);
  });

  it('gives undefined when the header is missing or empty, without calling lookup', async () => {
    let calls = 0;
    const resolve = identityFromApiKey({
      lookup: () => {
        calls++;
        return { userName: 'nobody' };
      },
    });
    assert.equal(await resolve(request({})), undefined);
    assert.equal(await resolve(request({ 'x-api-key': '' })), undefined);
    assert.equal(calls, 0);
  });
});

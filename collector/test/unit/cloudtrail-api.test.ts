/*
 * The CloudTrail-compatible API's own rules, below what the real clients exercise end to end
 * (e2e/cloudtrail-api.test.ts): insight lookups, the paging token bound to its query, and the
 * SigV4 checks a well-behaved client never trips (a body swapped under a signed hash, headers
 * dropped from the signature, a malformed Authorization header).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { PagingTokens } from '../../src/api/paging-token.js';
import { AwsApiError } from '../../src/cloudtrail-api/aws-error.js';
import { parseCredentials } from '../../src/cloudtrail-api/credentials.js';
import { lookupEvents } from '../../src/cloudtrail-api/lookup-events.js';
import { CLOUDTRAIL_OPERATIONS } from '../../src/cloudtrail-api/operations.js';
import type { SignedRequest } from '../../src/cloudtrail-api/sigv4-verifier.js';
import { verifySignature } from '../../src/cloudtrail-api/sigv4-verifier.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { insightEvent, storedEvent, tempDir } from './builders.js';

const NOW = Date.UTC(2026, 5, 1, 12);

async function rejection(promise: Promise<unknown>): Promise<AwsApiError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof AwsApiError, `expected an AwsApiError, got ${String(error)}`);
  return error;
}

describe('LookupEvents', () => {
  const temp = tempDir();
  const store = new SqliteEventStore({ path: join(temp.dir, 'events.db') });
  const tokens = new PagingTokens(randomBytes(32));
  after(async () => {
    await store.close();
    temp.remove();
  });

  it('returns insight events only with EventCategory insight, named after the API they are about', async () => {
    await store.insert([
      storedEvent({ timeMs: NOW - 120_000, eventName: 'CreateUser' }),
      insightEvent({ timeMs: NOW - 60_000, eventName: 'CreateUser', eventSource: 'iam.example.com' }),
    ]);
    const management = await lookupEvents({}, store, tokens);
    assert.deepEqual(
      management.Events.map((event) => event.EventName),
      ['CreateUser'],
    );
    const insights = await lookupEvents(
      {
        EventCategory: 'insight',
        LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateUser' }],
      },
      store,
      tokens,
    );
    assert.equal(insights.Events.length, 1);
    const insight = insights.Events[0];
    assert.ok(insight);
    assert.equal(insight.EventSource, 'iam.example.com');
    assert.equal(insight.EventTime, (NOW - 60_000) / 1000);
    assert.equal(
      (JSON.parse(insight.CloudTrailEvent) as { eventType: string }).eventType,
      'AwsCloudTrailInsight',
    );
  });

  it('refuses a NextToken with other filters than the query it came from', async () => {
    await store.insert([1, 2, 3].map((i) => storedEvent({ timeMs: NOW - i * 1000, eventName: 'GetUser' })));
    const first = await lookupEvents({ MaxResults: 1 }, store, tokens);
    assert.ok(first.NextToken);
    const again = await lookupEvents({ MaxResults: 1, NextToken: first.NextToken }, store, tokens);
    const replayed = await lookupEvents({ MaxResults: 1, NextToken: first.NextToken }, store, tokens);
    assert.deepEqual(replayed, again, 'a token always fetches the same page');
    const error = await rejection(
      lookupEvents(
        {
          MaxResults: 1,
          NextToken: first.NextToken,
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'GetUser' }],
        },
        store,
        tokens,
      ),
    );
    assert.equal(error.code, 'InvalidNextTokenException');
  });

  it('refuses malformed parameters with their own codes', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ MaxResults: 0 }, 'InvalidMaxResultsException'],
      [
        { LookupAttributes: [{ AttributeKey: 'constructor', AttributeValue: 'x' }] },
        'InvalidLookupAttributesException',
      ],
      [{ MaxResults: 2.5 }, 'InvalidMaxResultsException'],
      [{ StartTime: 'yesterday' }, 'InvalidTimeRangeException'],
      [{ LookupAttributes: { AttributeKey: 'EventName' } }, 'InvalidLookupAttributesException'],
      [
        { LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'x'.repeat(2001) }] },
        'InvalidLookupAttributesException',
      ],
      // Injection in a value is only ever a value: it matches nothing, it is not refused.
    ];
    for (const [request, code] of cases) {
      assert.equal(
        (await rejection(lookupEvents(request, store, tokens))).code,
        code,
        JSON.stringify(request).slice(0, 80),
      );
    }
    const injected = await lookupEvents(
      { LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: "' OR 1=1 --" }] },
      store,
      tokens,
    );
    assert.deepEqual(injected.Events, []);
  });
});

describe('SigV4 verification', () => {
  const credentials = parseCredentials(
    JSON.stringify({
      credentials: [{ accessKeyId: 'AKIAUNITTEST00000001', secretAccessKey: 'unit-secret' }],
    }),
    CLOUDTRAIL_OPERATIONS,
  );
  const options = { service: 'cloudtrail', credentials, now: () => NOW };

  /** A request signed as the SDK signs it (with x-amz-content-sha256). */
  async function signed(body: string): Promise<SignedRequest> {
    const signer = new SignatureV4({
      credentials: { accessKeyId: 'AKIAUNITTEST00000001', secretAccessKey: 'unit-secret' },
      region: 'us-east-1',
      service: 'cloudtrail',
      sha256: Hash.bind(null, 'sha256'),
    });
    const request = await signer.sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: 'localhost',
        path: '/',
        headers: {
          host: 'localhost:8790',
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'CloudTrail_20131101.LookupEvents',
          'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        },
        body,
      },
      { signingDate: new Date(NOW) },
    );
    return { method: 'POST', path: '/', query: '', headers: request.headers, body: Buffer.from(body) };
  }

  it('accepts a correctly signed request', async () => {
    const credential = await verifySignature(await signed('{}'), options);
    assert.equal(credential.accessKeyId, 'AKIAUNITTEST00000001');
  });

  it('refuses a body swapped under a signed payload hash', async () => {
    const request = await signed('{"MaxResults":1}');
    const error = await rejection(
      verifySignature({ ...request, body: Buffer.from('{"MaxResults":50}') }, options),
    );
    assert.equal(error.code, 'InvalidSignatureException');
  });

  it('refuses a changed signed header, a dropped one, and a malformed Authorization header', async () => {
    const request = await signed('{}');
    const retargeted = {
      ...request,
      headers: { ...request.headers, 'x-amz-target': 'CloudTrail_20131101.GetTrail' },
    };
    assert.equal((await rejection(verifySignature(retargeted, options))).code, 'InvalidSignatureException');
    const authorization = String(request.headers.authorization);
    const withoutHost = authorization.replace(
      'SignedHeaders=content-type;host;',
      'SignedHeaders=content-type;',
    );
    assert.equal(
      (
        await rejection(
          verifySignature(
            { ...request, headers: { ...request.headers, authorization: withoutHost } },
            options,
          ),
        )
      ).code,
      'IncompleteSignatureException',
    );
    assert.equal(
      (
        await rejection(
          verifySignature(
            { ...request, headers: { ...request.headers, authorization: 'AWS4-HMAC-SHA256 nonsense' } },
            options,
          ),
        )
      ).code,
      'IncompleteSignatureException',
    );
    const { authorization: _dropped, ...unsigned } = request.headers;
    assert.equal(
      (await rejection(verifySignature({ ...request, headers: unsigned }, options))).code,
      'MissingAuthenticationTokenException',
    );
  });

  it('refuses a signature scoped to another service or day', async () => {
    const request = await signed('{}');
    const authorization = String(request.headers.authorization);
    for (const [from, to] of [
      ['/cloudtrail/aws4_request', '/s3/aws4_request'],
      ['/20260601/', '/20260531/'],
    ] as const) {
      const error = await rejection(
        verifySignature(
          { ...request, headers: { ...request.headers, authorization: authorization.replace(from, to) } },
          options,
        ),
      );
      assert.equal(error.code, 'InvalidSignatureException');
    }
  });
});

describe('credentials file', () => {
  it('says what is wrong with it', () => {
    for (const [text, message] of [
      ['not json', /not JSON/],
      ['{"credentials": []}', /expected/],
      ['{"credentials": [{"accessKeyId": "lower", "secretAccessKey": "x"}]}', /accessKeyId/],
      ['{"credentials": [{"accessKeyId": "AKIAUNITTEST00000001"}]}', /secretAccessKey/],
      [
        '{"credentials": [{"accessKeyId": "AKIAUNITTEST00000001", "secretAccessKey": "x", "operations": ["CreateTrail"]}]}',
        /operations/,
      ],
      [
        '{"credentials": [{"accessKeyId": "AKIAUNITTEST00000001", "secretAccessKey": "x", "expiresAt": "soon"}]}',
        /expiresAt/,
      ],
    ] as const) {
      assert.throws(() => parseCredentials(text, CLOUDTRAIL_OPERATIONS), message);
    }
  });
});

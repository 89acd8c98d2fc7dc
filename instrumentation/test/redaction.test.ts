import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_REDACTED_KEYS, Redactor } from '../src/redaction.js';
import type { RedactedDocument } from '../src/redaction.js';

const R = '[REDACTED]';

/** The recorded document parsed back, failing the test when it was omitted or absent. */
function parsed(document: RedactedDocument | undefined): unknown {
  assert.ok(document !== undefined, 'expected a document');
  assert.ok('json' in document, `expected JSON, got ${JSON.stringify(document)}`);
  return JSON.parse(document.json) as unknown;
}

function json(document: RedactedDocument | undefined): string {
  assert.ok(document !== undefined && 'json' in document, `expected JSON, got ${JSON.stringify(document)}`);
  return document.json;
}

const redactor = new Redactor(undefined);

/** Whether the defaults redact the value under this key. */
function redacts(r: Redactor, key: string): boolean {
  return (parsed(r.document({ [key]: 'value' })) as Record<string, unknown>)[key] === R;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

describe('Redactor: default key patterns', () => {
  it('redacts secrets in a realistic nested body, arrays of objects and headers of any case', () => {
    const body = {
      user: {
        userName: 'alice',
        email: 'alice@example.com',
        password: 'hunter2',
        password_confirmation: 'hunter2',
        profile: { displayName: 'Alice', ssn: '078-05-1120' },
      },
      payment: { cardNumber: '4111111111111111', cvv: '123', expiry: '12/30', amount: 12.5 },
      credentials: [
        { type: 'oauth', access_token: 'at-1', refreshToken: 'rt-1', id_token: 'it-1', expires_in: 3600 },
        { type: 'apikey', apiKey: 'k-2', apiKeyId: 'AKID2' },
      ],
      headers: {
        Authorization: 'Bearer abc',
        'proxy-authorization': 'Basic xyz',
        COOKIE: 'sid=1',
        'Set-Cookie': ['a=1', 'b=2'],
        'X-API-Key': 'k-3',
        'x-csrf-token': 'c-1',
        'content-type': 'application/json',
        'user-agent': 'curl/8',
      },
      client_secret: { nested: 'object values are redacted whole' },
      privateKey: '-----BEGIN PRIVATE KEY-----',
      sessionId: 's-1',
      JSESSIONID: 's-2',
    };
    assert.deepEqual(parsed(redactor.document(body)), {
      user: {
        userName: 'alice',
        email: 'alice@example.com',
        password: R,
        password_confirmation: R,
        profile: { displayName: 'Alice', ssn: R },
      },
      payment: { cardNumber: R, cvv: R, expiry: '12/30', amount: 12.5 },
      credentials: [
        { type: 'oauth', access_token: R, refreshToken: R, id_token: R, expires_in: 3600 },
        { type: 'apikey', apiKey: R, apiKeyId: 'AKID2' },
      ],
      headers: {
        Authorization: R,
        'proxy-authorization': R,
        COOKIE: R,
        'Set-Cookie': R,
        'X-API-Key': R,
        'x-csrf-token': R,
        'content-type': 'application/json',
        'user-agent': 'curl/8',
      },
      client_secret: R,
      privateKey: R,
      sessionId: R,
      JSESSIONID: R,
    });
  });

  it('matches every listed kind of secret key, in any case and separator style', () => {
    const secrets = [
      'password',
      'Password',
      'PASSWORD',
      'newPassword',
      'user_password',
      'passwd',
      'pwd',
      'passphrase',
      'pass',
      'DB_PASS',
      'dbPass',
      'smtp.pass',
      'secret',
      'clientSecret',
      'client_secret',
      'secretAccessKey',
      'x-webhook-secret',
      'token',
      'Token',
      'accessToken',
      'access_token',
      'refreshToken',
      'refresh_token',
      'id_token',
      'X-Amz-Security-Token',
      'tokens',
      'authorization',
      'Authorization',
      'AUTHORIZATION',
      'authorisation',
      'cookie',
      'Cookie',
      'set-cookie',
      'cookies',
      'apiKey',
      'api_key',
      'api-key',
      'apikey',
      'x-api-key',
      'X-API-KEY',
      'apiKeys',
      'privateKey',
      'private_key',
      'PRIVATE-KEY',
      'creditCard',
      'credit_card_number',
      'cardNumber',
      'card_number',
      'cardNum',
      'cardNo',
      'cc_number',
      'ccNum',
      'cvv',
      'CVV2',
      'cvc',
      'cardCvc',
      'ssn',
      'SSN',
      'Ssn',
      'user_ssn',
      'USER_SSN',
      'userSsn',
      'customerSSN',
      'ssnLast4',
      'socialSecurityNumber',
      'sessionId',
      'session_id',
      'SessionID',
      'x-session-id',
      'JSESSIONID',
      'PHPSESSID',
    ];
    const missed = secrets.filter((key) => !redacts(redactor, key));
    assert.deepEqual(missed, []);
  });

  it('leaves near misses alone', () => {
    const harmless = [
      'userName',
      'username',
      'user',
      'author',
      'authorName',
      'authorId',
      'authorized',
      'authority',
      'tokenizer',
      'tokenCount',
      'token_type',
      'max_tokens',
      'maxTokens',
      'promptTokenCount',
      'total_tokens',
      'passport',
      'passenger',
      'bypass',
      'compass',
      'className',
      'businessName',
      'addressName',
      'CLASSNAME',
      'cookieConsent',
      'cookieDomain',
      'accessKeyId',
      'apiKeyId',
      'api_key_id',
      'apiKeyName',
      'secretId',
      'secret_name',
      'secretArn',
      'private_key_id',
      'sessionIdleTimeout',
      'session',
      'cardNotes',
      'cardholderName',
      'accountNumber',
      'description',
      'id',
      'email',
    ];
    const flagged = harmless.filter((key) => redacts(redactor, key));
    assert.deepEqual(flagged, []);
  });

  it('documents the deliberate over-redaction of harmless keys that share a secret word', () => {
    for (const key of ['passwordPolicy', 'authorizationType', 'creditCardBrand', 'nextToken']) {
      assert.equal(redacts(redactor, key), true, key);
    }
  });

  it('exports the defaults frozen', () => {
    assert.ok(Object.isFrozen(DEFAULT_REDACTED_KEYS));
    assert.ok(DEFAULT_REDACTED_KEYS.every((pattern) => pattern instanceof RegExp && !pattern.global));
  });

  it('does not redact array indices or values: only keys decide', () => {
    assert.deepEqual(parsed(redactor.document(['password', { note: 'my password is hunter2' }])), [
      'password',
      { note: 'my password is hunter2' },
    ]);
  });
});

describe('Redactor: configured keys', () => {
  it('adds strings (substring, case-insensitive) and RegExps (tested as given) to the defaults', () => {
    const r = new Redactor({ keys: ['iban', /^x-internal-/, /^Otp$/] });
    assert.deepEqual(
      parsed(
        r.document({
          IBAN: 'DE89',
          payoutIban: 'DE89',
          'x-internal-route': 'r',
          'X-Internal-Route': 'kept: the RegExp has no i flag',
          Otp: '123456',
          otp: 'kept',
          password: 'still redacted',
          name: 'kept',
        }),
      ),
      {
        IBAN: R,
        payoutIban: R,
        'x-internal-route': R,
        'X-Internal-Route': 'kept: the RegExp has no i flag',
        Otp: R,
        otp: 'kept',
        password: R,
        name: 'kept',
      },
    );
  });

  it('escapes RegExp syntax in string keys and ignores empty strings', () => {
    const r = new Redactor({ keys: ['a.b', '', 'x+'] });
    assert.deepEqual(parsed(r.document({ 'a.b': 1, axb: 2, 'x+y': 3, xxy: 4, other: 5 })), {
      'a.b': R,
      axb: 2,
      'x+y': R,
      xxy: 4,
      other: 5,
    });
  });

  it('gives a global or sticky RegExp no state between keys', () => {
    const r = new Redactor({ keys: [/pin/gy] });
    assert.deepEqual(parsed(r.document({ pin: 1, pin2: [{ pin: 2 }, { pin: 3 }] })), { pin: R, pin2: R });
  });

  it('replaceDefaultKeys keeps only the configured patterns', () => {
    const r = new Redactor({ keys: ['pin'], replaceDefaultKeys: true });
    assert.deepEqual(parsed(r.document({ password: 'p', token: 't', pin: '1234' })), {
      password: 'p',
      token: 't',
      pin: R,
    });
    const none = new Redactor({ replaceDefaultKeys: true });
    assert.deepEqual(parsed(none.document({ password: 'p' })), { password: 'p' });
  });

  it('redacts a value of any type without reading it', () => {
    let reads = 0;
    const body = {
      token: { nested: { deep: 'x' } },
      password: ['a', 'b'],
      secret: null,
      apiKey: 42,
      get authorization(): string {
        reads++;
        throw new Error('must not be read');
      },
    };
    assert.deepEqual(parsed(redactor.document(body)), {
      token: R,
      password: R,
      secret: R,
      apiKey: R,
      authorization: R,
    });
    assert.equal(reads, 0);
  });

  it('falls back to the defaults for invalid limits', () => {
    const r = new Redactor({ maxValueBytes: -1, maxDocumentBytes: Number.NaN });
    assert.equal(json(r.document('x'.repeat(4096))).length, 4096 + 2);
    // 30 values of 4 000 bytes: over the default 100 KiB document cap.
    const result = r.document(Array.from({ length: 30 }, () => 'x'.repeat(4000)));
    assert.deepEqual(result, { omittedBytes: 30 * 4002 + 29 + 2 });
  });
});

describe('Redactor: value truncation', () => {
  const SUFFIX = '…[truncated]'; // 14 bytes of UTF-8
  const small = new Redactor({ maxValueBytes: 20 });

  it('truncates at the default 4096 bytes, the marker included', () => {
    const text = json(redactor.document({ body: 'x'.repeat(5000) }));
    const value = (JSON.parse(text) as { body: string }).body;
    assert.equal(value, 'x'.repeat(4096 - 14) + SUFFIX);
    assert.equal(Buffer.byteLength(value), 4096);
    assert.deepEqual(parsed(redactor.document({ body: 'x'.repeat(4096) })), { body: 'x'.repeat(4096) });
  });

  it('keeps a value of exactly the limit, counting UTF-8 bytes rather than characters', () => {
    // 5 + 5 × 3 = 20 bytes in 10 characters.
    assert.deepEqual(parsed(small.document({ v: 'abcde€€€€€' })), { v: 'abcde€€€€€' });
    // 21 bytes: cut to 6 bytes + marker; the next "€" (3 bytes) no longer fits.
    assert.deepEqual(parsed(small.document({ v: 'abcde€€€€€x' })), { v: `abcde${SUFFIX}` });
  });

  it('cuts on a character boundary: 2-byte, 3-byte and 4-byte (surrogate pair) characters', () => {
    // 20 bytes of limit - 14 of marker = 6 bytes of text.
    const cases: [string, string][] = [
      [`abcd${'é'.repeat(9)}`, 'abcdé'], // 2-byte character fits exactly
      [`abcde${'é'.repeat(9)}`, 'abcde'], // the cut would split "é"
      [`abcd${'€'.repeat(8)}`, 'abcd'], // the cut would split "€"
      [`abc${'😀'.repeat(5)}`, 'abc'], // the cut would split the surrogate pair's 4 bytes
      [`ab${'😀'.repeat(6)}`, 'ab😀'], // a surrogate pair fits exactly
      [`a${'😀'.repeat(6)}`, 'a😀'],
    ];
    for (const [input, kept] of cases) {
      assert.deepEqual(parsed(small.document({ v: input })), { v: kept + SUFFIX }, input);
    }
    const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
    for (let length = 1; length < 40; length++) {
      const value = (parsed(small.document({ v: '😀é€a'.repeat(length) })) as { v: string }).v;
      assert.ok(Buffer.byteLength(value) <= 20, value);
      assert.ok(!loneSurrogate.test(value), value);
      assert.ok(!value.includes('\uFFFD'), value);
    }
  });

  it('truncates strings wherever they are: arrays, Map values, top level, bigints', () => {
    const long = 'y'.repeat(30);
    const cut = `yyyyyy${SUFFIX}`;
    assert.deepEqual(parsed(small.document([long, { a: [long] }, new Map([['m', long]])])), [
      cut,
      { a: [cut] },
      { m: cut },
    ]);
    assert.equal(parsed(small.document(long)), cut);
    assert.equal(parsed(small.document(12345678901234567890123n)), `123456${SUFFIX}`);
  });

  it('never truncates keys', () => {
    const key = 'k'.repeat(50);
    assert.deepEqual(parsed(small.document({ [key]: 1 })), { [key]: 1 });
  });
});

describe('Redactor: document size cap', () => {
  it('omits a document above the cap with its exact serialised UTF-8 size', () => {
    const r = new Redactor({ maxDocumentBytes: 100 });
    // 60 two-byte characters: 68 UTF-16 units of JSON, but 128 bytes.
    const doc = { s: 'é'.repeat(60) };
    assert.equal(JSON.stringify(doc).length, 68);
    const size = Buffer.byteLength(JSON.stringify(doc));
    assert.equal(size, 128);
    assert.deepEqual(r.document(doc), { omittedBytes: size });
  });

  it('keeps a document of exactly the cap and omits one byte more', () => {
    const r = new Redactor({ maxDocumentBytes: 100 });
    const atCap = { s: 'x'.repeat(100 - '{"s":""}'.length) };
    assert.equal(Buffer.byteLength(JSON.stringify(atCap)), 100);
    assert.deepEqual(r.document(atCap), { json: JSON.stringify(atCap) });
    const over = { s: `${atCap.s}x` };
    assert.deepEqual(r.document(over), { omittedBytes: 101 });
  });

  it('measures the redacted document, not the input', () => {
    const r = new Redactor({ maxDocumentBytes: 40 });
    const doc = { password: 'p'.repeat(1000), name: 'n' };
    assert.deepEqual(r.document(doc), { json: `{"password":"${R}","name":"n"}` });
  });

  it('applies the default 100 KiB cap and counts past it exactly, including truncated values', () => {
    const items = Array.from({ length: 300 }, (_, i) => ({
      id: i,
      label: `élément ${i} ✓`,
      token: 'secret-token',
      blob: 'z'.repeat(5000),
    }));
    const expected = items.map((item) => ({
      id: item.id,
      label: item.label,
      token: R,
      blob: `${'z'.repeat(4082)}…[truncated]`,
    }));
    const size = Buffer.byteLength(JSON.stringify({ items: expected }));
    assert.ok(size > 100 * 1024);
    assert.deepEqual(redactor.document({ items }), { omittedBytes: size });
  });

  it('stops measuring at 16 MiB and reports that lower bound', () => {
    const r = new Redactor({ maxDocumentBytes: 100 });
    const chunk = 'w'.repeat(4000);
    const huge = Array.from({ length: 5000 }, () => chunk);
    const size = Buffer.byteLength(JSON.stringify(huge));
    const result = r.document(huge);
    assert.ok(result !== undefined && 'omittedBytes' in result);
    assert.ok(result.omittedBytes > 16 * 1024 * 1024, String(result.omittedBytes));
    assert.ok(result.omittedBytes < size);
  });

  it('bounds the walk of a densely cyclic graph, which expands without limit by ancestry', () => {
    const nodes = Array.from({ length: 12 }, (_, id) => ({ id, links: [] as unknown[] }));
    for (const node of nodes) node.links.push(...nodes.filter((other) => other !== node));
    const result = redactor.document(nodes);
    assert.ok(result !== undefined && 'omittedBytes' in result);
    assert.ok(result.omittedBytes > 16 * 1024 * 1024);
  });

  it('applies the cap to a top-level string too', () => {
    const r = new Redactor({ maxDocumentBytes: 10, maxValueBytes: 1000 });
    assert.deepEqual(r.document('12345678'), { json: '"12345678"' });
    assert.deepEqual(r.document('123456789'), { omittedBytes: 11 });
  });
});

describe('Redactor: structure', () => {
  it('writes a cycle as [Circular], and an object shared by two branches twice', () => {
    const node: Record<string, unknown> = { name: 'root' };
    node.self = node;
    node.children = [{ name: 'child', parent: node }];
    const shared = { id: 7 };
    assert.deepEqual(parsed(redactor.document({ node, createdBy: shared, updatedBy: shared })), {
      node: { name: 'root', self: '[Circular]', children: [{ name: 'child', parent: '[Circular]' }] },
      createdBy: { id: 7 },
      updatedBy: { id: 7 },
    });
    const list: unknown[] = [1];
    list.push(list);
    assert.deepEqual(parsed(redactor.document(list)), [1, '[Circular]']);
    const map = new Map<string, unknown>();
    map.set('me', map);
    assert.deepEqual(parsed(redactor.document(map)), { me: '[Circular]' });
  });

  it('caps nesting at 16 containers, deeper ones become [Truncated]', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 30; i++) deep = i % 2 === 0 ? { next: deep } : [deep];
    let node = parsed(redactor.document(deep));
    let containers = 0;
    while (typeof node === 'object' && node !== null) {
      containers++;
      node = Array.isArray(node) ? (node[0] as unknown) : (node as { next: unknown }).next;
    }
    assert.equal(containers, 16);
    assert.equal(node, '[Truncated]');

    // Primitives at the deepest level are kept.
    let sixteen: unknown = 'leaf';
    for (let i = 0; i < 16; i++) sixteen = { next: sixteen };
    assert.equal(json(redactor.document(sixteen)), JSON.stringify(sixteen));
  });

  it('never mutates the input, even a frozen one', () => {
    const input = {
      user: { name: 'a', password: 'p', tags: ['x', 'y'.repeat(5000)] },
      list: [{ token: 't' }],
      when: new Date(0),
    };
    const before = structuredClone(input);
    deepFreeze(input);
    const output = parsed(redactor.document(input));
    assert.deepEqual(input, before);
    assert.deepEqual(output, {
      user: { name: 'a', password: R, tags: ['x', `${'y'.repeat(4082)}…[truncated]`] },
      list: [{ token: R }],
      when: '1970-01-01T00:00:00.000Z',
    });
  });

  it('produces exactly what JSON.stringify produces for plain data without secrets', () => {
    const data = {
      text: 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f',
      unicode: 'é € 😀 \u2028 \u2029',
      lone: 'a\ud800b\udc00c',
      numbers: [0, -0, 1.5, -1e-7, 1e21, Number.MAX_SAFE_INTEGER, NaN, Infinity, -Infinity],
      flags: [true, false, null],
      empty: { obj: {}, arr: [], str: '' },
      'key "with" \\ escapes\n': 1,
      ключ: 'значение',
      [`long${'k'.repeat(100)}`]: 'x'.repeat(100),
    };
    assert.equal(json(redactor.document(data)), JSON.stringify(data));
  });
});

describe('Redactor: special types', () => {
  it('writes binary data as its size, never its bytes', () => {
    const view = new DataView(new ArrayBuffer(8), 2, 4);
    assert.deepEqual(
      parsed(
        redactor.document({
          buffer: Buffer.from('hello'),
          bytes: new Uint8Array(3),
          floats: new Float64Array(2),
          arrayBuffer: new ArrayBuffer(10),
          shared: new SharedArrayBuffer(4),
          view,
        }),
      ),
      {
        buffer: '[Binary 5 bytes]',
        bytes: '[Binary 3 bytes]',
        floats: '[Binary 16 bytes]',
        arrayBuffer: '[Binary 10 bytes]',
        shared: '[Binary 4 bytes]',
        view: '[Binary 4 bytes]',
      },
    );
    assert.equal(parsed(redactor.document(Buffer.alloc(2))), '[Binary 2 bytes]');
  });

  it('writes dates as ISO strings (invalid ones as null) and bigints as decimal strings', () => {
    assert.deepEqual(
      parsed(redactor.document({ at: new Date('2024-05-06T07:08:09.010Z'), bad: new Date(Number.NaN) })),
      { at: '2024-05-06T07:08:09.010Z', bad: null },
    );
    assert.deepEqual(parsed(redactor.document({ big: 2n ** 70n, neg: -5n })), {
      big: '1180591620717411303424',
      neg: '-5',
    });
  });

  it('drops functions, symbols and undefined in objects and writes null for them in arrays', () => {
    const sym = Symbol('s');
    const sparse: number[] = [1];
    sparse[2] = 3;
    assert.deepEqual(
      parsed(
        redactor.document({
          fn: () => 1,
          sym,
          undef: undefined,
          [sym]: 'symbol keys are ignored',
          list: [() => 1, sym, undefined, 1],
          sparse,
          kept: 'yes',
        }),
      ),
      { list: [null, null, null, 1], sparse: [1, null, 3], kept: 'yes' },
    );
  });

  it('writes a Map as an object (keys as strings, secrets redacted) and a Set as an array', () => {
    const map = new Map<unknown, unknown>([
      ['name', 'a'],
      [1, 'one'],
      [true, { Password: 'p' }],
      ['apiKey', 'k'],
      [{}, 'object key'],
      [Object.create(null), 'a key without a string form is left out'],
      ['fn', () => 1],
    ]);
    assert.deepEqual(parsed(redactor.document({ map, set: new Set([1, 'a', { token: 't' }]) })), {
      map: { name: 'a', 1: 'one', true: { Password: R }, apiKey: R, '[object Object]': 'object key' },
      set: [1, 'a', { token: R }],
    });
  });

  it('writes a class instance as its own enumerable properties', () => {
    class Account {
      readonly id = 'acc-1';
      readonly password = 'p';
      #hidden = 'private field';
      get computed(): string {
        return this.#hidden;
      }
      method(): number {
        return 1;
      }
    }
    class Admin extends Account {
      readonly level = 3;
    }
    assert.deepEqual(parsed(redactor.document({ account: new Admin() })), {
      account: { id: 'acc-1', password: R, level: 3 },
    });
    assert.deepEqual(parsed(redactor.document({ error: Object.assign(new Error('boom'), { code: 'E1' }) })), {
      error: { code: 'E1' },
    });
  });

  it('unwraps boxed primitives as JSON.stringify does', () => {
    const boxed = { s: Object('text') as unknown, n: Object(4) as unknown, b: Object(false) as unknown };
    assert.equal(json(redactor.document(boxed)), '{"s":"text","n":4,"b":false}');
  });

  it('honours toJSON with the JSON.stringify key argument, then redacts and caps its result', () => {
    const keys: string[] = [];
    const value = {
      toJSON(key: string): unknown {
        keys.push(key);
        return { id: 1, password: 'from toJSON', note: 'z'.repeat(5000) };
      },
    };
    assert.deepEqual(parsed(redactor.document({ field: value, list: [value] })), {
      field: { id: 1, password: R, note: `${'z'.repeat(4082)}…[truncated]` },
      list: [{ id: 1, password: R, note: `${'z'.repeat(4082)}…[truncated]` }],
    });
    assert.deepEqual(keys, ['field', '0']);
    assert.deepEqual(parsed(redactor.document(value)), {
      id: 1,
      password: R,
      note: `${'z'.repeat(4082)}…[truncated]`,
    });
    assert.deepEqual(keys, ['field', '0', '']);
    // toJSON is applied once, like JSON.stringify: a result with its own toJSON is walked as is.
    const inner = { toJSON: () => 'inner', a: 1 };
    assert.deepEqual(parsed(redactor.document({ outer: { toJSON: () => inner } })), { outer: { a: 1 } });
    assert.equal(redactor.document({ toJSON: () => undefined }), undefined);
    assert.deepEqual(parsed(redactor.document({ u: { toJSON: () => undefined }, v: 1 })), { v: 1 });
  });
});

describe('Redactor: hostile input never throws', () => {
  it('writes a throwing getter, toJSON or proxy as [Unreadable]', () => {
    const getter = {
      ok: 1,
      get broken(): string {
        throw new Error('getter');
      },
    };
    const badToJSON = {
      toJSON(): never {
        throw new Error('toJSON');
      },
    };
    const badProxy = new Proxy(
      {},
      {
        ownKeys(): never {
          throw new Error('ownKeys');
        },
      },
    );
    const badGetProxy = new Proxy(
      { a: 1 },
      {
        get(): never {
          throw new Error('get');
        },
      },
    );
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const badMapProxy = new Proxy(new Map([['a', 1]]), {});
    assert.deepEqual(
      parsed(
        redactor.document({
          getter,
          badToJSON,
          badProxy,
          badGetProxy,
          revoked: revoked.proxy,
          badMapProxy,
          list: [getter],
          after: 'still written',
        }),
      ),
      {
        getter: { ok: 1, broken: '[Unreadable]' },
        badToJSON: '[Unreadable]',
        badProxy: '[Unreadable]',
        badGetProxy: '[Unreadable]',
        revoked: '[Unreadable]',
        badMapProxy: '[Unreadable]',
        list: [{ ok: 1, broken: '[Unreadable]' }],
        after: 'still written',
      },
    );
    assert.equal(parsed(redactor.document(badToJSON)), '[Unreadable]');
    assert.deepEqual(parsed(redactor.document(badGetProxy)), '[Unreadable]');
  });

  it('handles array-like proxies whose reads throw', () => {
    const array = new Proxy([1, 2], {
      get(target, property, receiver): unknown {
        if (property === '1') throw new Error('index');
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    assert.deepEqual(parsed(redactor.document({ array })), { array: [1, '[Unreadable]'] });
  });

  it('is reentrant: a getter may record another document meanwhile', () => {
    let inner: RedactedDocument | undefined;
    const body = {
      a: 1,
      get b(): number {
        inner = redactor.document({ token: 't', c: 2 });
        return 3;
      },
    };
    assert.deepEqual(parsed(redactor.document(body)), { a: 1, b: 3 });
    assert.deepEqual(parsed(inner), { token: R, c: 2 });
  });
});

describe('Redactor: top-level values', () => {
  it('records primitives as JSON', () => {
    assert.deepEqual(redactor.document('plain text body'), { json: '"plain text body"' });
    assert.deepEqual(redactor.document(42), { json: '42' });
    assert.deepEqual(redactor.document(false), { json: 'false' });
    assert.deepEqual(redactor.document(Number.NaN), { json: 'null' });
    assert.deepEqual(redactor.document(7n), { json: '"7"' });
    assert.deepEqual(redactor.document(''), { json: '""' });
    assert.deepEqual(redactor.document([]), { json: '[]' });
    assert.deepEqual(redactor.document({}), { json: '{}' });
  });

  it('records nothing for undefined, null, functions and symbols', () => {
    assert.equal(redactor.document(undefined), undefined);
    assert.equal(redactor.document(null), undefined);
    assert.equal(
      redactor.document(() => 1),
      undefined,
    );
    assert.equal(redactor.document(Symbol('s')), undefined);
    assert.equal(redactor.document({ toJSON: () => null }), undefined);
  });
});

describe('Redactor: card numbers by value', () => {
  it('redacts a Luhn-valid card number under any key, spaced, dashed or bare, and as a number', () => {
    assert.deepEqual(
      parsed(
        redactor.document({
          card: '4111 1111 1111 1111',
          payment: { pan: '5500-0000-0000-0004' },
          list: ['378282246310005'],
          asNumber: 4111111111111111,
        }),
      ),
      { card: R, payment: { pan: R }, list: [R], asNumber: R },
    );
  });

  it('redacts card numbers inside free text and keeps the rest of the text', () => {
    assert.deepEqual(
      parsed(redactor.document({ note: 'paid with 4111-1111-1111-1111, then 5500 0000 0000 0004 too' })),
      { note: `paid with ${R}, then ${R} too` },
    );
  });

  it('keeps digit runs that fail the Luhn check or are too short or too long for a card', () => {
    const kept = {
      orderId: '4111 1111 1111 1112',
      phone: '+44 20 7946 0958',
      isbn: '978-3-16-148410-0',
      twelve: '411111111116',
      twenty: '41111111111111111111',
      count: 1234567890123456,
      date: '2026-12-02',
    };
    assert.deepEqual(parsed(redactor.document(kept)), kept);
  });
});

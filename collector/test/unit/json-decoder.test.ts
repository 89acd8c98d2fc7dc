import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { decodeJsonExportRequest } from '../../src/otlp/json-decoder.js';
import type { AttributeValue, DecodedSpan } from '../../src/otlp/decoded-span.js';
import { OtlpDecodeError, SpanKind, StatusCode } from '../../src/otlp/decoded-span.js';

const SPAN_PATH = '$.resourceSpans[0].scopeSpans[0].spans[0]';

/** A RegExp matching `text` literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decode(body: unknown): DecodedSpan[] {
  return decodeJsonExportRequest(Buffer.from(JSON.stringify(body)));
}

/** An ExportTraceServiceRequest with one ResourceSpans and one ScopeSpans around `spans`. */
function request(spans: unknown[], resourceAttributes: unknown[] = []): unknown {
  return {
    resourceSpans: [
      { resource: { attributes: resourceAttributes }, scopeSpans: [{ scope: { name: 's' }, spans }] },
    ],
  };
}

function only(spans: DecodedSpan[]): DecodedSpan {
  assert.equal(spans.length, 1);
  return spans[0]!;
}

/** The attributes of the one span of a request whose span carries `attributes`. */
function attributesOf(...attributes: unknown[]): ReadonlyMap<string, AttributeValue> {
  return only(decode(request([{ attributes }]))).attributes;
}

function valueOf(anyValue: unknown): AttributeValue | undefined {
  return attributesOf({ key: 'k', value: anyValue }).get('k');
}

/** kvlist values decode to null-prototype objects, and deepStrictEqual compares prototypes. */
function dict(entries: Record<string, AttributeValue>): Record<string, AttributeValue> {
  return Object.assign(Object.create(null) as Record<string, AttributeValue>, entries);
}

/** `body` is sent as is when it is a string, as JSON otherwise. */
function assertDecodeError(body: unknown, message: RegExp): void {
  const buffer = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  assert.throws(
    () => decodeJsonExportRequest(buffer),
    (error: unknown) => {
      assert.ok(error instanceof OtlpDecodeError, `expected OtlpDecodeError, got ${String(error)}`);
      assert.equal(error.name, 'OtlpDecodeError');
      assert.match(error.message, message);
      return true;
    },
  );
}

function nestedArrays(levels: number): unknown {
  let value: unknown = { intValue: 1 };
  for (let i = 0; i < levels; i++) value = { arrayValue: { values: [value] } };
  return value;
}

function nestedKvlists(levels: number): unknown {
  let value: unknown = { intValue: 1 };
  for (let i = 0; i < levels; i++) value = { kvlistValue: { values: [{ key: 'k', value }] } };
  return value;
}

describe('OTLP/JSON decoder', () => {
  describe('spans', () => {
    it('decodes every span field, lowercasing the hex ids', () => {
      const spans = decode({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'iam' } }] },
            scopeSpans: [
              {
                scope: { name: 'my-scope', version: '1.0' },
                spans: [
                  {
                    traceId: '4BF92F3577B34DA6A3CE929D0E0E4736',
                    spanId: '00F067AA0BA902B7',
                    parentSpanId: 'AAAAAAAAAAAAAAAA',
                    name: 'POST /users',
                    kind: 2,
                    startTimeUnixNano: '1700000000000000000',
                    endTimeUnixNano: '1700000000123456789',
                    attributes: [{ key: 'http.request.method', value: { stringValue: 'POST' } }],
                    status: { code: 2, message: 'boom' },
                  },
                ],
              },
            ],
          },
        ],
      });
      const span = only(spans);
      assert.equal(span.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(span.spanId, '00f067aa0ba902b7');
      assert.equal(span.parentSpanId, 'aaaaaaaaaaaaaaaa');
      assert.equal(span.name, 'POST /users');
      assert.equal(span.kind, SpanKind.SERVER);
      assert.equal(span.startTimeUnixNano, 1_700_000_000_000_000_000n);
      assert.equal(span.endTimeUnixNano, 1_700_000_000_123_456_789n);
      assert.deepEqual([...span.attributes], [['http.request.method', 'POST']]);
      assert.equal(span.statusCode, StatusCode.ERROR);
      assert.equal(span.statusMessage, 'boom');
      assert.deepEqual([...span.resource], [['service.name', 'iam']]);
      assert.equal(span.scopeName, 'my-scope');
    });

    it('defaults absent fields to empty values', () => {
      const span = only(decode(request([{}])));
      assert.equal(span.traceId, '');
      assert.equal(span.spanId, '');
      assert.equal(span.parentSpanId, '');
      assert.equal(span.name, '');
      assert.equal(span.kind, 0);
      assert.equal(span.startTimeUnixNano, 0n);
      assert.equal(span.endTimeUnixNano, 0n);
      assert.equal(span.attributes.size, 0);
      assert.equal(span.statusCode, StatusCode.UNSET);
      assert.equal(span.statusMessage, '');
      assert.equal(span.resource.size, 0);
      assert.equal(only(decode({ resourceSpans: [{ scopeSpans: [{ spans: [{}] }] }] })).scopeName, '');
    });

    it('keeps nanosecond times beyond 2^53 exact when sent as strings', () => {
      const span = only(
        decode(
          request([{ startTimeUnixNano: '1700000000000000001', endTimeUnixNano: '18446744073709551615' }]),
        ),
      );
      assert.equal(span.startTimeUnixNano, 1_700_000_000_000_000_001n);
      assert.equal(span.endTimeUnixNano, 18_446_744_073_709_551_615n);
    });

    it('accepts times sent as JSON numbers', () => {
      const span = only(decode(request([{ startTimeUnixNano: 1_000_000, endTimeUnixNano: 2_000_000 }])));
      assert.equal(span.startTimeUnixNano, 1_000_000n);
      assert.equal(span.endTimeUnixNano, 2_000_000n);
    });

    it('treats null like an absent field', () => {
      const span = only(decode(request([{ traceId: null, kind: null, attributes: null, status: null }])));
      assert.equal(span.traceId, '');
      assert.equal(span.kind, 0);
      assert.equal(span.attributes.size, 0);
      assert.deepEqual(decode({ resourceSpans: null }), []);
    });

    it('returns no spans for an empty request', () => {
      assert.deepEqual(decode({}), []);
      assert.deepEqual(decode({ resourceSpans: [] }), []);
      assert.deepEqual(decode({ resourceSpans: [{ scopeSpans: [{ spans: [] }] }] }), []);
    });

    it('decodes every span of every ResourceSpans and ScopeSpans, in order, with its own resource and scope', () => {
      const spans = decode({
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'a' } }] },
            scopeSpans: [
              { scope: { name: 's1' }, spans: [{ name: '1' }, { name: '2' }] },
              { scope: { name: 's2' }, spans: [{ name: '3' }] },
            ],
          },
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'b' } }] },
            scopeSpans: [{ spans: [{ name: '4' }] }],
          },
        ],
      });
      assert.deepEqual(
        spans.map((span) => [span.name, span.scopeName, span.resource.get('service.name')]),
        [
          ['1', 's1', 'a'],
          ['2', 's1', 'a'],
          ['3', 's2', 'a'],
          ['4', '', 'b'],
        ],
      );
      assert.equal(spans[0]!.resource, spans[2]!.resource, 'one resource map shared within a ResourceSpans');
      assert.notEqual(spans[0]!.resource, spans[3]!.resource);
    });

    it('ignores unknown fields at every level', () => {
      const spans = decode({
        futureField: 1,
        resourceSpans: [
          {
            schemaUrl: 'https://opentelemetry.io/schemas/1.21.0',
            resource: { attributes: [], droppedAttributesCount: 3, entityRefs: [{}] },
            unknown: { deeply: ['x'] },
            scopeSpans: [
              {
                scope: { name: 's', version: '1', attributes: [], droppedAttributesCount: 0 },
                schemaUrl: '',
                spans: [
                  {
                    name: 'n',
                    traceState: 'a=b',
                    flags: 257,
                    events: [{ name: 'e', timeUnixNano: '1' }],
                    links: [{ traceId: 'x' }],
                    droppedAttributesCount: 1,
                    droppedEventsCount: 2,
                    droppedLinksCount: 3,
                    status: { code: 1, somethingNew: true },
                    attributes: [{ key: 'k', value: { stringValue: 'v', futureValue: 1 }, extra: true }],
                    aFieldFromTheFuture: { a: [1, 2] },
                  },
                ],
              },
            ],
          },
        ],
      });
      const span = only(spans);
      assert.equal(span.name, 'n');
      assert.equal(span.statusCode, StatusCode.OK);
      assert.equal(span.attributes.get('k'), 'v');
    });
  });

  describe('AnyValue', () => {
    it('decodes strings, including the empty string', () => {
      assert.equal(valueOf({ stringValue: 'hello ✓' }), 'hello ✓');
      assert.equal(valueOf({ stringValue: '' }), '');
    });

    it('decodes booleans', () => {
      assert.equal(valueOf({ boolValue: true }), true);
      assert.equal(valueOf({ boolValue: false }), false);
    });

    it('decodes int64 as numbers while they fit in 2^53', () => {
      assert.equal(valueOf({ intValue: 42 }), 42);
      assert.equal(valueOf({ intValue: '42' }), 42);
      assert.equal(valueOf({ intValue: '-7' }), -7);
      assert.equal(valueOf({ intValue: '0' }), 0);
      assert.equal(valueOf({ intValue: String(Number.MAX_SAFE_INTEGER) }), Number.MAX_SAFE_INTEGER);
    });

    it('keeps int64 beyond 2^53 as its exact decimal string', () => {
      assert.equal(valueOf({ intValue: '9007199254740993' }), '9007199254740993');
      assert.equal(valueOf({ intValue: '9223372036854775807' }), '9223372036854775807');
      assert.equal(valueOf({ intValue: '-9223372036854775808' }), '-9223372036854775808');
    });

    it('decodes doubles, with non-finite ones as the strings of the JSON mapping', () => {
      assert.equal(valueOf({ doubleValue: 0.5 }), 0.5);
      assert.equal(valueOf({ doubleValue: 3 }), 3);
      assert.equal(valueOf({ doubleValue: 'NaN' }), 'NaN');
      assert.equal(valueOf({ doubleValue: 'Infinity' }), 'Infinity');
      assert.equal(valueOf({ doubleValue: '-Infinity' }), '-Infinity');
    });

    it('keeps bytes as their base64 text', () => {
      assert.equal(valueOf({ bytesValue: 'AAEC/w==' }), 'AAEC/w==');
    });

    it('decodes arrays of mixed values, dropping elements with no value set', () => {
      assert.deepEqual(
        valueOf({
          arrayValue: {
            values: [{ stringValue: 'a' }, { intValue: '2' }, {}, { boolValue: false }, { doubleValue: 1.5 }],
          },
        }),
        ['a', 2, false, 1.5],
      );
      assert.deepEqual(valueOf({ arrayValue: {} }), []);
      assert.deepEqual(valueOf({ arrayValue: { values: [] } }), []);
    });

    it('decodes kvlists into objects, nested in arrays and kvlists', () => {
      assert.deepEqual(
        valueOf({
          kvlistValue: {
            values: [
              { key: 'name', value: { stringValue: 'alice' } },
              { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'x' }] } } },
              { key: 'inner', value: { kvlistValue: { values: [{ key: 'n', value: { intValue: 1 } }] } } },
              { key: 'unset' },
              { key: 'empty', value: {} },
            ],
          },
        }),
        dict({ name: 'alice', tags: ['x'], inner: dict({ n: 1 }) }),
      );
      assert.deepEqual(valueOf({ arrayValue: { values: [{ kvlistValue: { values: [] } }] } }), [dict({})]);
    });

    it('skips attributes whose value is absent, null or has no known field', () => {
      const attributes = attributesOf(
        { key: 'absent' },
        { key: 'null', value: null },
        { key: 'empty', value: {} },
        { key: 'unknown', value: { someFutureValue: 1 } },
        { key: 'kept', value: { stringValue: 'yes' } },
      );
      assert.deepEqual([...attributes.keys()], ['kept']);
    });

    it('lets the last value win for a repeated key', () => {
      const attributes = attributesOf(
        { key: 'k', value: { stringValue: 'first' } },
        { key: 'k', value: { intValue: 2 } },
      );
      assert.equal(attributes.get('k'), 2);
    });

    it(`accepts 8 nested arrays and 8 nested kvlists`, () => {
      let expected: AttributeValue = 1;
      for (let i = 0; i < 8; i++) expected = [expected];
      assert.deepEqual(valueOf(nestedArrays(8)), expected);
      expected = 1;
      for (let i = 0; i < 8; i++) expected = dict({ k: expected });
      assert.deepEqual(valueOf(nestedKvlists(8)), expected);
    });

    it('rejects nesting deeper than 8, naming the path', () => {
      assertDecodeError(
        request([{ attributes: [{ key: 'deep', value: nestedArrays(9) }] }]),
        new RegExp(
          `^${literal(SPAN_PATH)}\\.attributes\\[0\\]\\.value(\\.arrayValue\\.values\\[0\\])+ nests deeper than 8$`,
        ),
      );
      assertDecodeError(
        request([{ attributes: [{ key: 'deep', value: nestedKvlists(9) }] }]),
        /attributes\[0\]\.value\.kvlistValue\.values\[0\]\.value.* nests deeper than 8/,
      );
      assertDecodeError(
        request([], [{ key: 'deep', value: nestedArrays(9) }]),
        /^\$\.resourceSpans\[0\]\.resource/,
      );
    });

    it('rejects hostile nesting without exhausting the stack', () => {
      // Written as text: JSON.stringify itself would run out of stack on these.
      const levels = 3000;
      const arrays = '{"arrayValue":{"values":['.repeat(levels) + '{"intValue":1}' + ']}}'.repeat(levels);
      const kvlists =
        '{"kvlistValue":{"values":[{"key":"k","value":'.repeat(levels) +
        '{"intValue":1}' +
        '}]}}'.repeat(levels);
      for (const value of [arrays, kvlists]) {
        const body = `{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"deep","value":${value}}]}]}]}]}`;
        assertDecodeError(body, /deeper than 8/);
      }
    });

    it('keeps a "__proto__" kvlist key as an ordinary key without polluting Object.prototype', () => {
      const body =
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"kvlistValue":{"values":[' +
        '{"key":"__proto__","value":{"kvlistValue":{"values":[{"key":"polluted","value":{"boolValue":true}}]}}},' +
        '{"key":"constructor","value":{"stringValue":"c"}}' +
        ']}}}]}]}]}]}';
      const value = only(decodeJsonExportRequest(Buffer.from(body))).attributes.get('k') as Record<
        string,
        AttributeValue
      >;
      assert.ok(Object.hasOwn(value, '__proto__'), '__proto__ is an own key');
      assert.deepEqual(value['__proto__'], dict({ polluted: true }));
      assert.equal(value.constructor, 'c');
      assert.equal((value as { polluted?: unknown }).polluted, undefined);
      assert.equal(({} as { polluted?: unknown }).polluted, undefined);
      assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
      assert.deepEqual(Object.keys(value), ['__proto__', 'constructor']);
    });

    it('keeps "__proto__" as an ordinary attribute key', () => {
      const body =
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[' +
        '{"key":"__proto__","value":{"stringValue":"x"}}]}]}]}]}';
      const attributes = only(decodeJsonExportRequest(Buffer.from(body))).attributes;
      assert.equal(attributes.get('__proto__'), 'x');
      assert.equal(Object.hasOwn(Object.prototype, 'x'), false);
    });
  });

  describe('structural errors → OtlpDecodeError naming the path', () => {
    it('rejects a body that is not JSON', () => {
      assertDecodeError('{"resourceSpans": [', /^invalid JSON: /);
      assertDecodeError('', /^invalid JSON: /);
      assertDecodeError(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'), /^invalid JSON: /);
    });

    it('rejects a body that is not a JSON object', () => {
      for (const body of ['[]', 'null', '"text"', '42', 'true']) {
        assertDecodeError(body, /the body must be a JSON object/);
      }
    });

    it('rejects resourceSpans that is not an array', () => {
      assertDecodeError({ resourceSpans: {} }, /^\$\.resourceSpans must be an array$/);
      assertDecodeError({ resourceSpans: 'x' }, /^\$\.resourceSpans must be an array$/);
    });

    it('rejects a ResourceSpans, resource or ScopeSpans of the wrong type', () => {
      assertDecodeError({ resourceSpans: [1] }, /^\$\.resourceSpans\[0\] must be an object$/);
      assertDecodeError(
        { resourceSpans: [{ resource: [] }] },
        /^\$\.resourceSpans\[0\]\.resource must be an object$/,
      );
      assertDecodeError(
        { resourceSpans: [{}, { scopeSpans: 1 }] },
        /^\$\.resourceSpans\[1\]\.scopeSpans must be an array$/,
      );
      assertDecodeError(
        { resourceSpans: [{ scopeSpans: [null] }] },
        /^\$\.resourceSpans\[0\]\.scopeSpans\[0\] must be an object$/,
      );
      assertDecodeError(
        { resourceSpans: [{ scopeSpans: [{ scope: { name: 7 } }] }] },
        /^\$\.resourceSpans\[0\]\.scopeSpans\[0\]\.scope\.name must be a string$/,
      );
      assertDecodeError(
        { resourceSpans: [{ scopeSpans: [{ spans: {} }] }] },
        /^\$\.resourceSpans\[0\]\.scopeSpans\[0\]\.spans must be an array$/,
      );
    });

    it('rejects a span that is not an object', () => {
      for (const span of [42, 'span', [], true]) {
        assertDecodeError(request([span]), new RegExp(`^${literal(SPAN_PATH)} must be an object$`));
      }
      assertDecodeError(request([{}, 'x']), /spans\[1\] must be an object$/);
    });

    it('rejects ids and names that are not strings', () => {
      assertDecodeError(
        request([{ traceId: 1234 }]),
        new RegExp(`^${literal(`${SPAN_PATH}.traceId`)} must be a string$`),
      );
      assertDecodeError(request([{ spanId: ['ab'] }]), /spans\[0\]\.spanId must be a string$/);
      assertDecodeError(request([{ parentSpanId: {} }]), /spans\[0\]\.parentSpanId must be a string$/);
      assertDecodeError(request([{ name: false }]), /spans\[0\]\.name must be a string$/);
    });

    it('rejects a kind or status code that is not an integer', () => {
      assertDecodeError(request([{ kind: 'SPAN_KIND_SERVER' }]), /spans\[0\]\.kind must be an integer$/);
      assertDecodeError(request([{ kind: 1.5 }]), /spans\[0\]\.kind must be an integer$/);
      assertDecodeError(request([{ status: 'ok' }]), /spans\[0\]\.status must be an object$/);
      assertDecodeError(request([{ status: { code: '2' } }]), /spans\[0\]\.status\.code must be an integer$/);
      assertDecodeError(
        request([{ status: { message: 3 } }]),
        /spans\[0\]\.status\.message must be a string$/,
      );
    });

    it('rejects times that are not non-negative integers', () => {
      for (const time of ['-1', '1.5', 'abc', '', '123456789012345678901', -1, true, {}]) {
        assertDecodeError(
          request([{ endTimeUnixNano: time }]),
          /spans\[0\]\.endTimeUnixNano must be a non-negative/,
        );
      }
      assertDecodeError(request([{ startTimeUnixNano: 'soon' }]), /spans\[0\]\.startTimeUnixNano must be/);
    });

    it('rejects malformed attribute lists and values', () => {
      const at = (value: unknown): unknown => request([{ attributes: [{ key: 'k', value }] }]);
      assertDecodeError(request([{ attributes: {} }]), /spans\[0\]\.attributes must be an array$/);
      assertDecodeError(request([{ attributes: ['k'] }]), /spans\[0\]\.attributes\[0\] must be an object$/);
      assertDecodeError(
        request([{ attributes: [{ key: 1, value: {} }] }]),
        /attributes\[0\]\.key must be a string$/,
      );
      assertDecodeError(at('v'), /attributes\[0\]\.value must be an object$/);
      assertDecodeError(at({ stringValue: 1 }), /attributes\[0\]\.value\.stringValue must be a string$/);
      assertDecodeError(at({ boolValue: 'true' }), /attributes\[0\]\.value\.boolValue must be a boolean$/);
      assertDecodeError(at({ intValue: 1.5 }), /attributes\[0\]\.value\.intValue must be an integer$/);
      assertDecodeError(at({ intValue: '12a' }), /attributes\[0\]\.value\.intValue must be an integer$/);
      assertDecodeError(at({ intValue: '1e3' }), /\.intValue must be an integer$/);
      assertDecodeError(at({ doubleValue: '1.5' }), /attributes\[0\]\.value\.doubleValue must be a number$/);
      assertDecodeError(at({ bytesValue: 5 }), /attributes\[0\]\.value\.bytesValue must be base64$/);
      assertDecodeError(at({ arrayValue: [] }), /attributes\[0\]\.value\.arrayValue must be an object$/);
      assertDecodeError(
        at({ arrayValue: { values: 1 } }),
        /attributes\[0\]\.value\.arrayValue\.values must be an array$/,
      );
      assertDecodeError(
        at({ arrayValue: { values: [{ stringValue: 'ok' }, 'bad'] } }),
        /attributes\[0\]\.value\.arrayValue\.values\[1\] must be an object$/,
      );
      assertDecodeError(
        at({ kvlistValue: { values: [{ key: 'x', value: { intValue: 'NaN' } }] } }),
        /attributes\[0\]\.value\.kvlistValue\.values\[0\]\.value\.intValue must be an integer$/,
      );
    });

    it('names the resource path for errors in resource attributes', () => {
      assertDecodeError(
        request([], [{ key: 'service.name', value: { stringValue: 7 } }]),
        /^\$\.resourceSpans\[0\]\.resource\.attributes\[0\]\.value\.stringValue must be a string$/,
      );
    });

    it('refuses the whole request when any span is malformed', () => {
      assertDecodeError(request([{ name: 'good' }, { name: 'bad', traceId: 7 }]), /spans\[1\]\.traceId/);
    });
  });
});

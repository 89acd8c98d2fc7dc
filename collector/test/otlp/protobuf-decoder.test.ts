import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ROOT_CONTEXT, SpanKind as ApiSpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes as ApiAttributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  RandomIdGenerator,
  SimpleSpanProcessor,
  type IdGenerator,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { Writer } from 'protobufjs/minimal.js';

import {
  OtlpDecodeError,
  SpanKind,
  StatusCode,
  type AttributeValue,
  type DecodedSpan,
} from '../../src/otlp/decoded-span.js';
import { MAX_ANY_VALUE_DEPTH, decodeProtobufExportRequest } from '../../src/otlp/protobuf-decoder.js';

// ---------------------------------------------------------------------------------------------
// Real spans from the OpenTelemetry SDK, serialized by the official OTLP protobuf serializer

/** Hands out predictable ids (n-th trace id: byte n repeated) so expected values can be written down. */
class SequentialIds implements IdGenerator {
  private traces = 0;
  private spans = 0;
  generateTraceId(): string {
    return (++this.traces).toString(16).padStart(2, '0').repeat(16);
  }
  generateSpanId(): string {
    return (++this.spans).toString(16).padStart(2, '0').repeat(8);
  }
}

interface Sdk {
  readonly provider: BasicTracerProvider;
  readonly exporter: InMemorySpanExporter;
}

function sdk(resource: ApiAttributes, ids: IdGenerator = new SequentialIds()): Sdk {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    idGenerator: ids,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  return { provider, exporter };
}

function serialize(spans: ReadableSpan[]): Uint8Array {
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(body, 'the serializer produced a body');
  return body;
}

/**
 * The SDK's setAttribute only admits primitives and homogeneous arrays, but OTLP (and the
 * serializer) carry any AnyValue; this swaps in arbitrary attributes to reach kvlist and bytes.
 */
function withAttributes(span: ReadableSpan, attributes: Record<string, unknown>): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: attributes as ApiAttributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** kvlist values decode to null-prototype objects, and deepStrictEqual compares prototypes. */
function dict(entries: Record<string, AttributeValue>): Record<string, AttributeValue> {
  return Object.assign(Object.create(null) as Record<string, AttributeValue>, entries);
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1);
  return items[0]!;
}

/** One finished span per call, each with some attributes, for tests that need a valid body. */
function sampleBody(): Uint8Array {
  const { provider, exporter } = sdk({ 'service.name': 'checkout' });
  const span = provider.getTracer('sample').startSpan('GET /cart', {
    kind: ApiSpanKind.SERVER,
    attributes: { 'http.method': 'GET', 'http.status_code': 200, ratio: 0.5, tags: ['a', 'b'] },
    startTime: [1_700_000_000, 1],
  });
  span.setStatus({ code: SpanStatusCode.OK });
  span.end([1_700_000_001, 2]);
  return serialize(exporter.getFinishedSpans());
}

// ---------------------------------------------------------------------------------------------
// Hand-built wire format, for what the SDK never produces

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** field * 8 rather than field << 3: the largest field numbers overflow a 32-bit shift. */
function tagValue(field: number, wireType: number): number {
  return field * 8 + wireType;
}

function tag(field: number, wireType: number): Uint8Array {
  return Writer.create().uint32(tagValue(field, wireType)).finish();
}

/** A length-delimited field whose payload is the concatenation of `parts`. */
function len(field: number, ...parts: Uint8Array[]): Uint8Array {
  return Writer.create()
    .uint32(tagValue(field, LEN))
    .bytes(concat(...parts))
    .finish();
}

function str(field: number, value: string): Uint8Array {
  return Writer.create().uint32(tagValue(field, LEN)).string(value).finish();
}

function varint(field: number, value: number | string): Uint8Array {
  return Writer.create().uint32(tagValue(field, VARINT)).int64(value).finish();
}

function fixed64(field: number, value: bigint): Uint8Array {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(value);
  return concat(tag(field, I64), bytes);
}

function fixed32(field: number, value: number): Uint8Array {
  return Writer.create().uint32(tagValue(field, I32)).fixed32(value).finish();
}

/** ExportTraceServiceRequest with one ResourceSpans/ScopeSpans around the given span payloads. */
function requestWithSpans(...spans: Uint8Array[]): Uint8Array {
  return len(1, len(2, ...spans.map((span) => len(2, span))));
}

/** A span carrying the given KeyValue payloads as its attributes. */
function requestWithAttributes(...keyValues: Uint8Array[]): Uint8Array {
  return requestWithSpans(concat(...keyValues.map((kv) => len(9, kv))));
}

function keyValue(key: string, anyValue: Uint8Array): Uint8Array {
  return concat(str(1, key), len(2, anyValue));
}

function attributesOf(body: Uint8Array): ReadonlyMap<string, AttributeValue> {
  return only(decodeProtobufExportRequest(body)).attributes;
}

/** AnyValue with `levels` array_value containers around an int_value. */
function nestedArrays(levels: number): Uint8Array {
  let value = varint(3, 1);
  for (let i = 0; i < levels; i++) value = len(5, len(1, value));
  return value;
}

/** AnyValue with `levels` kvlist_value containers around an int_value. */
function nestedKvlists(levels: number): Uint8Array {
  let value = varint(3, 1);
  for (let i = 0; i < levels; i++) value = len(6, len(1, keyValue('k', value)));
  return value;
}

function assertDecodeError(body: Uint8Array, message?: RegExp): void {
  assert.throws(
    () => decodeProtobufExportRequest(body),
    (error: unknown) => {
      assert.ok(error instanceof OtlpDecodeError, `expected OtlpDecodeError, got ${String(error)}`);
      assert.match(error.message, /^invalid protobuf: /);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

/** Decoding either succeeds or fails with OtlpDecodeError, never with anything else. */
function decodesOrRejects(body: Uint8Array): 'decoded' | 'rejected' {
  try {
    decodeProtobufExportRequest(body);
    return 'decoded';
  } catch (error) {
    if (error instanceof OtlpDecodeError) return 'rejected';
    throw error;
  }
}

/** Deterministic pseudo-random bytes (mulberry32), so a failure can be reproduced. */
function randomBytes(seed: number, count: number): Uint8Array {
  let state = seed >>> 0;
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    bytes[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------

describe('decodeProtobufExportRequest', () => {
  describe('spans from the OpenTelemetry SDK', () => {
    it('decodes ids, times, name, kind, status and scope exactly', () => {
      const { provider, exporter } = sdk({ 'service.name': 'checkout' });
      const tracer = provider.getTracer('checkout-http', '1.2.3');
      const parent = tracer.startSpan('POST /orders', {
        kind: ApiSpanKind.SERVER,
        startTime: [1_700_000_000, 123_456_789],
      });
      const child = tracer.startSpan(
        'INSERT orders',
        { kind: ApiSpanKind.CLIENT, startTime: [1_700_000_000, 200_000_000] },
        trace.setSpan(ROOT_CONTEXT, parent),
      );
      child.setStatus({ code: SpanStatusCode.ERROR, message: 'duplicate key' });
      child.end([1_700_000_000, 300_000_001]);
      parent.setStatus({ code: SpanStatusCode.OK });
      parent.end([1_700_000_001, 999_999_999]);

      const spans = decodeProtobufExportRequest(serialize(exporter.getFinishedSpans()));
      const byName = new Map(spans.map((span) => [span.name, span]));
      assert.equal(spans.length, 2);

      const server = byName.get('POST /orders')!;
      assert.equal(server.traceId, '01'.repeat(16));
      assert.equal(server.spanId, '01'.repeat(8));
      assert.equal(server.parentSpanId, '');
      assert.equal(server.kind, SpanKind.SERVER);
      assert.equal(server.startTimeUnixNano, 1_700_000_000_123_456_789n);
      assert.equal(server.endTimeUnixNano, 1_700_000_001_999_999_999n);
      assert.equal(server.statusCode, StatusCode.OK);
      assert.equal(server.statusMessage, '');
      assert.equal(server.scopeName, 'checkout-http');
      assert.deepEqual(server.resource, new Map([['service.name', 'checkout']]));
      assert.deepEqual(server.attributes, new Map());

      const client = byName.get('INSERT orders')!;
      assert.equal(client.traceId, server.traceId);
      assert.equal(client.spanId, '02'.repeat(8));
      assert.equal(client.parentSpanId, server.spanId);
      assert.equal(client.kind, SpanKind.CLIENT);
      assert.equal(client.startTimeUnixNano, 1_700_000_000_200_000_000n);
      assert.equal(client.endTimeUnixNano, 1_700_000_000_300_000_001n);
      assert.equal(client.statusCode, StatusCode.ERROR);
      assert.equal(client.statusMessage, 'duplicate key');
    });

    it('decodes random ids as lowercase hex, matching the SDK', () => {
      const { provider, exporter } = sdk({}, new RandomIdGenerator());
      for (let i = 0; i < 20; i++) provider.getTracer('t').startSpan(`span ${i}`).end();
      const finished = exporter.getFinishedSpans();
      const spans = decodeProtobufExportRequest(serialize(finished));
      assert.deepEqual(
        spans.map((span) => [span.traceId, span.spanId]),
        finished.map((span) => [span.spanContext().traceId, span.spanContext().spanId]),
      );
    });

    it('decodes every kind of span', () => {
      const { provider, exporter } = sdk({});
      const kinds = [
        [ApiSpanKind.INTERNAL, SpanKind.INTERNAL],
        [ApiSpanKind.SERVER, SpanKind.SERVER],
        [ApiSpanKind.CLIENT, SpanKind.CLIENT],
        [ApiSpanKind.PRODUCER, SpanKind.PRODUCER],
        [ApiSpanKind.CONSUMER, SpanKind.CONSUMER],
      ] as const;
      for (const [kind] of kinds) provider.getTracer('t').startSpan(`kind ${kind}`, { kind }).end();
      const spans = decodeProtobufExportRequest(serialize(exporter.getFinishedSpans()));
      assert.deepEqual(
        spans.map((span) => span.kind),
        kinds.map(([, expected]) => expected),
      );
    });

    it('decodes every attribute value type', () => {
      const { provider, exporter } = sdk({ 'service.name': 'attrs', 'host.cpus': 8, 'feature.on': true });
      const span = provider.getTracer('t').startSpan('attributes');
      span.setAttributes({
        string: 'hello',
        empty: '',
        unicode: 'héllo ✓ 😀',
        true: true,
        false: false,
        zero: 0,
        int: 42,
        negative: -17,
        'max safe': Number.MAX_SAFE_INTEGER,
        'min safe': -Number.MAX_SAFE_INTEGER,
        '2^53': 2 ** 53,
        '2^60': 2 ** 60,
        '-2^53': -(2 ** 53),
        'int64 min': -(2 ** 63),
        double: 3.25,
        'negative double': -0.5,
        tiny: 5e-324,
        infinity: Infinity,
        strings: ['a', 'b', ''],
        ints: [1, -1, 2 ** 60],
        doubles: [0.5, 1.5],
        bools: [true, false],
        'empty array': [],
      });
      span.end();
      const [readable] = exporter.getFinishedSpans();
      const body = serialize([
        withAttributes(readable!, {
          ...readable!.attributes,
          bytes: new Uint8Array([0, 1, 2, 0xfb, 0xff]),
          'empty bytes': new Uint8Array(0),
          'mixed array': ['x', 1, true, 2.5],
          map: {
            name: 'nested',
            count: 3,
            list: [{ deep: [1, 2] }, 'y'],
            inner: { flag: false, big: 2 ** 60 },
          },
          'empty map': {},
        }),
      ]);

      const decoded = only(decodeProtobufExportRequest(body));
      assert.deepEqual(
        decoded.attributes,
        new Map<string, AttributeValue>([
          ['string', 'hello'],
          ['empty', ''],
          ['unicode', 'héllo ✓ 😀'],
          ['true', true],
          ['false', false],
          ['zero', 0],
          ['int', 42],
          ['negative', -17],
          ['max safe', Number.MAX_SAFE_INTEGER],
          ['min safe', -Number.MAX_SAFE_INTEGER],
          ['2^53', '9007199254740992'],
          ['2^60', '1152921504606846976'],
          ['-2^53', '-9007199254740992'],
          ['int64 min', '-9223372036854775808'],
          ['double', 3.25],
          ['negative double', -0.5],
          ['tiny', 5e-324],
          ['infinity', Infinity],
          ['strings', ['a', 'b', '']],
          ['ints', [1, -1, '1152921504606846976']],
          ['doubles', [0.5, 1.5]],
          ['bools', [true, false]],
          ['empty array', []],
          ['bytes', 'AAEC+/8='],
          ['empty bytes', ''],
          ['mixed array', ['x', 1, true, 2.5]],
          [
            'map',
            dict({
              name: 'nested',
              count: 3,
              list: [dict({ deep: [1, 2] }), 'y'],
              inner: dict({ flag: false, big: '1152921504606846976' }),
            }),
          ],
          ['empty map', dict({})],
        ]),
      );
      assert.deepEqual(
        decoded.resource,
        new Map<string, AttributeValue>([
          ['service.name', 'attrs'],
          ['host.cpus', 8],
          ['feature.on', true],
        ]),
      );
    });

    it('flattens several resources and scopes, sharing one resource map per ResourceSpans', () => {
      const first = sdk({ 'service.name': 'front' });
      const second = sdk({ 'service.name': 'back', 'deployment.environment': 'prod' });
      first.provider.getTracer('http').startSpan('a1').end();
      first.provider.getTracer('db').startSpan('a2').end();
      first.provider.getTracer('http').startSpan('a3').end();
      second.provider.getTracer('queue').startSpan('b1').end();
      second.provider.getTracer('queue').startSpan('b2').end();

      const spans = decodeProtobufExportRequest(
        serialize([...first.exporter.getFinishedSpans(), ...second.exporter.getFinishedSpans()]),
      );
      assert.deepEqual(
        spans.map((span) => [span.name, span.scopeName, span.resource.get('service.name')]),
        [
          ['a1', 'http', 'front'],
          ['a3', 'http', 'front'],
          ['a2', 'db', 'front'],
          ['b1', 'queue', 'back'],
          ['b2', 'queue', 'back'],
        ],
      );
      const [a1, a3, a2, b1, b2] = spans;
      assert.equal(a1!.resource, a3!.resource, 'same map object within a ResourceSpans');
      assert.equal(a1!.resource, a2!.resource, 'shared across the scopes of a ResourceSpans');
      assert.equal(b1!.resource, b2!.resource);
      assert.notEqual(a1!.resource, b1!.resource);
      assert.deepEqual(
        b1!.resource,
        new Map([
          ['service.name', 'back'],
          ['deployment.environment', 'prod'],
        ]),
      );
    });

    it('accepts a plain Uint8Array and a view at a non-zero offset', () => {
      const body = sampleBody();
      const expected = decodeProtobufExportRequest(body);
      const plain = new Uint8Array(body);
      assert.ok(!Buffer.isBuffer(plain));
      assert.deepEqual(decodeProtobufExportRequest(plain), expected);

      const backing = new Uint8Array(body.length + 13);
      backing.set(body, 5);
      assert.deepEqual(decodeProtobufExportRequest(backing.subarray(5, 5 + body.length)), expected);
    });
  });

  describe('wire-format corner cases', () => {
    it('returns no spans for an empty body', () => {
      assert.deepEqual(decodeProtobufExportRequest(new Uint8Array(0)), []);
    });

    it('returns no spans for resources and scopes without spans', () => {
      const body = concat(
        len(1),
        len(1, len(1, len(1, keyValue('a', str(1, 'b')))), len(2, len(1, str(1, 's')))),
      );
      assert.deepEqual(decodeProtobufExportRequest(body), []);
    });

    it('gives missing fields their proto3 defaults', () => {
      assert.deepEqual(decodeProtobufExportRequest(requestWithSpans(new Uint8Array(0))), [
        {
          traceId: '',
          spanId: '',
          parentSpanId: '',
          name: '',
          kind: 0,
          startTimeUnixNano: 0n,
          endTimeUnixNano: 0n,
          attributes: new Map(),
          statusCode: 0,
          statusMessage: '',
          resource: new Map(),
          scopeName: '',
        } satisfies DecodedSpan,
      ]);
    });

    it('ignores unknown fields of every wire type, at the top level and inside every message', () => {
      const unknown = concat(
        varint(1000, 7),
        fixed64(1001, 0xdeadbeefn),
        str(1002, 'future'),
        fixed32(1003, 5),
        tag(1004, SGROUP),
        varint(1, 1),
        str(2, 'in a group'),
        tag(1004, EGROUP),
        varint(536_870_911, 1), // the largest field number
      );
      const plain = sampleBody();
      const expected = decodeProtobufExportRequest(plain);
      assert.deepEqual(decodeProtobufExportRequest(concat(unknown, plain, unknown)), expected);

      const withUnknowns = len(
        1,
        unknown,
        len(1, unknown, len(1, unknown, str(1, 'k'), unknown, len(2, unknown, str(1, 'v'), unknown))),
        len(
          2,
          unknown,
          len(1, unknown, str(1, 'scope'), str(2, 'version')),
          len(
            2,
            unknown,
            str(5, 'name'),
            str(3, 'trace-state=skipped'),
            varint(10, 4),
            len(11, fixed64(1, 5n), str(2, 'event')),
            varint(12, 1),
            len(13, len(1, new Uint8Array(16))),
            varint(14, 1),
            fixed32(16, 0x101),
            len(9, unknown, str(1, 'attr'), unknown, len(2, unknown, varint(3, -5), unknown)),
            len(15, unknown, str(2, 'msg'), unknown, varint(3, 2), unknown),
          ),
        ),
      );
      const span = only(decodeProtobufExportRequest(withUnknowns));
      assert.equal(span.name, 'name');
      assert.equal(span.scopeName, 'scope');
      assert.deepEqual(span.resource, new Map([['k', 'v']]));
      assert.deepEqual(span.attributes, new Map([['attr', -5]]));
      assert.equal(span.statusCode, StatusCode.ERROR);
      assert.equal(span.statusMessage, 'msg');
    });

    it('keeps the last value of a repeated attribute key', () => {
      const attributes = attributesOf(
        requestWithAttributes(
          keyValue('k', str(1, 'first')),
          keyValue('other', varint(3, 1)),
          keyValue('k', str(1, 'last')),
        ),
      );
      assert.deepEqual(
        attributes,
        new Map<string, AttributeValue>([
          ['k', 'last'],
          ['other', 1],
        ]),
      );
    });

    it('decodes attribute keys exactly, however many and however often they repeat', () => {
      // Thousands of same-length keys collide in the decoder's key cache; each must still come back exact.
      const keys = [
        ...Array.from({ length: 3000 }, (_, i) => `key.${i}`),
        '',
        'ключ',
        'café',
        'k'.repeat(64),
        'k'.repeat(65),
        'k'.repeat(63) + 'é',
      ];
      for (const order of [keys, [...keys].reverse(), keys]) {
        const attributes = attributesOf(
          requestWithAttributes(...order.map((key) => keyValue(key, str(1, key)))),
        );
        assert.deepEqual([...attributes.keys()], order);
        for (const [key, value] of attributes) assert.equal(value, key);
      }
    });

    it('skips attributes and array elements whose AnyValue is empty', () => {
      const attributes = attributesOf(
        requestWithAttributes(
          keyValue('unset', new Uint8Array(0)),
          str(1, 'no value at all'),
          keyValue('array', len(5, len(1, varint(3, 1)), len(1), len(1, varint(3, 3)))),
          keyValue('kept', str(1, 'yes')),
        ),
      );
      assert.deepEqual(
        attributes,
        new Map<string, AttributeValue>([
          ['array', [1, 3]],
          ['kept', 'yes'],
        ]),
      );
    });

    it('decodes int64 varints of every width, including two’s complement negatives', () => {
      const cases: [string, number | string][] = [
        ['1', 1],
        ['127', 127],
        ['128', 128],
        ['4294967295', 4294967295],
        ['4294967296', 4294967296],
        ['9007199254740991', Number.MAX_SAFE_INTEGER],
        ['9007199254740992', '9007199254740992'],
        ['9223372036854775807', '9223372036854775807'],
        ['-1', -1],
        ['-4294967296', -4294967296],
        ['-9007199254740991', -Number.MAX_SAFE_INTEGER],
        ['-9007199254740992', '-9007199254740992'],
        ['-9223372036854775808', '-9223372036854775808'],
      ];
      const attributes = attributesOf(
        requestWithAttributes(...cases.map(([decimal]) => keyValue(decimal, varint(3, decimal)))),
      );
      assert.deepEqual(attributes, new Map(cases));
    });

    it('lets a later scope message name spans that came before it', () => {
      const body = len(
        1,
        len(2, len(2, str(5, 'early')), len(1, str(1, 'late scope')), len(2, str(5, 'after'))),
      );
      assert.deepEqual(
        decodeProtobufExportRequest(body).map((span) => [span.name, span.scopeName]),
        [
          ['early', 'late scope'],
          ['after', 'late scope'],
        ],
      );
    });

    it('fills the shared resource map even when the resource comes after the spans', () => {
      const body = len(
        1,
        len(2, len(2, str(5, 'span'))),
        len(1, len(1, keyValue('service.name', str(1, 'late')))),
      );
      assert.deepEqual(only(decodeProtobufExportRequest(body)).resource, new Map([['service.name', 'late']]));
    });

    it('decodes invalid UTF-8 lossily instead of failing', () => {
      const invalid = concat(tag(5, LEN), new Uint8Array([3, 0x61, 0xff, 0x62]));
      assert.equal(only(decodeProtobufExportRequest(requestWithSpans(invalid))).name, 'a\ufffdb');
    });

    it('stores a "__proto__" kvlist key as plain data, without touching any prototype', () => {
      const kvlist = len(
        6,
        len(1, keyValue('__proto__', len(6, len(1, keyValue('polluted', varint(2, 1)))))),
        len(1, keyValue('constructor', str(1, 'c'))),
      );
      const attributes = attributesOf(requestWithAttributes(keyValue('__proto__', kvlist)));
      const value = attributes.get('__proto__');
      assert.ok(typeof value === 'object' && !Array.isArray(value));
      assert.equal(Object.getPrototypeOf(value), null);
      assert.deepEqual(Object.keys(value), ['__proto__', 'constructor']);
      assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, dict({ polluted: true }));
      assert.equal(value.constructor, 'c');
      assert.equal('polluted' in {}, false);
      assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
    });

    it('also keeps "__proto__" keys from the official serializer as data', () => {
      const { provider, exporter } = sdk({});
      provider.getTracer('t').startSpan('s').end();
      const map: Record<string, unknown> = {};
      Object.defineProperty(map, '__proto__', { value: { polluted: 1 }, enumerable: true });
      const body = serialize([withAttributes(exporter.getFinishedSpans()[0]!, { map })]);
      const value = only(decodeProtobufExportRequest(body)).attributes.get('map');
      assert.ok(typeof value === 'object' && !Array.isArray(value));
      assert.equal(Object.getPrototypeOf(value), null);
      assert.deepEqual(Object.keys(value), ['__proto__']);
      assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, dict({ polluted: 1 }));
      assert.equal('polluted' in {}, false);
    });
  });

  describe('nesting depth', () => {
    it(`accepts ${MAX_ANY_VALUE_DEPTH} nested arrays and kvlists`, () => {
      let expected: AttributeValue = 1;
      for (let i = 0; i < MAX_ANY_VALUE_DEPTH; i++) expected = [expected];
      assert.deepEqual(
        attributesOf(requestWithAttributes(keyValue('deep', nestedArrays(MAX_ANY_VALUE_DEPTH)))).get('deep'),
        expected,
      );
      expected = 1;
      for (let i = 0; i < MAX_ANY_VALUE_DEPTH; i++) expected = dict({ k: expected });
      assert.deepEqual(
        attributesOf(requestWithAttributes(keyValue('deep', nestedKvlists(MAX_ANY_VALUE_DEPTH)))).get('deep'),
        expected,
      );
    });

    it('rejects one level more', () => {
      for (const value of [nestedArrays(MAX_ANY_VALUE_DEPTH + 1), nestedKvlists(MAX_ANY_VALUE_DEPTH + 1)]) {
        assertDecodeError(requestWithAttributes(keyValue('deep', value)), /nested more than 8 deep/);
      }
    });

    it('rejects hostile nesting without exhausting the stack', () => {
      assertDecodeError(requestWithAttributes(keyValue('deep', nestedArrays(2_000))), /nested/);
      assertDecodeError(requestWithAttributes(keyValue('deep', nestedKvlists(1_000))), /nested/);
    });

    it('rejects deeply nested unknown groups', () => {
      const open = Buffer.alloc(200, 0x1b); // field 3, start group
      const close = Buffer.alloc(200, 0x1c); // field 3, end group
      assertDecodeError(concat(open, close), /max depth exceeded/);
    });
  });

  describe('malformed input', () => {
    it('rejects a valid request truncated at any point', () => {
      const body = sampleBody();
      for (let cut = 1; cut < body.length; cut++) {
        assertDecodeError(body.subarray(0, cut));
      }
    });

    it('rejects truncation inside every kind of field', () => {
      const body = requestWithSpans(
        concat(
          str(1, 'id-bytes-16-long'),
          str(5, 'name'),
          varint(6, 2),
          fixed64(7, 1n),
          len(9, keyValue('int', varint(3, -1))),
          len(9, keyValue('double', concat(tag(4, I64), Buffer.alloc(8)))),
          len(9, keyValue('bool', varint(2, 1))),
          len(9, keyValue('bytes', str(7, 'xyz'))),
          len(9, keyValue('list', len(5, len(1, str(1, 'a'))))),
          len(9, keyValue('map', len(6, len(1, keyValue('b', str(1, 'c')))))),
          len(15, str(2, 'm'), varint(3, 1)),
        ),
      );
      assert.equal(only(decodeProtobufExportRequest(body)).attributes.size, 6);
      for (let cut = 1; cut < body.length; cut++) {
        assertDecodeError(body.subarray(0, cut));
      }
    });

    it('rejects a known field with the wrong wire type', () => {
      const cases: Uint8Array[] = [
        varint(1, 1), // resource_spans as varint
        len(1, varint(2, 1)), // scope_spans as varint
        len(1, fixed64(1, 1n)), // resource as fixed64
        requestWithSpans(varint(1, 1)), // trace_id as varint
        requestWithSpans(str(7, 'x')), // start_time_unix_nano as bytes
        requestWithSpans(fixed32(8, 1)), // end_time_unix_nano as fixed32
        requestWithSpans(str(6, 'x')), // kind as bytes
        requestWithSpans(varint(9, 1)), // attributes as varint
        requestWithSpans(len(15, str(3, 'x'))), // status.code as bytes
        requestWithAttributes(keyValue('k', str(3, '1'))), // int_value as bytes
        requestWithAttributes(keyValue('k', varint(4, 1))), // double_value as varint
        requestWithAttributes(keyValue('k', varint(1, 1))), // string_value as varint
        requestWithAttributes(varint(1, 1)), // key as varint
        requestWithAttributes(keyValue('k', concat(tag(5, SGROUP), tag(5, EGROUP)))), // array as group
      ];
      for (const body of cases) assertDecodeError(body, /wire type/);
    });

    it('rejects invalid tags, wire types, lengths and varints', () => {
      const cases: [string, Uint8Array, RegExp][] = [
        ['field number 0', Buffer.from([0x00, 0x00]), /field number 0/],
        ['wire type 6', Buffer.from([0x0e]), /wire type 6/],
        ['wire type 7', Buffer.from([0x0f]), /wire type 7/],
        ['unmatched end group', tag(20, EGROUP), /wire type 4/],
        ['group closed by another field', concat(tag(20, SGROUP), tag(21, EGROUP)), /end group/],
        ['length past the end', Buffer.from([0x0a, 0x05, 0x12, 0x00]), /length 5|out of range/],
        ['length past the parent', len(1, Buffer.from([0x12, 0x05]), Buffer.from([0, 0, 0, 0, 0])), /./],
        ['overlong length', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), /length/],
        ['unterminated varint', Buffer.from([0x10, 0xff, 0xff]), /out of range/],
        [
          'int64 varint longer than 10 bytes',
          requestWithAttributes(
            keyValue('k', concat(tag(3, VARINT), Buffer.alloc(11, 0xff), Buffer.from([1]))),
          ),
          /varint/,
        ],
        ['truncated fixed64', requestWithSpans(concat(tag(7, I64), Buffer.alloc(4))), /out of range|fixed64/],
        ['truncated double', requestWithAttributes(keyValue('k', concat(tag(4, I64), Buffer.alloc(7)))), /./],
        ['truncated id', requestWithSpans(concat(tag(1, LEN), Buffer.from([16, 1, 2]))), /./],
        ['tag cut in the middle', Buffer.from([0x80]), /out of range/],
      ];
      for (const [name, body, message] of cases) {
        assert.throws(
          () => decodeProtobufExportRequest(body),
          (error: unknown) => error instanceof OtlpDecodeError && message.test(error.message),
          name,
        );
      }
    });

    it('rejects a sub-message whose content overruns its own length', () => {
      // The span's name claims 10 bytes but the span itself is only 4 bytes long.
      const span = concat(tag(5, LEN), Buffer.from([10, 0x61, 0x62]));
      const body = concat(len(1, len(2, len(2, span), str(1, 'padding to make the buffer longer'))));
      assertDecodeError(body, /out of range|length/);
    });

    it('turns random garbage into OtlpDecodeError and never another error', () => {
      let rejected = 0;
      const samples = 5_000;
      for (let seed = 1; seed <= samples; seed++) {
        const garbage = randomBytes(seed, 1 + (seed % 300));
        if (decodesOrRejects(garbage) === 'rejected') rejected++;
      }
      // Random bytes are occasionally a valid (unknown-fields-only) message; nearly never.
      assert.ok(rejected > samples * 0.9, `only ${rejected} of ${samples} rejected`);
    });

    it('never fails with another error when a valid request is corrupted byte by byte', () => {
      const body = sampleBody();
      for (let i = 0; i < body.length; i++) {
        for (const replacement of [0x00, 0x7f, 0x80, 0xff, body[i]! ^ 0x07]) {
          const corrupted = Buffer.from(body);
          corrupted[i] = replacement;
          decodesOrRejects(corrupted);
        }
      }
    });

    it('wraps the protobufjs error as the cause', () => {
      try {
        decodeProtobufExportRequest(Buffer.from([0x10, 0xff]));
        assert.fail('expected a decode error');
      } catch (error) {
        assert.ok(error instanceof OtlpDecodeError);
        assert.equal(error.name, 'OtlpDecodeError');
        assert.match(error.message, /^invalid protobuf: index out of range.*\(at offset \d+\)$/);
        assert.ok(error.cause instanceof RangeError);
      }
    });
  });
});

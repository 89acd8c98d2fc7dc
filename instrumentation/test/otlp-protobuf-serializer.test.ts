/*
 * crumbtrail's OTLP/protobuf encoder (src/otlp-protobuf-serializer.ts) must write exactly the bytes
 * of the official ProtobufTraceSerializer (@opentelemetry/otlp-transformer): spans made by the real
 * SDK, with random attributes of every kind (values the SDK refuses, such as nested maps, bytes and
 * mixed arrays, are put into the finished spans' attribute maps directly, as a custom processor
 * could), random strings (non-ASCII, astral, lone surrogates, empty, long enough for 2- and 3-byte
 * length prefixes), events, links, statuses, trace states, remote parents, dropped counts, and
 * several resources and scopes in one batch. Seeded: a failure names its seed.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Attributes, Link, SpanContext } from '@opentelemetry/api';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanLimits } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_CRUMBTRAIL_EVENT_NAME } from '../src/attributes.js';
import { createAuditSpanProcessor } from '../src/audit-span-processor.js';
import { OtlpProtobufTraceSerializer } from '../src/otlp-protobuf-serializer.js';
import { SeededRandom } from '../demo/traffic/seeded-random.js';

/** The demo's seeded generator (mulberry32), as a function. */
function random(seed: number): () => number {
  const generator = new SeededRandom(seed);
  return () => generator.next();
}

type Rng = () => number;
const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)]!;

const ALPHABETS = [
  'abcdefghijklmnopqrstuvwxyz0123456789-_./:', // ASCII
  'éüßçñ€©±', // 2- and 3-byte
  '日本語中文한국어', // 3-byte
  '😀🎉𝄞🚀', // astral (surrogate pairs)
  '\u0000\u007f\u0080\u07ff\u0800\uffff', // boundaries
];

function randomString(rng: Rng): string {
  const r = rng();
  if (r < 0.05) return '';
  // Long strings: UTF-8 lengths around 127/128 and 16383/16384 bytes need 1, 2 or 3 length bytes.
  const length =
    r < 0.7
      ? int(rng, 40)
      : r < 0.85
        ? 100 + int(rng, 100)
        : r < 0.95
          ? 1000 + int(rng, 3000)
          : 16000 + int(rng, 2000);
  const alphabet = rng() < 0.6 ? ALPHABETS[0]! : ALPHABETS.slice(0, 1 + int(rng, ALPHABETS.length)).join('');
  const units = Array.from(alphabet); // code points: pairs stay whole
  let s = '';
  while (s.length < length) {
    const u = rng();
    if (u < 0.01)
      s += '\ud800'; // a lone high surrogate
    else if (u < 0.02)
      s += '\udc00'; // a lone low surrogate
    else s += pick(rng, units);
  }
  return s;
}

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  127,
  128,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 62,
  2 ** 63,
  -(2 ** 63),
  -(2 ** 53),
  1.5,
  -0.1,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
];

function randomNumber(rng: Rng): number {
  const r = rng();
  if (r < 0.4) return pick(rng, NUMBERS);
  if (r < 0.7) return int(rng, 100_000) - 50_000;
  if (r < 0.85) return (rng() - 0.5) * 1e6;
  return Math.floor((rng() - 0.5) * 2 ** 64);
}

/** A value the SDK accepts: a primitive or a homogeneous array (with null/undefined holes). */
function sdkValue(rng: Rng): Attributes[string] {
  const r = rng();
  if (r < 0.45) return randomString(rng);
  if (r < 0.6) return randomNumber(rng);
  if (r < 0.7) return rng() < 0.5;
  const n = int(rng, 5);
  const kind = int(rng, 3);
  const items = Array.from({ length: n }, () =>
    rng() < 0.1 ? null : kind === 0 ? randomString(rng) : kind === 1 ? randomNumber(rng) : rng() < 0.5,
  );
  return items as Attributes[string];
}

/** Anything an attribute map may hold at run time: what the official encodes or skips. */
function anyValue(rng: Rng, depth: number): unknown {
  const r = rng();
  if (r < 0.5 || depth > 2) return sdkValue(rng);
  if (r < 0.6) return Uint8Array.from({ length: int(rng, 300) }, () => int(rng, 256));
  if (r < 0.7) return Array.from({ length: int(rng, 4) }, () => anyValue(rng, depth + 1)); // mixed
  if (r < 0.8)
    return Object.fromEntries(
      Array.from({ length: int(rng, 4) }, () => [randomString(rng), anyValue(rng, depth + 1)]),
    );
  if (r < 0.85) return null;
  if (r < 0.9) return undefined;
  if (r < 0.93) return BigInt(int(rng, 100)); // written as an empty AnyValue
  if (r < 0.96) return Buffer.from(randomString(rng));
  return new Date(0); // an object without own keys: an empty kvlist
}

function randomKey(rng: Rng): string {
  return rng() < 0.7
    ? pick(rng, ['http.request.method', 'user.name', 'crumbtrail.event.name', 'a', ''])
    : randomString(rng);
}

function sdkAttributes(rng: Rng, max: number): Attributes {
  const attributes: Attributes = {};
  for (let i = int(rng, max); i > 0; i--) attributes[randomKey(rng)] = sdkValue(rng);
  return attributes;
}

function hex(rng: Rng, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += int(rng, 256).toString(16).padStart(2, '0');
  return s === '0'.repeat(bytes * 2) ? `${s.slice(0, -1)}1` : s;
}

function randomSpanContext(rng: Rng): SpanContext {
  return {
    traceId: hex(rng, 16),
    spanId: hex(rng, 8),
    traceFlags: pick(rng, [TraceFlags.NONE, TraceFlags.SAMPLED, 0xff]),
    isRemote: pick(rng, [true, false, undefined]),
    ...(rng() < 0.4 ? { traceState: new TraceState(`vendor=${int(rng, 1000)},other=x${int(rng, 9)}`) } : {}),
  };
}

function randomHrTime(rng: Rng): [number, number] | number {
  const r = rng();
  if (r < 0.3) return Date.now() - int(rng, 1e6);
  // up to the largest seconds whose nanoseconds fit in uint64, with any nanoseconds
  const seconds = r < 0.8 ? 1_700_000_000 + int(rng, 1e8) : int(rng, 18_446_744_073);
  return [seconds, int(rng, 1_000_000_000)];
}

interface World {
  providers: { provider: BasicTracerProvider; exporter: InMemorySpanExporter }[];
}

function world(rng: Rng): World {
  const resources = [
    resourceFromAttributes({ 'service.name': 'users', 'service.version': '1.2.3', 'host.name': 'ü-host' }),
    resourceFromAttributes({
      'service.name': randomString(rng),
      'deployment.environment': 'prod',
      'process.pid': 4242,
    }),
    resourceFromAttributes({}, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }),
  ];
  const limits: SpanLimits[] = [{}, { attributeCountLimit: 3, eventCountLimit: 2, linkCountLimit: 1 }];
  return {
    providers: resources.map((resource, i) => {
      const exporter = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({
        resource,
        spanLimits: limits[i % limits.length],
        spanProcessors: [new SimpleSpanProcessor(exporter)],
      });
      return { provider, exporter };
    }),
  };
}

/** One batch: spans from several providers (resources) and tracers (scopes), in a random order. */
function batch(rng: Rng, w: World, size: number): ReadableSpan[] {
  const scopes: [string, string | undefined, string | undefined][] = [
    ['crumbtrail', '0.1.0', undefined],
    ['@opentelemetry/instrumentation-http', '0.223.0', 'https://opentelemetry.io/schemas/1.27.0'],
    ['', undefined, undefined],
    ['', '1.0', undefined],
    ['日本', 'v', undefined],
  ];
  for (let i = 0; i < size; i++) {
    const { provider } = pick(rng, w.providers);
    const [name, version, schemaUrl] = pick(rng, scopes);
    const tracer = provider.getTracer(name, version, schemaUrl === undefined ? {} : { schemaUrl });
    const parent = rng() < 0.5 ? trace.setSpanContext(ROOT_CONTEXT, randomSpanContext(rng)) : ROOT_CONTEXT;
    const links: Link[] = Array.from({ length: int(rng, 3) }, () => ({
      context: randomSpanContext(rng),
      ...(rng() < 0.7 ? { attributes: sdkAttributes(rng, 4) } : {}),
    }));
    const span = tracer.startSpan(
      rng() < 0.1 ? '' : randomString(rng),
      {
        kind:
          rng() < 0.2
            ? undefined
            : pick(rng, [
                SpanKind.INTERNAL,
                SpanKind.SERVER,
                SpanKind.CLIENT,
                SpanKind.PRODUCER,
                SpanKind.CONSUMER,
              ]),
        attributes: sdkAttributes(rng, 6),
        links,
        startTime: randomHrTime(rng),
      },
      parent,
    );
    for (let e = int(rng, 4); e > 0; e--) {
      if (rng() < 0.5) span.addEvent(randomString(rng), sdkAttributes(rng, 4), randomHrTime(rng));
      else span.addEvent(randomString(rng));
    }
    const status = rng();
    if (status < 0.3) span.setStatus({ code: SpanStatusCode.ERROR, message: randomString(rng) });
    else if (status < 0.5) span.setStatus({ code: SpanStatusCode.OK });
    span.end(randomHrTime(rng));
  }
  const spans = w.providers.flatMap(({ exporter }) => {
    const finished = exporter.getFinishedSpans();
    exporter.reset();
    return finished;
  });
  // Shuffle, then give some spans values only a processor could put there.
  for (let i = spans.length - 1; i > 0; i--) {
    const j = int(rng, i + 1);
    [spans[i], spans[j]] = [spans[j]!, spans[i]!];
  }
  for (const span of spans) {
    if (rng() < 0.3) {
      const attributes = span.attributes as Record<string, unknown>;
      for (let k = int(rng, 4); k > 0; k--) attributes[randomKey(rng)] = anyValue(rng, 0);
    }
  }
  return spans;
}

function assertSameBytes(ours: Uint8Array | undefined, official: Uint8Array | undefined, what: string): void {
  assert.ok(ours !== undefined && official !== undefined, `${what}: both serialize`);
  const n = Math.min(ours.length, official.length);
  let i = 0;
  while (i < n && ours[i] === official[i]) i++;
  if (i === n && ours.length === official.length) return;
  const around = (b: Uint8Array): string =>
    Buffer.from(b.subarray(Math.max(0, i - 8), i + 8)).toString('hex');
  assert.fail(
    `${what}: first difference at byte ${i} of ${official.length} (ours ${ours.length}): ours …${around(ours)}…, official …${around(official)}…`,
  );
}

describe('OtlpProtobufTraceSerializer', () => {
  it('writes the official bytes for random batches of SDK spans', () => {
    const serializer = new OtlpProtobufTraceSerializer();
    for (let seed = 1; seed <= 150; seed++) {
      const rng = random(seed);
      const w = world(rng);
      // Several batches per world: the cached resource, scope and key bytes are reused.
      for (let b = 0; b < 3; b++) {
        const spans = batch(rng, w, 1 + int(rng, 20));
        assertSameBytes(
          serializer.serializeRequest(spans),
          ProtobufTraceSerializer.serializeRequest(spans),
          `seed ${seed}, batch ${b}`,
        );
      }
    }
  });

  it('writes the official bytes for the edge cases', () => {
    const serializer = new OtlpProtobufTraceSerializer();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer('edges');
    const strings = [
      '',
      'a'.repeat(127),
      'a'.repeat(128),
      'a'.repeat(16_383),
      'a'.repeat(16_384),
      'é'.repeat(63), // 126 bytes
      'é'.repeat(64), // 128 bytes, from 64 UTF-16 units: the length needs a second byte
      '€'.repeat(5_461), // 16,383 bytes
      '€'.repeat(5_462), // 16,386 bytes, from 5,462 units: a third length byte
      '😀'.repeat(40),
      'x\ud800',
      '\udfffx',
      '\ud800\ud800\udc00',
    ];
    strings.forEach((s, i) => {
      tracer.startActiveSpan(s, { attributes: { [s]: s, n: i } }, (span) => {
        span.addEvent(s, { s });
        span.setStatus({ code: SpanStatusCode.ERROR, message: s });
        span.end();
      });
    });
    for (const value of NUMBERS)
      tracer.startSpan('n', { attributes: { value, values: [value, value] } }).end();
    const spans = exporter.getFinishedSpans();
    assertSameBytes(
      serializer.serializeRequest(spans),
      ProtobufTraceSerializer.serializeRequest(spans),
      'edges',
    );
    for (const span of spans) {
      assertSameBytes(
        serializer.serializeRequest([span]),
        ProtobufTraceSerializer.serializeRequest([span]),
        span.name.slice(0, 20),
      );
    }
    assertSameBytes(
      serializer.serializeRequest([]),
      ProtobufTraceSerializer.serializeRequest([]),
      'an empty batch',
    );
  });

  it('returns a copy: the bytes of one batch survive the next (the exporter may retry them)', () => {
    const serializer = new OtlpProtobufTraceSerializer();
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.getTracer('t').startSpan('first').end();
    provider.getTracer('t').startSpan('second').end();
    const [first, second] = exporter.getFinishedSpans();
    const bytes = serializer.serializeRequest([first!]);
    const copy = Uint8Array.from(bytes);
    serializer.serializeRequest([second!]);
    assert.deepEqual(bytes, copy);
  });
});

describe('the audit span processor over OTLP/HTTP protobuf', () => {
  it('sends the official bytes through the official transport: headers, gzip, a retry after 503', async () => {
    const requests: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ headers: request.headers, body: Buffer.concat(chunks) });
        if (requests.length === 1) {
          response.writeHead(503, { 'retry-after': '0' }).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const previousCompression = process.env.OTEL_EXPORTER_OTLP_COMPRESSION;
    process.env.OTEL_EXPORTER_OTLP_COMPRESSION = 'gzip';
    try {
      const { port } = server.address() as AddressInfo;
      const processor = createAuditSpanProcessor({
        endpoint: `http://127.0.0.1:${port}`,
        headers: { authorization: 'Bearer test-token' },
        flushOnExit: false,
      });
      const exported = new InMemorySpanExporter();
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'users' }),
        spanProcessors: [processor, new SimpleSpanProcessor(exported)],
      });
      const tracer = provider.getTracer('@crumbtrail/instrumentation', '0.1.0');
      tracer
        .startSpan('GET', { attributes: { [ATTR_CRUMBTRAIL_EVENT_NAME]: 'GetUser', 'user.name': 'zoë' } })
        .end();
      tracer.startSpan('POST', { attributes: { [ATTR_CRUMBTRAIL_EVENT_NAME]: 'CreateUser' } }).end();
      await processor.forceFlush();
      const spans = exported.getFinishedSpans();
      await provider.shutdown();

      assert.equal(requests.length, 2, 'the 503 was retried');
      const official = ProtobufTraceSerializer.serializeRequest(spans);
      for (const { headers, body } of requests) {
        assert.equal(headers['content-type'], 'application/x-protobuf');
        assert.equal(headers['content-encoding'], 'gzip');
        assert.equal(headers.authorization, 'Bearer test-token');
        assertSameBytes(gunzipSync(body), official, 'the request body');
      }
    } finally {
      if (previousCompression === undefined) delete process.env.OTEL_EXPORTER_OTLP_COMPRESSION;
      else process.env.OTEL_EXPORTER_OTLP_COMPRESSION = previousCompression;
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

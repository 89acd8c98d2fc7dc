/*
 * Fuzzing the collector's untrusted inputs with property-based tests (fast-check) against the
 * real process: the OTLP/JSON decoder, the OTLP/protobuf decoder and the query-parameter parser
 * of the lookup API get mutated, garbled and random input. Whatever comes in, the collector
 *   - answers with a status the protocol allows, never a 5xx other than 503 + Retry-After,
 *   - stays up (and keeps accepting valid exports),
 *   - still holds every event it acknowledged before, exactly once.
 *
 * Each property runs a bounded number of cases from a fixed seed, so a CI run is reproducible:
 *   CRUMBTRAIL_FUZZ_RUNS=2000 CRUMBTRAIL_FUZZ_SEED=42 node scripts/run-tests.mjs collector/test/e2e/fuzz
 * On a failure fast-check prints the seed, the path and the shrunk counterexample to replay it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { startCollectorProcess } from '../support/collector-process.js';
import { exportOrFail, exporterFor, makeSpans } from '../support/otel-client.js';
import { LOOKUP_FIELDS } from '../../src/store/event-store.js';

// ---------------------------------------------------------------------------------------------
// Settings

function integerFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

const RUNS = integerFromEnv('CRUMBTRAIL_FUZZ_RUNS', 150, 1, 1_000_000);
/** fast-check seeds are 32-bit integers; each property adds its own small offset. */
const SEED = integerFromEnv('CRUMBTRAIL_FUZZ_SEED', 0x5eed_c0de, -(2 ** 31), 2 ** 31 - 4);
const REQUEST_TIMEOUT_MS = 30_000;
const BASELINE_EVENT_NAME = 'FuzzBaseline';
/** Fixed, so that one seed always generates the same requests (no wall clock in the inputs). */
const BASE_TIME_MS = Date.UTC(2025, 0, 1);
/** Node refuses request heads over 16 KiB before the collector sees them: stay below. */
const MAX_URL_LENGTH = 8000;

function fuzzParameters(offset: number): { numRuns: number; seed: number } {
  return { numRuns: RUNS, seed: SEED + offset };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers and the status rules

interface Answer {
  status: number;
  retryAfter: string | null;
  text: string;
}

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    text: Buffer.from(await response.arrayBuffer()).toString('utf8'),
  };
}

/** An error with its causes (fetch's own message is only "fetch failed"). */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let cause: unknown = error; cause !== undefined && parts.length < 5;) {
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      parts.push(`${cause.name}${typeof code === 'string' ? ` ${code}` : ''}: ${cause.message}`);
      cause = cause.cause;
    } else {
      parts.push(typeof cause === 'string' ? cause : JSON.stringify(cause));
      cause = undefined;
    }
  }
  return parts.join(' ← ');
}

function clip(text: string, max = 400): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`;
}

/** 429/503 are what OTLP exporters retry: allowed only with a Retry-After they can honour. */
function isRetryable(answer: Answer): boolean {
  return (answer.status === 429 || answer.status === 503) && /^\d+$/.test(answer.retryAfter ?? '');
}

const RECEIVER_STATUSES: ReadonlySet<number> = new Set([200, 400, 413, 415]);

/** Tallies the statuses a property saw and keeps the 503s (allowed, but worth reporting). */
class Outcomes {
  private readonly statuses = new Map<number, number>();
  readonly unavailable: string[] = [];

  record(answer: Answer, what: () => string): void {
    this.statuses.set(answer.status, (this.statuses.get(answer.status) ?? 0) + 1);
    if (answer.status === 503 && this.unavailable.length < 5) {
      this.unavailable.push(`503 ${clip(answer.text, 200)} ← ${what()}`);
    }
  }

  report(t: TestContext, name: string, seed: number): void {
    const tally = [...this.statuses.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}×${count}`)
      .join(' ');
    t.diagnostic(`${name}: seed ${seed}, ${RUNS} runs (and any shrinking), statuses ${tally}`);
    for (const line of this.unavailable) t.diagnostic(`${name}: ${clip(line, 600)}`);
  }
}

/** Runs a property; on failure the error also names the first failing input before shrinking. */
async function checkProperty<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  parameters: { numRuns: number; seed: number },
): Promise<void> {
  let firstFailure: string | undefined;
  const property = fc.asyncProperty(arbitrary, async (value) => {
    try {
      await predicate(value);
    } catch (error) {
      firstFailure ??= clip(String(error), 2000);
      throw error;
    }
  });
  try {
    await fc.assert(property, parameters);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n\nfirst failure seen, before shrinking: ${firstFailure ?? 'none'}`, {
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Shared arbitraries

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));

const textUnit = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\u0000',
      '\n',
      '"',
      '\\',
      '%',
      '_',
      "'",
      '\u2028',
      '\ufeff',
      '\u202e',
      '\u{1f600}',
    ),
  },
);

/** Strings with unicode of every kind, including lone surrogates and control characters. */
function text(maxLength = 24): fc.Arbitrary<string> {
  return fc.string({ unit: textUnit, maxLength });
}

const hostileStrings = fc.constantFrom(
  "' OR 1=1 --",
  "'; DROP TABLE events; --",
  '" OR ""="',
  '%',
  '_',
  '%%',
  '\\',
  '\\%',
  '*',
  '[]',
  '{}',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'Insight',
  'insight',
  'AwsCloudTrailInsight',
);

/** JSON text nested `depth` deep, as a document attribute (requestParameters…) may carry it. */
const deepJsonText = fc
  .tuple(fc.constantFrom('array', 'object'), fc.integer({ min: 1, max: 6000 }))
  .map(([shape, depth]) =>
    shape === 'array'
      ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );

const jsonDocumentText = fc.oneof(
  { weight: 4, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 1, arbitrary: text() },
  { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[1,', '"x"', '1e999', '{"__proto__":{"x":1}}', '') },
);

/** Every attribute name the span → event contract knows: the collector reads these. */
const KNOWN_ATTRIBUTE_KEYS: readonly string[] = Object.entries(A)
  .filter(([name, value]) => name.startsWith('ATTR_') && typeof value === 'string')
  .map(([, value]) => value as string);

const DOCUMENT_KEYS: ReadonlySet<string> = new Set([
  A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS,
  A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS,
  A.ATTR_CRUMBTRAIL_ADDITIONAL_EVENT_DATA,
  A.ATTR_CRUMBTRAIL_IDENTITY_SESSION_CONTEXT,
]);

/** Plausible string values for a known attribute, so that inputs get past the decoders. */
function stringValueFor(key: string): fc.Arbitrary<string> {
  if (DOCUMENT_KEYS.has(key)) return jsonDocumentText;
  switch (key) {
    case A.ATTR_CRUMBTRAIL_EVENT_TYPE:
      return fc.constantFrom('AwsApiCall', 'AwsServiceEvent', 'AwsConsoleAction', 'AwsCloudTrailInsight', '');
    case A.ATTR_CRUMBTRAIL_EVENT_CATEGORY:
      return fc.constantFrom('Management', 'Data', 'NetworkActivity', 'Insight', 'insight', '');
    case A.ATTR_CRUMBTRAIL_READ_ONLY:
      return fc.constantFrom('true', 'false', 'yes', '');
    case A.ATTR_CLIENT_ADDRESS:
    case A.ATTR_NETWORK_PEER_ADDRESS:
    case A.ATTR_HTTP_CLIENT_IP_OLD:
    case A.ATTR_NET_PEER_IP_OLD:
      return fc.oneof(
        fc.ipV4(),
        fc.ipV6(),
        fc.constantFrom('::ffff:1.2.3.4', '999.1.1.1', 'localhost'),
        text(),
      );
    default:
      return fc.oneof({ weight: 4, arbitrary: text(40) }, { weight: 1, arbitrary: hostileStrings });
  }
}

const CRUMBTRAIL_KEYS = KNOWN_ATTRIBUTE_KEYS.filter((key) => key.startsWith(A.CRUMBTRAIL_NAMESPACE));
const OTHER_KNOWN_KEYS = KNOWN_ATTRIBUTE_KEYS.filter((key) => !key.startsWith(A.CRUMBTRAIL_NAMESPACE));

/** A known attribute name, crumbtrail's own more often (they drive the span → event mapping). */
const knownAttributeKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CRUMBTRAIL_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom(...OTHER_KNOWN_KEYS) },
);

const attributeKey = fc.oneof(
  { weight: 4, arbitrary: knownAttributeKey },
  { weight: 1, arbitrary: text(16) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', '', 'crumbtrail.') },
);

// ---------------------------------------------------------------------------------------------
// Property 1: OTLP/JSON

/** An OTLP/JSON AnyValue of every variant, with array/kvlist nesting. */
const { anyValue } = fc.letrec<{ anyValue: unknown }>((tie) => ({
  anyValue: fc.oneof(
    { depthSize: 'small', maxDepth: 5, withCrossShrink: true },
    fc.record({ stringValue: text(40) }),
    fc.record({ boolValue: fc.boolean() }),
    fc.record({
      intValue: fc.oneof(
        fc.integer(),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
        fc.constantFrom('9223372036854775808', '-9223372036854775809', '00', '-0'),
      ),
    }),
    fc.record({
      doubleValue: fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom('NaN', 'Infinity', '-Infinity'),
      ),
    }),
    fc.record({
      bytesValue: fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes).toString('base64')),
    }),
    fc.record({ arrayValue: fc.record({ values: fc.array(tie('anyValue'), { maxLength: 4 }) }) }),
    fc.record({
      kvlistValue: fc.record({
        values: fc.array(fc.record({ key: attributeKey, value: tie('anyValue') }), { maxLength: 4 }),
      }),
    }),
    fc.constant({}),
  ),
}));

const jsonKeyValue = fc.oneof(
  {
    weight: 3,
    arbitrary: knownAttributeKey.chain((key) =>
      fc.record({
        key: fc.constant(key),
        value: fc.oneof(
          stringValueFor(key).map((s) => ({ stringValue: s })),
          anyValue,
        ),
      }),
    ),
  },
  { weight: 1, arbitrary: fc.record({ key: attributeKey, value: anyValue }) },
);

function hexId(bytes: number): fc.Arbitrary<string> {
  return fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((id) => Buffer.from(id).toString('hex'));
}

/** int64 nanoseconds as the JSON mapping writes them (strings), with edge values and numbers. */
const unixNano = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .bigInt({ min: 0n, max: 24n * 3_600_000_000_000n })
      .map((offset) => String(BigInt(BASE_TIME_MS) * 1_000_000n + offset)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('0', '1', '18446744073709551615', '99999999999999999999', '-1', '1e18'),
  },
  { weight: 1, arbitrary: fc.oneof(fc.maxSafeNat(), fc.double({ min: 0, noNaN: true })) },
);

const jsonSpan = fc.record(
  {
    traceId: hexId(16),
    spanId: hexId(8),
    parentSpanId: fc.oneof(fc.constant(''), hexId(8)),
    traceState: text(),
    flags: fc.nat(),
    name: text(),
    kind: fc.integer({ min: 0, max: 5 }),
    startTimeUnixNano: unixNano,
    endTimeUnixNano: unixNano,
    attributes: fc
      .array(jsonKeyValue, { maxLength: 8 })
      .map((rest) => [{ key: A.ATTR_CRUMBTRAIL_EVENT_NAME, value: { stringValue: 'FuzzJson' } }, ...rest]),
    droppedAttributesCount: fc.nat(),
    events: fc.array(
      fc.record({
        timeUnixNano: unixNano,
        name: text(),
        attributes: fc.array(jsonKeyValue, { maxLength: 2 }),
      }),
      { maxLength: 2 },
    ),
    links: fc.array(fc.record({ traceId: hexId(16), spanId: hexId(8) }), { maxLength: 2 }),
    status: fc.record({ code: fc.integer({ min: 0, max: 2 }), message: text() }, { requiredKeys: [] }),
  },
  { requiredKeys: ['traceId', 'spanId', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes'] },
);

/** A valid ExportTraceServiceRequest with realistic structure (the mutations' starting point). */
const jsonExportRequest = fc.record({
  resourceSpans: fc.array(
    fc.record({
      resource: fc.record({
        attributes: fc
          .array(jsonKeyValue, { maxLength: 3 })
          .map((rest) => [{ key: 'service.name', value: { stringValue: 'fuzz' } }, ...rest]),
      }),
      scopeSpans: fc.array(
        fc.record({
          scope: fc.record({ name: text(), version: text() }, { requiredKeys: [] }),
          spans: fc.array(jsonSpan, { minLength: 1, maxLength: 3 }),
        }),
        { minLength: 1, maxLength: 2 },
      ),
      schemaUrl: fc.constantFrom('', 'https://opentelemetry.io/schemas/1.26.0'),
    }),
    { minLength: 1, maxLength: 2 },
  ),
});

/** Raw JSON text no JSON.stringify can write: out-of-range numbers, bad escapes, deep nesting. */
type RawToken = { text: string } | { deep: 'array' | 'object' | 'kvlist'; depth: number };

const rawToken: fc.Arbitrary<RawToken> = fc.oneof(
  fc.record({
    text: fc.constantFrom(
      '1e400',
      '-1e400',
      '-0',
      '1.0',
      '123456789012345678901234567890',
      '-9223372036854775809',
      '18446744073709551616',
      'NaN',
      'Infinity',
      '0x10',
      '01',
      '.5',
      '+1',
      'tru',
      '"\\ud800"',
      '"\\udc00\\ud800"',
      '"\\u0000"',
      '"\\uZZZZ"',
      '"unterminated',
      '{"a":1,"a":2}',
      '{"stringValue":"a","stringValue":5}',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
    ),
  }),
  fc.record({
    deep: fc.constantFrom('array', 'object', 'kvlist'),
    depth: fc.integer({ min: 1, max: 100_000 }),
  }),
);

function rawTokenText(token: RawToken): string {
  if ('text' in token) return token.text;
  if (token.deep === 'array') return `${'['.repeat(token.depth)}0${']'.repeat(token.depth)}`;
  if (token.deep === 'object') return `${'{"a":'.repeat(token.depth)}0${'}'.repeat(token.depth)}`;
  const open = '{"kvlistValue":{"values":[{"key":"k","value":';
  return `${open.repeat(token.depth)}{"stringValue":"leaf"}${'}]}}'.repeat(token.depth)}`;
}

const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -1e308,
    1e308,
    2 ** 53 + 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    '',
    '0',
    '-1',
    'abc',
    'ZZZZZZZZZZZZZZZZ',
    '00000000000000000000000000000000',
    [],
    {},
    [null],
    { value: null },
  ),
  text(),
  fc.jsonValue({ maxDepth: 3 }),
  anyValue,
  fc.integer(),
  fc.double(),
);

type TreeMutation =
  | { kind: 'delete'; target: number }
  | { kind: 'replace'; target: number; value: unknown }
  | { kind: 'raw'; target: number; token: RawToken }
  | { kind: 'nest'; target: number; depth: number; shape: 'array' | 'object' | 'kvlist' | 'arrayValue' }
  | { kind: 'add'; target: number; key: string; value: unknown }
  | { kind: 'duplicate'; target: number };

const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete'), target: fc.nat() }),
  fc.record({ kind: fc.constant('replace'), target: fc.nat(), value: wrongValue }),
  fc.record({ kind: fc.constant('raw'), target: fc.nat(), token: rawToken }),
  fc.record({
    kind: fc.constant('nest'),
    target: fc.nat(),
    depth: fc.integer({ min: 1, max: 64 }),
    shape: fc.constantFrom('array', 'object', 'kvlist', 'arrayValue'),
  }),
  fc.record({
    kind: fc.constant('add'),
    target: fc.nat(),
    key: fc.oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'stringValue',
        'intValue',
        'arrayValue',
        'kvlistValue',
        'resourceSpans',
        'spans',
        'attributes',
        'key',
        'value',
      ),
      text(12),
    ),
    value: wrongValue,
  }),
  fc.record({ kind: fc.constant('duplicate'), target: fc.nat() }),
);

type ByteEdit =
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'flip'; at: number; mask: number };

const jsonFragment = fc.oneof(
  fc
    .constantFrom(
      ',',
      '}',
      ']',
      '"',
      '\\',
      '{"',
      ':',
      'null',
      '\\u',
      '\\ud800',
      '1e999',
      ',,',
      '{}',
      '[]',
      '\u0000',
    )
    .map((fragment) => new Uint8Array(Buffer.from(fragment))),
  fc.uint8Array({ minLength: 1, maxLength: 8 }),
  text(8).map((fragment) => new Uint8Array(Buffer.from(fragment))),
);

const jsonByteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('truncate'), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert'), at: fc.nat(), bytes: jsonFragment }),
  fc.record({ kind: fc.constant('delete'), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('flip'), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
);

interface Transport {
  contentType: string;
  compression: 'none' | 'gzip' | 'gzip-truncated' | 'gzip-claimed' | 'deflate';
}

function transport(contentTypes: fc.Arbitrary<string>): fc.Arbitrary<Transport> {
  return fc.record({
    contentType: contentTypes,
    compression: fc.oneof(
      { weight: 6, arbitrary: fc.constant('none' as const) },
      { weight: 3, arbitrary: fc.constant('gzip' as const) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('gzip-truncated' as const, 'gzip-claimed' as const, 'deflate' as const),
      },
    ),
  });
}

const jsonContentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'Application/JSON',
      'text/plain',
      'application/jsonx',
    ),
  },
);

type JsonCase =
  | { kind: 'mutated'; request: unknown; mutations: TreeMutation[]; edits: ByteEdit[]; transport: Transport }
  | { kind: 'text'; text: string; edits: ByteEdit[]; transport: Transport }
  | { kind: 'bytes'; bytes: Uint8Array; transport: Transport }
  | { kind: 'baseline'; transport: Transport };

const jsonCase: fc.Arbitrary<JsonCase> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      request: jsonExportRequest,
      mutations: fc.array(treeMutation, { maxLength: 4 }),
      edits: fc.oneof(
        { weight: 4, arbitrary: fc.constant<ByteEdit[]>([]) },
        { weight: 1, arbitrary: fc.array(jsonByteEdit, { maxLength: 3 }) },
      ),
      transport: transport(jsonContentType),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('text' as const),
      text: fc.oneof(
        fc.json({ maxDepth: 6 }),
        fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify({ resourceSpans: value })),
        fc
          .jsonValue({ maxDepth: 4 })
          .map((value) => JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [value] }] }] })),
      ),
      edits: fc.array(jsonByteEdit, { maxLength: 2 }),
      transport: transport(jsonContentType),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bytes' as const),
      bytes: fc.uint8Array({ maxLength: 2048 }),
      transport: transport(jsonContentType),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('baseline' as const), transport: transport(jsonContentType) }),
  },
);

/** A place in a JSON tree whose value can be read, replaced or removed. */
interface Slot {
  get(): unknown;
  set(value: unknown): void;
  remove(): void;
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function defineKey(object: Record<string, unknown>, key: string, value: unknown): void {
  // Not `object[key] = value`: that would set the prototype for "__proto__" instead of a key.
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function slotsOf(root: Container): { slots: Slot[]; containers: Container[] } {
  const slots: Slot[] = [];
  const containers: Container[] = [];
  const stack: Container[] = [root];
  for (let container = stack.pop(); container !== undefined; container = stack.pop()) {
    containers.push(container);
    if (Array.isArray(container)) {
      const array = container;
      array.forEach((value, index) => {
        slots.push({
          get: () => array[index],
          set: (replacement) => (array[index] = replacement),
          remove: () => void array.splice(index, 1),
        });
        if (isContainer(value)) stack.push(value);
      });
    } else {
      const object = container;
      for (const [key, value] of Object.entries(object)) {
        slots.push({
          get: () => object[key],
          set: (replacement) => {
            defineKey(object, key, replacement);
          },
          remove: () => void Reflect.deleteProperty(object, key),
        });
        if (isContainer(value)) stack.push(value);
      }
    }
  }
  return { slots, containers };
}

function nest(value: unknown, depth: number, shape: 'array' | 'object' | 'kvlist' | 'arrayValue'): unknown {
  let nested = value;
  for (let level = 0; level < depth; level++) {
    if (shape === 'array') nested = [nested];
    else if (shape === 'object') nested = { a: nested };
    else if (shape === 'kvlist') nested = { kvlistValue: { values: [{ key: `k${level}`, value: nested }] } };
    else nested = { arrayValue: { values: [nested] } };
  }
  return nested;
}

const RAW_MARK = '@@crumbtrail-fuzz-raw-';

/** Applies the tree mutations to a copy of the request and serialises it, raw tokens spliced in. */
function mutatedJsonText(request: unknown, mutations: readonly TreeMutation[]): string {
  const holder: Record<string, unknown> = { root: structuredClone(request) };
  const raws: string[] = [];
  for (const mutation of structuredClone(mutations)) {
    const { slots, containers } = slotsOf(holder);
    const slot = slots[mutation.target % slots.length];
    if (slot === undefined) continue;
    switch (mutation.kind) {
      case 'delete':
        slot.remove();
        break;
      case 'replace':
        slot.set(mutation.value);
        break;
      case 'raw':
        slot.set(`${RAW_MARK}${raws.push(rawTokenText(mutation.token)) - 1}@@`);
        break;
      case 'nest':
        slot.set(nest(slot.get(), mutation.depth, mutation.shape));
        break;
      case 'add': {
        const container = containers[mutation.target % containers.length];
        if (Array.isArray(container)) container.push(mutation.value);
        else if (container !== undefined) defineKey(container, mutation.key, mutation.value);
        break;
      }
      case 'duplicate':
        slot.set([slot.get(), structuredClone(slot.get())]);
        break;
    }
  }
  // undefined when a mutation deleted the whole request: the body is then empty.
  let serialised = holder.root === undefined ? '' : JSON.stringify(holder.root);
  raws.forEach((raw, index) => {
    serialised = serialised.split(JSON.stringify(`${RAW_MARK}${index}@@`)).join(raw);
  });
  return serialised;
}

function applyByteEdits(input: Buffer, edits: readonly ByteEdit[]): Buffer {
  let bytes = input;
  for (const edit of edits) {
    const at = edit.at % (bytes.length + 1);
    switch (edit.kind) {
      case 'truncate':
        bytes = bytes.subarray(0, at);
        break;
      case 'insert':
        bytes = Buffer.concat([bytes.subarray(0, at), edit.bytes, bytes.subarray(at)]);
        break;
      case 'delete':
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + edit.count)]);
        break;
      case 'flip':
        if (at < bytes.length) {
          bytes = Buffer.from(bytes);
          bytes[at] = (bytes[at] ?? 0) ^ edit.mask;
        }
        break;
    }
  }
  return bytes;
}

/** The body and headers a transport choice gives (compressed, corrupt gzip, unsupported coding). */
function encodeForTransport(
  body: Buffer,
  choice: Transport,
): { body: Buffer; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': choice.contentType };
  switch (choice.compression) {
    case 'none':
      return { body, headers };
    case 'gzip':
      return { body: gzipSync(body), headers: { ...headers, 'content-encoding': 'gzip' } };
    case 'gzip-truncated': {
      const compressed = gzipSync(body);
      return {
        body: compressed.subarray(0, Math.floor(compressed.length / 2)),
        headers: { ...headers, 'content-encoding': 'gzip' },
      };
    }
    case 'gzip-claimed':
      return { body, headers: { ...headers, 'content-encoding': 'gzip' } };
    case 'deflate':
      return { body, headers: { ...headers, 'content-encoding': 'deflate' } };
  }
}

// ---------------------------------------------------------------------------------------------
// Property 2: OTLP/protobuf

interface ProtoSpanSpec {
  traceId: string;
  spanId: string;
  name: string;
  kind: SpanKind;
  startOffsetMs: number;
  durationNs: number;
  statusCode: SpanStatusCode;
  statusMessage: string;
  attributes: [string, AttributeValue][];
}

interface ProtoRequestSpec {
  serviceName: string;
  spans: ProtoSpanSpec[];
}

const otelAttributeValue: fc.Arbitrary<AttributeValue> = fc.oneof(
  text(40),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true }),
  fc.array(text(12), { maxLength: 4 }),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.array(fc.boolean(), { maxLength: 4 }),
);

const otelAttribute: fc.Arbitrary<[string, AttributeValue]> = fc.oneof(
  {
    weight: 3,
    arbitrary: knownAttributeKey.chain((key) =>
      fc.tuple(fc.constant(key), fc.oneof(stringValueFor(key), otelAttributeValue)),
    ),
  },
  { weight: 1, arbitrary: fc.tuple(attributeKey, otelAttributeValue) },
);

const protoRequestSpec: fc.Arbitrary<ProtoRequestSpec> = fc.record({
  serviceName: text(),
  spans: fc.array(
    fc.record({
      traceId: hexId(16),
      spanId: hexId(8),
      name: text(),
      kind: fc.constantFrom(
        SpanKind.INTERNAL,
        SpanKind.SERVER,
        SpanKind.CLIENT,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
      ),
      startOffsetMs: fc.integer({ min: 0, max: 24 * 3_600_000 }),
      durationNs: fc.integer({ min: 0, max: 10_000_000_000 }),
      statusCode: fc.constantFrom(SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR),
      statusMessage: text(),
      attributes: fc.array(otelAttribute, { maxLength: 8 }),
    }),
    { minLength: 1, maxLength: 5 },
  ),
});

function hrTime(ns: bigint): [number, number] {
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}

/** ReadableSpans with fixed ids (the SDK's would be random and break reproducible seeds). */
function readableSpans(spec: ProtoRequestSpec): ReadableSpan[] {
  const resource = resourceFromAttributes({ 'service.name': spec.serviceName });
  return spec.spans.map((span) => {
    const startNs = BigInt(BASE_TIME_MS + span.startOffsetMs) * 1_000_000n;
    const attributes: Attributes = Object.fromEntries([
      [A.ATTR_CRUMBTRAIL_EVENT_NAME, 'FuzzProto'],
      ...span.attributes,
    ]);
    return {
      name: span.name,
      kind: span.kind,
      spanContext: () => ({ traceId: span.traceId, spanId: span.spanId, traceFlags: 1 }),
      startTime: hrTime(startNs),
      endTime: hrTime(startNs + BigInt(span.durationNs)),
      duration: hrTime(BigInt(span.durationNs)),
      status: { code: span.statusCode, message: span.statusMessage },
      attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: { name: 'crumbtrail-fuzz' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

function varint(value: bigint): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return Uint8Array.from(bytes);
}

type ProtoEdit =
  | ByteEdit
  | { kind: 'varint'; at: number; value: bigint }
  | { kind: 'field'; at: number; fieldNumber: number; wireType: number; length: bigint }
  | { kind: 'repeat'; at: number; length: number; times: number };

const varintValue = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.constantFrom(
    0n,
    1n,
    127n,
    128n,
    2n ** 31n - 1n,
    2n ** 31n,
    2n ** 32n,
    2n ** 63n,
    2n ** 64n - 1n,
    2n ** 70n,
  ),
);

const protoEdit: fc.Arbitrary<ProtoEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('varint' as const), at: fc.nat(), value: varintValue }),
  fc.record({
    kind: fc.constant('field' as const),
    at: fc.nat(),
    fieldNumber: fc.integer({ min: 1, max: 20 }),
    wireType: fc.integer({ min: 0, max: 7 }),
    length: varintValue,
  }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
    times: fc.integer({ min: 2, max: 64 }),
  }),
);

function applyProtoEdits(input: Buffer, edits: readonly ProtoEdit[]): Buffer {
  let bytes = input;
  for (const edit of edits) {
    const at = edit.at % (bytes.length + 1);
    switch (edit.kind) {
      case 'varint':
        bytes = Buffer.concat([bytes.subarray(0, at), varint(edit.value), bytes.subarray(at)]);
        break;
      case 'field': {
        const tag = varint(BigInt((edit.fieldNumber << 3) | edit.wireType));
        bytes = Buffer.concat([bytes.subarray(0, at), tag, varint(edit.length), bytes.subarray(at)]);
        break;
      }
      case 'repeat': {
        const slice = bytes.subarray(at, at + edit.length);
        const copies = Array.from({ length: edit.times }, () => slice);
        bytes = Buffer.concat([bytes.subarray(0, at), ...copies, bytes.subarray(at)]);
        break;
      }
      default:
        bytes = applyByteEdits(bytes, [edit]);
    }
  }
  return bytes;
}

const protobufContentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/x-protobuf') },
  { weight: 1, arbitrary: fc.constantFrom('application/x-protobuf; charset=binary', 'application/protobuf') },
);

type ProtoCase =
  | { kind: 'mutated'; request: ProtoRequestSpec; edits: ProtoEdit[]; transport: Transport }
  | { kind: 'random'; bytes: Uint8Array; transport: Transport }
  | { kind: 'baseline'; transport: Transport };

const protoCase: fc.Arbitrary<ProtoCase> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('mutated' as const),
      request: protoRequestSpec,
      edits: fc.array(protoEdit, { maxLength: 4 }),
      transport: transport(protobufContentType),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('random' as const),
      bytes: fc.uint8Array({ maxLength: 4096 }),
      transport: transport(protobufContentType),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('baseline' as const),
      transport: transport(protobufContentType),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// Property 3: query parameters

const KNOWN_PARAMETERS = [
  'startTime',
  'endTime',
  'q',
  ...LOOKUP_FIELDS,
  'maxResults',
  'nextToken',
  'step',
  'groupBy',
  'maxSeries',
  'limit',
  'state',
  'insightType',
] as const;

const LOOKUP_FIELD_NAMES = LOOKUP_FIELDS;

/** A parameter value: text to percent-encode, or raw (possibly malformed) query syntax. */
type QueryValue = { text: string } | { raw: string };

const timeText = fc.oneof(
  fc
    .date({ min: new Date(0), max: new Date(Date.UTC(2200, 0, 1)), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.integer({ min: 100_000_000_000, max: 999_999_999_999_999 }).map(String),
  fc.constantFrom(
    '2025-01-01',
    '2025-01-01T00:00',
    '2025-01-01 00:00:00',
    '2024-02-30T00:00:00Z',
    '2025-13-45T99:99:99Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999999Z',
    '2025-01-01T00:00:00+99:99',
    '1735689600',
    '000000000000',
    '999999999999999',
    '-1',
    '1e12',
  ),
);

const longText = fc
  .tuple(fc.integer({ min: 250, max: 3000 }), fc.constantFrom('a', 'é', '%', '\u{1f600}', "' OR 1=1 --"))
  .map(([length, piece]) => piece.repeat(Math.ceil(length / piece.length)).slice(0, length));

const anyQueryText = fc.oneof(
  { weight: 4, arbitrary: text(32) },
  { weight: 2, arbitrary: hostileStrings },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '0', '1', '1000', '1001', '1.5', '-0', 'true', 'false', ' 1') },
  { weight: 1, arbitrary: longText },
);

function textFor(name: string, realToken: string): fc.Arbitrary<string> {
  switch (name) {
    case 'startTime':
    case 'endTime':
      return timeText;
    case 'maxResults':
    case 'limit':
    case 'step':
    case 'maxSeries':
      return fc.oneof(
        fc.integer({ min: -10, max: 5_000_000 }).map(String),
        fc.constantFrom('1', '60', '1000', '2678400'),
      );
    case 'readOnly':
      return fc.constantFrom('true', 'false', 'TRUE', '1');
    case 'eventCategory':
      return fc.constantFrom('Management', 'Data', 'NetworkActivity', 'Insight', 'insight', 'INSIGHT');
    case 'groupBy':
      return fc.constantFrom(...LOOKUP_FIELD_NAMES, 'eventTime', 'eventID', '1; DROP TABLE events');
    case 'state':
      return fc.constantFrom('active', 'ended', 'Active');
    case 'insightType':
      return fc.constantFrom('ApiCallRateInsight', 'ApiErrorRateInsight', 'apicallrateinsight');
    case 'eventName':
      return fc.constantFrom(BASELINE_EVENT_NAME, 'FuzzJson', 'FuzzProto');
    case 'nextToken':
      return fc.oneof(
        fc.constant(realToken),
        fc
          .tuple(fc.nat(), textUnit)
          .map(
            ([at, unit]) =>
              `${realToken.slice(0, at % (realToken.length + 1))}${unit}${realToken.slice((at % (realToken.length + 1)) + 1)}`,
          ),
        fc.nat().map((at) => realToken.slice(0, at % (realToken.length + 1))),
        fc.base64String({ maxLength: 200 }),
      );
    default:
      return anyQueryText;
  }
}

const malformedQuery = fc.constantFrom(
  '%',
  '%G1',
  '%E9',
  '%C3%28',
  '%ED%A0%80',
  '%00',
  '%2',
  '%%32',
  '+',
  '%2B',
  '=',
  '==',
  ';',
  '&&',
  '[]',
  '%5B%5D',
);

function queryValue(name: string, realToken: string): fc.Arbitrary<QueryValue> {
  return fc.oneof(
    { weight: 4, arbitrary: textFor(name, realToken).map((value) => ({ text: value })) },
    { weight: 3, arbitrary: anyQueryText.map((value) => ({ text: value })) },
    { weight: 1, arbitrary: malformedQuery.map((value) => ({ raw: value })) },
  );
}

const unknownParameterName = fc.oneof(
  fc.constantFrom(
    'EventName',
    'MAXRESULTS',
    '__proto__',
    'constructor',
    'hasOwnProperty',
    'toString',
    '',
    'a[b]',
    'q[]',
    'eventName[]',
    'a.b',
  ),
  text(12),
);

function queryParameters(realToken: string): fc.Arbitrary<[string, QueryValue][]> {
  const known = fc
    .constantFrom(...KNOWN_PARAMETERS)
    .chain((name) => fc.tuple(fc.constant(name), queryValue(name, realToken)))
    .map((pair) => [pair]);
  const unknown = fc.tuple(unknownParameterName, queryValue('', realToken)).map((pair) => [pair]);
  const repeated = fc
    .tuple(fc.constantFrom(...KNOWN_PARAMETERS), fc.integer({ min: 2, max: 120 }))
    .chain(([name, times]) =>
      fc
        .array(queryValue(name, realToken), { minLength: times, maxLength: times })
        .map((values) => values.map((value): [string, QueryValue] => [name, value])),
    );
  return fc
    .array(
      fc.oneof(
        { weight: 8, arbitrary: known },
        { weight: 2, arbitrary: unknown },
        { weight: 1, arbitrary: repeated },
      ),
      { maxLength: 6 },
    )
    .map((groups) => groups.flat());
}

/** Percent-encodes a value; a lone surrogate goes out as its (invalid) 3-byte UTF-8 form. */
function percentEncode(value: string): string {
  let encoded = '';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      encoded += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)]
        .map((byte) => `%${byte.toString(16).toUpperCase()}`)
        .join('');
    } else {
      encoded += encodeURIComponent(char);
    }
  }
  return encoded;
}

function encodeQueryValue(value: QueryValue): string {
  return 'raw' in value ? value.raw : percentEncode(value.text);
}

interface QueryCase {
  path: string;
  parameters: [string, QueryValue][];
}

function queryCase(realToken: string, eventIds: readonly string[]): fc.Arbitrary<QueryCase> {
  const segment = fc.oneof(
    text(24).map(percentEncode),
    malformedQuery,
    longText.map(percentEncode),
    fc.constantFrom('..', '.', '%2F', '%2e%2e', ''),
  );
  const path = fc.oneof(
    { weight: 4, arbitrary: fc.constant('/api/v1/events') },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.constantFrom(...LOOKUP_FIELD_NAMES), segment)
        .map((field) => `/api/v1/values/${field}`),
    },
    { weight: 2, arbitrary: fc.constant('/api/v1/stats/calls') },
    { weight: 2, arbitrary: fc.constant('/api/v1/insights') },
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.constantFrom(...eventIds), fc.uuid(), segment)
        .map((id) => `/api/v1/events/${id}`),
    },
  );
  return fc.record({ path, parameters: queryParameters(realToken) });
}

function queryUrl(apiUrl: string, input: QueryCase): string {
  const parameters = [...input.parameters];
  for (;;) {
    const query = parameters
      .map(([name, value]) => `${percentEncode(name)}=${encodeQueryValue(value)}`)
      .join('&');
    const url = `${apiUrl}${input.path}${query === '' ? '' : `?${query}`}`;
    if (url.length <= MAX_URL_LENGTH || parameters.length === 0) return url;
    parameters.pop();
  }
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing the decoders and the query parser', () => {
  let collector: CollectorProcess | undefined;
  let baselineSpanIds: string[] = [];
  let baselineEventIds: string[] = [];
  let baselineJsonBody: Uint8Array = new Uint8Array();
  let baselineProtobufBody: Uint8Array = new Uint8Array();
  let realNextToken = '';

  function running(): CollectorProcess {
    assert.ok(collector, 'the collector did not start');
    return collector;
  }

  /** Failure context: is the process still up, and what did it last log. */
  function processState(): string {
    const child = running().child;
    const lastLogs = running()
      .logs.slice(-5)
      .map((line) => clip(line, 300));
    return `collector exitCode=${child.exitCode} signal=${child.signalCode}; last log lines:\n${lastLogs.join('\n')}`;
  }

  /**
   * The last exchanges before the current one: a request can leave its keep-alive connection in a
   * bad state, and the victim is then a later request on that connection.
   */
  const previousExchanges: string[] = [];
  function remember(exchange: string): void {
    previousExchanges.push(exchange);
    if (previousExchanges.length > 3) previousExchanges.shift();
  }
  let previousEndedAt = performance.now();
  let failingRequests = 0;

  /**
   * Writes a failing request where it can be replayed with curl (--data-binary @file -H …): the
   * first one as found, and the latest one, which after shrinking is the minimal counterexample.
   */
  function saveFailingRequest(body: Uint8Array, headers: Record<string, string>): string {
    const path = join(
      tmpdir(),
      `crumbtrail-fuzz-${process.pid}-${++failingRequests === 1 ? 'first' : 'latest'}`,
    );
    writeFileSync(`${path}.body`, body);
    writeFileSync(`${path}.headers.json`, JSON.stringify(headers));
    return `${path}.body (headers in ${path}.headers.json)`;
  }

  /** POSTs one fuzz case and checks the answer's status. */
  async function exchange(
    body: Uint8Array,
    headers: Record<string, string>,
    what: () => string,
    outcomes: Outcomes,
  ): Promise<void> {
    const startedAt = performance.now();
    const idleMs = Math.round(startedAt - previousEndedAt);
    let answer: Answer;
    try {
      answer = await request(`${running().otlpUrl}/v1/traces`, { method: 'POST', body, headers });
    } catch (error) {
      const timing = `${idleMs} ms after the previous exchange, failed after ${Math.round(performance.now() - startedAt)} ms`;
      const message =
        `POST /v1/traces failed (${timing}): ${describeError(error)}\nrequest: ${what()}\n` +
        `saved to ${saveFailingRequest(body, headers)}\n` +
        `previous exchanges, latest last:\n${previousExchanges.join('\n')}\n${processState()}`;
      remember(`failed ← ${clip(what(), 600)}`);
      throw new Error(message, { cause: error });
    } finally {
      previousEndedAt = performance.now();
    }
    remember(`${answer.status} ${clip(answer.text, 200)} ← ${clip(what(), 600)}`);
    outcomes.record(answer, what);
    if (RECEIVER_STATUSES.has(answer.status) || isRetryable(answer)) return;
    assert.fail(
      `POST /v1/traces answered ${answer.status} (retry-after: ${answer.retryAfter}) ${clip(answer.text)}\n` +
        `request: ${what()}\nsaved to ${saveFailingRequest(body, headers)}\n${processState()}`,
    );
  }

  async function storedBaselineSpanIds(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = token === undefined ? '' : `&nextToken=${encodeURIComponent(token)}`;
      const answer = await request(
        `${running().apiUrl}/api/v1/events?eventName=${BASELINE_EVENT_NAME}&maxResults=1000${page}`,
      );
      assert.equal(answer.status, 200, answer.text);
      const body = JSON.parse(answer.text) as { events: CloudTrailRecord[]; nextToken?: string };
      ids.push(...body.events.map((event) => event.crumbtrail.spanId ?? `(no span id: ${event.eventID})`));
      token = body.nextToken;
    } while (token !== undefined);
    return ids;
  }

  before(async () => {
    collector = await startCollectorProcess({ args: ['--retention-days', '36500'] });
    const now = Date.now();
    const spans = makeSpans(
      Array.from({ length: 20 }, (_, i) => ({
        time: new Date(now - (5 * 60_000 - i * 1000)),
        attributes: {
          [A.ATTR_CRUMBTRAIL_EVENT_NAME]: BASELINE_EVENT_NAME,
          [A.ATTR_USER_NAME]: `baseline-${i % 4}`,
          [A.ATTR_CRUMBTRAIL_RESOURCE_NAMES]: [`r${i}`],
        },
      })),
    );
    // Through the real exporters, half as protobuf, half as gzip-compressed JSON.
    await exportOrFail(exporterFor('protobuf', collector.otlpUrl), spans.slice(0, 10));
    await exportOrFail(
      exporterFor('json', collector.otlpUrl, {}, CompressionAlgorithm.GZIP),
      spans.slice(10),
    );
    baselineSpanIds = spans.map((span) => span.spanContext().spanId).sort();
    const json = JsonTraceSerializer.serializeRequest(spans);
    const protobuf = ProtobufTraceSerializer.serializeRequest(spans);
    assert.ok(json && protobuf);
    baselineJsonBody = json;
    baselineProtobufBody = protobuf;

    assert.deepEqual((await storedBaselineSpanIds()).sort(), baselineSpanIds);
    const page = await request(
      `${collector.apiUrl}/api/v1/events?eventName=${BASELINE_EVENT_NAME}&maxResults=5`,
    );
    const body = JSON.parse(page.text) as { events: CloudTrailRecord[]; nextToken?: string };
    assert.ok(body.nextToken, 'a first page of 5 of 20 events has a nextToken');
    realNextToken = body.nextToken;
    const all = await request(
      `${collector.apiUrl}/api/v1/events?eventName=${BASELINE_EVENT_NAME}&maxResults=20`,
    );
    baselineEventIds = (JSON.parse(all.text) as { events: CloudTrailRecord[] }).events.map(
      (event) => event.eventID,
    );
  });

  after(async () => {
    if (collector === undefined) return;
    const child = collector;
    try {
      const stopped = await Promise.race([
        child.stop(),
        new Promise<'timeout'>((resolve) => {
          setTimeout(() => {
            resolve('timeout');
          }, 15_000).unref();
        }),
      ]);
      assert.notEqual(stopped, 'timeout', 'the collector did not stop within 15 s of SIGTERM');
    } finally {
      await child.crash();
    }
  });

  it('JSON decoder: mutated, garbled and random OTLP/JSON gets 200, 400, 413, 415 or 429/503 + Retry-After', async (t) => {
    const outcomes = new Outcomes();
    await checkProperty(
      jsonCase,
      async (input) => {
        let raw: Buffer;
        if (input.kind === 'mutated')
          raw = applyByteEdits(Buffer.from(mutatedJsonText(input.request, input.mutations)), input.edits);
        else if (input.kind === 'text') raw = applyByteEdits(Buffer.from(input.text), input.edits);
        else if (input.kind === 'bytes') raw = Buffer.from(input.bytes);
        else raw = Buffer.from(baselineJsonBody);
        const { body, headers } = encodeForTransport(raw, input.transport);
        const what = (): string =>
          `${input.kind} ${JSON.stringify(headers)} ${raw.length} bytes: ${clip(raw.toString('utf8'), 1500)}`;
        await exchange(body, headers, what, outcomes);
      },
      fuzzParameters(1),
    );
    outcomes.report(t, 'json', fuzzParameters(1).seed);
  });

  it('protobuf decoder: mutated and random OTLP/protobuf gets 200, 400, 413, 415 or 429/503 + Retry-After', async (t) => {
    const outcomes = new Outcomes();
    await checkProperty(
      protoCase,
      async (input) => {
        let raw: Buffer;
        if (input.kind === 'mutated') {
          const serialised = ProtobufTraceSerializer.serializeRequest(readableSpans(input.request));
          assert.ok(serialised);
          raw = applyProtoEdits(Buffer.from(serialised), input.edits);
        } else if (input.kind === 'random') {
          raw = Buffer.from(input.bytes);
        } else {
          raw = Buffer.from(baselineProtobufBody);
        }
        const { body, headers } = encodeForTransport(raw, input.transport);
        const what = (): string =>
          `${input.kind} ${JSON.stringify(headers)} ${raw.length} bytes: ${clip(raw.toString('base64'), 1500)}`;
        await exchange(body, headers, what, outcomes);
      },
      fuzzParameters(2),
    );
    outcomes.report(t, 'protobuf', fuzzParameters(2).seed);
  });

  it('query parser: random query strings get < 500 (or 503 + Retry-After) and a JSON error body', async (t) => {
    const outcomes = new Outcomes();
    await checkProperty(
      queryCase(realNextToken, baselineEventIds),
      async (input) => {
        const url = queryUrl(running().apiUrl, input);
        let answer: Answer;
        try {
          answer = await request(url);
        } catch (error) {
          throw new Error(`GET ${url} failed: ${describeError(error)}\n${processState()}`, { cause: error });
        }
        outcomes.record(answer, () => url);
        const context = `GET ${clip(url, 1500)} → ${answer.status} ${clip(answer.text)}\n${processState()}`;
        assert.ok(answer.status < 500 || isRetryable(answer), `5xx: ${context}`);
        let body: unknown;
        try {
          body = JSON.parse(answer.text);
        } catch {
          assert.fail(`the body is not JSON: ${context}`);
        }
        if (answer.status >= 400) {
          const error = body as { error?: unknown; message?: unknown } | null;
          assert.ok(
            typeof error?.error === 'string' && typeof error.message === 'string',
            `an error body needs "error" and "message": ${context}`,
          );
        }
      },
      fuzzParameters(3),
    );
    outcomes.report(t, 'query', fuzzParameters(3).seed);
  });

  it('is still up afterwards, still ingests, and holds every baseline event exactly once', async () => {
    const { child, apiUrl, otlpUrl } = running();
    assert.equal(child.exitCode, null, processState());
    assert.equal(child.signalCode, null, processState());
    assert.equal((await request(`${apiUrl}/healthz`)).status, 200);
    assert.equal((await request(`${apiUrl}/readyz`)).status, 200);

    const stored = (await storedBaselineSpanIds()).sort();
    assert.equal(new Set(stored).size, stored.length, 'no baseline event stored twice');
    assert.deepEqual(stored, baselineSpanIds, 'every baseline event is still there, exactly once');

    const later = makeSpans(
      Array.from({ length: 5 }, (_, i) => ({
        time: new Date(Date.now() - 60_000 + i),
        attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'FuzzAfterwards' },
      })),
    );
    await exportOrFail(exporterFor('protobuf', otlpUrl), later);
    const answer = await request(`${apiUrl}/api/v1/events?eventName=FuzzAfterwards&maxResults=10`);
    const events = (JSON.parse(answer.text) as { events: CloudTrailRecord[] }).events;
    assert.deepEqual(
      events.map((event) => event.crumbtrail.spanId).sort(),
      later.map((span) => span.spanContext().spanId).sort(),
    );
  });
});

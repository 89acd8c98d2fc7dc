/*
 * OTLP/protobuf encoding of one export batch, official against crumbtrail's (issue 12):
 * ProtobufTraceSerializer of @opentelemetry/otlp-transformer against src/otlp-protobuf-serializer.ts,
 * on 512 audit spans as the bench server's request makes them (the SDK's span with the attributes
 * crumbtrail records on it, a randomUUID() request id). Both must write the same bytes (checked);
 * the figure is the median wall time per batch over rounds that alternate the two.
 *
 *   node --import tsx instrumentation/bench/serializer.ts
 * BENCH_SERIALIZER_SPANS (default 512), BENCH_SERIALIZER_ROUNDS (default 15) and
 * BENCH_SERIALIZER_BATCHES (batches per round, default 200). For instruction counts, which this
 * shared machine's timings cannot give: BENCH_SERIALIZER_ONLY=official|crumbtrail serializes
 * BENCH_SERIALIZER_BATCHES batches with that one after 100 of warm-up, and prints nothing else; run
 * it under `valgrind --tool=callgrind` with 0 and with N batches, and divide the difference by N × spans.
 */
import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import * as A from '../src/attributes.js';
import { OtlpProtobufTraceSerializer } from '../src/otlp-protobuf-serializer.js';

const SPANS = Number(process.env.BENCH_SERIALIZER_SPANS ?? 512);
const ROUNDS = Number(process.env.BENCH_SERIALIZER_ROUNDS ?? 15);
const BATCHES = Number(process.env.BENCH_SERIALIZER_BATCHES ?? 200);

function auditSpans(count: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('@crumbtrail/instrumentation', '0.1.0');
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan('GET', { kind: SpanKind.SERVER });
    span.setAttribute(A.ATTR_CRUMBTRAIL_EVENT_NAME, 'GetStatus');
    span.setAttribute(A.ATTR_CRUMBTRAIL_IDENTITY_TYPE, 'IAMUser');
    span.setAttribute(A.ATTR_USER_NAME, 'alice');
    span.setAttribute(A.ATTR_CRUMBTRAIL_REQUEST_ID, randomUUID());
    span.setAttribute(A.ATTR_NETWORK_PEER_ADDRESS, '127.0.0.1');
    span.setAttribute(A.ATTR_HTTP_REQUEST_METHOD, 'GET');
    span.setAttribute(A.ATTR_HTTP_RESPONSE_STATUS_CODE, 200);
    span.end();
  }
  return exporter.getFinishedSpans();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const spans = auditSpans(SPANS);
const ours = new OtlpProtobufTraceSerializer();
const official = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array());
if (!official.equals(ours.serializeRequest(spans)))
  throw new Error('the two serializers wrote different bytes');

const only = process.env.BENCH_SERIALIZER_ONLY;
if (only !== undefined) {
  if (only !== 'official' && only !== 'crumbtrail')
    throw new Error('BENCH_SERIALIZER_ONLY: official or crumbtrail');
  const serialize = only === 'official' ? ProtobufTraceSerializer : ours;
  for (let b = 0; b < 100; b++) serialize.serializeRequest(spans);
  for (let b = 0; b < BATCHES; b++) serialize.serializeRequest(spans);
  process.exit(0);
}

const candidates = {
  official: (batch: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(batch),
  crumbtrail: (batch: ReadableSpan[]) => ours.serializeRequest(batch),
};
const times: Record<keyof typeof candidates, number[]> = { official: [], crumbtrail: [] };
let sink = 0;
for (let round = 0; round < ROUNDS; round++) {
  const order =
    round % 2 === 0 ? (['official', 'crumbtrail'] as const) : (['crumbtrail', 'official'] as const);
  for (const name of order) {
    const serialize = candidates[name];
    const start = process.hrtime.bigint();
    for (let b = 0; b < BATCHES; b++) sink += serialize(spans)?.length ?? 0;
    times[name].push(Number(process.hrtime.bigint() - start) / 1e3 / BATCHES);
  }
}
const perBatch = { official: median(times.official.slice(1)), crumbtrail: median(times.crumbtrail.slice(1)) };
console.log(
  `OTLP protobuf, ${SPANS} audit spans (${official.length} bytes), median of ${ROUNDS - 1} rounds of ${BATCHES} batches:`,
);
for (const name of ['official', 'crumbtrail'] as const) {
  console.log(
    `  ${name.padEnd(10)} ${perBatch[name].toFixed(0).padStart(6)} µs/batch  ${((perBatch[name] / SPANS) * 1e3).toFixed(0).padStart(5)} ns/span  [${Math.min(...times[name].slice(1)).toFixed(0)} – ${Math.max(...times[name].slice(1)).toFixed(0)}]`,
  );
}
console.log(
  `  crumbtrail / official: ${(perBatch.crumbtrail / perBatch.official).toFixed(2)}×  (${sink > 0 ? 'ok' : ''})`,
);

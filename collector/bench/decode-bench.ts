/*
 * Decoding cost per span of the two OTLP encodings (the receiver's hot path), on the same export
 * requests. JSON.parse alone is the floor any JSON decoder pays: the baseline for both.
 */
import { decodeJsonExportRequest } from '../src/otlp/json-decoder.js';
import { decodeProtobufExportRequest } from '../src/otlp/protobuf-decoder.js';
import type { SerializedBatches } from './workload.js';

export interface DecodeResult {
  protobufMicros: number;
  jsonMicros: number;
  jsonParseOnlyMicros: number;
}

function microsPerSpan(bodies: Buffer[], spansPerBatch: number, decode: (body: Buffer) => unknown): number {
  // Warm-up pass for the JIT, then the measured passes.
  for (const body of bodies) decode(body);
  const passes = 3;
  const started = performance.now();
  for (let pass = 0; pass < passes; pass++) for (const body of bodies) decode(body);
  return ((performance.now() - started) * 1000) / (passes * bodies.length * spansPerBatch);
}

export function measureDecoding(batches: SerializedBatches): DecodeResult {
  const protobuf = batches.protobuf.map((body) => Buffer.from(body));
  const json = batches.json.map((body) => Buffer.from(body));
  return {
    protobufMicros: microsPerSpan(protobuf, batches.spansPerBatch, decodeProtobufExportRequest),
    jsonMicros: microsPerSpan(json, batches.spansPerBatch, decodeJsonExportRequest),
    jsonParseOnlyMicros: microsPerSpan(json, batches.spansPerBatch, (body) =>
      JSON.parse(body.toString('utf8')),
    ),
  };
}

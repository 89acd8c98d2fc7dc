/*
 * One export request's body → its spans, mapped: the receiver's CPU work, in one pure function
 * so that it can run on an ingest thread (decode-worker.ts) as well as inline.
 */
import type { MappingOptions } from '../events/span-to-event.js';
import { OtlpDecodeError } from '../otlp/decoded-span.js';
import { decodeJsonExportRequest } from '../otlp/json-decoder.js';
import { decodeProtobufExportRequest } from '../otlp/protobuf-decoder.js';
import type { MappedBatch } from './map-spans.js';
import { mapSpans } from './map-spans.js';

export type OtlpEncoding = 'json' | 'protobuf';

export interface DecodeTask {
  body: Uint8Array;
  encoding: OtlpEncoding;
  mapping: MappingOptions;
}

/** Plain data (it crosses threads): the batch, or why the body is not an export request. */
export type DecodedExport =
  { ok: true; spans: number; batch: MappedBatch } | { ok: false; invalidBody: string };

export function decodeExport({ body, encoding, mapping }: DecodeTask): DecodedExport {
  let spans;
  try {
    spans =
      encoding === 'protobuf'
        ? decodeProtobufExportRequest(body)
        : // A Buffer arrives from another thread as a plain Uint8Array: view it again, no copy.
          decodeJsonExportRequest(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } catch (error) {
    if (error instanceof OtlpDecodeError) return { ok: false, invalidBody: error.message };
    throw error;
  }
  return { ok: true, spans: spans.length, batch: mapSpans(spans, mapping) };
}

/*
 * Protobuf response bodies for OTLP/HTTP: ExportTraceServiceResponse on success (including
 * partial success) and google.rpc.Status for errors, as the OTLP/HTTP specification requires when
 * the request was protobuf. Both are tiny, so they are written field by field with protobufjs'
 * Writer; proto3 defaults (0, '') are omitted, as any proto3 encoder would.
 */
import { Writer } from 'protobufjs/minimal.js';

export interface ExportTracePartialSuccess {
  /** Spans the server rejected; a non-negative integer. */
  readonly rejectedSpans: number;
  /** Why spans were rejected, or a warning when rejectedSpans is 0. */
  readonly errorMessage: string;
}

/** Tag byte for field `field` with wire type `wireType` (all fields here have numbers below 16). */
function tag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/**
 * Encodes ExportTraceServiceResponse{partial_success(1): ExportTracePartialSuccess{
 * rejected_spans(1) int64, error_message(2) string}}. Full success without a warning leaves
 * partial_success unset, which encodes as the empty message (zero bytes).
 */
export function encodeExportTraceServiceResponse(partialSuccess?: ExportTracePartialSuccess): Uint8Array {
  if (partialSuccess === undefined) return new Uint8Array(0);
  const { rejectedSpans, errorMessage } = partialSuccess;
  if (!Number.isSafeInteger(rejectedSpans) || rejectedSpans < 0) {
    throw new RangeError(`rejectedSpans must be a non-negative integer, got ${rejectedSpans}`);
  }
  if (rejectedSpans === 0 && errorMessage === '') return new Uint8Array(0);

  const writer = Writer.create();
  writer.uint32(tag(1, WIRE_LEN)).fork();
  if (rejectedSpans !== 0) writer.uint32(tag(1, WIRE_VARINT)).int64(rejectedSpans);
  if (errorMessage !== '') writer.uint32(tag(2, WIRE_LEN)).string(errorMessage);
  return writer.ldelim().finish();
}

/**
 * Encodes google.rpc.Status{code(1) int32, message(2) string}; the details field is not used.
 * @param code a google.rpc.Code value
 */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  const writer = Writer.create();
  if (code !== 0) writer.uint32(tag(1, WIRE_VARINT)).int32(code);
  if (message !== '') writer.uint32(tag(2, WIRE_LEN)).string(message);
  return writer.finish();
}

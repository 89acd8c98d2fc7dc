/*
 * The collector's view of an OTLP span, produced by both the JSON and the protobuf decoder.
 * Only what the span → event mapping needs is kept; unknown fields are skipped, as the OTLP
 * specification requires.
 */

/** An OTLP AnyValue. int64 values become numbers when they fit in 2^53, decimal strings otherwise. */
export type AttributeValue =
  string | number | boolean | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

/** Attributes by key; for a repeated key the last value wins, as in the SDKs. */
export type Attributes = ReadonlyMap<string, AttributeValue>;

/** OTLP Span.SpanKind values. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

/** OTLP Status.StatusCode values. */
export const StatusCode = {
  UNSET: 0,
  OK: 1,
  ERROR: 2,
} as const;

export interface DecodedSpan {
  /** Lowercase hex, 32 characters when valid; validation happens in the mapping. */
  readonly traceId: string;
  /** Lowercase hex, 16 characters when valid. */
  readonly spanId: string;
  /** Lowercase hex, empty for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Attributes of the span's Resource; one map object shared by all spans of a ResourceSpans. */
  readonly resource: Attributes;
  /** InstrumentationScope name, empty when absent. */
  readonly scopeName: string;
}

/** Thrown by a decoder for a body that is not a valid ExportTraceServiceRequest (→ HTTP 400). */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

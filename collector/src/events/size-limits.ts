/*
 * CloudTrail's size limits, applied at ingest: short fields are truncated at 1 KB and documents
 * (requestParameters, responseElements, additionalEventData) are omitted above 100 KB. Every cut is
 * recorded in the record's crumbtrail.sizeLimits marker, so a reader knows the record is partial.
 */
import { AUDIT_LIMITS, truncateUtf8 } from '@crumbtrail/instrumentation/conventions';
import type { AttributeValue } from '../otlp/decoded-span.js';
import type { JsonValue, SizeLimitMarkers } from './cloudtrail-record.js';

export class SizeLimiter {
  readonly markers: SizeLimitMarkers = {};

  /** The value cut to at most 1 KB of UTF-8 (on a character boundary), noting the cut. */
  truncate(field: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const cut = truncateUtf8(value, AUDIT_LIMITS.truncateFieldBytes);
    if (cut !== value) (this.markers.truncated ??= []).push(field);
    return cut;
  }

  /**
   * A JSON document from an attribute: a JSON string is parsed (a string that is not JSON is kept
   * as a string), a kvlist is used as is. Documents above 100 KB are omitted (null).
   */
  document(field: string, value: AttributeValue | undefined): JsonValue {
    if (value === undefined) return null;
    const serialized = typeof value === 'string' ? value : JSON.stringify(value);
    const bytes = serialized.length * 3 <= AUDIT_LIMITS.omitDocumentBytes ? 0 : Buffer.byteLength(serialized);
    if (bytes > AUDIT_LIMITS.omitDocumentBytes) {
      (this.markers.omitted ??= []).push({ field, originalBytes: bytes });
      return null;
    }
    if (typeof value !== 'string') return value as JsonValue;
    try {
      return JSON.parse(value) as JsonValue;
    } catch {
      return value;
    }
  }

  /** Records a document the instrumentation already left out for its size. */
  omittedUpstream(field: string, originalBytes: number | undefined): void {
    if (originalBytes === undefined) return;
    (this.markers.omitted ??= []).push({ field, originalBytes });
  }

  /** The markers, or undefined when nothing was cut (so the record stays lean). */
  result(): SizeLimitMarkers | undefined {
    return this.markers.truncated === undefined && this.markers.omitted === undefined
      ? undefined
      : this.markers;
  }
}

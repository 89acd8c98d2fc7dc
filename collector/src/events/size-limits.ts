/*
 * CloudTrail's size limits, applied at ingest: short fields are truncated at 1 KB, documents
 * (requestParameters, responseElements, additionalEventData, sessionContext) are omitted above
 * 100 KB or when nested deeper than any audit document needs, and a whole record is kept under
 * CloudTrail's 256 KB by omitting its largest documents, then resources, until it fits. Every cut
 * is recorded in the record's crumbtrail.sizeLimits marker, so a reader knows the record is partial.
 */
import { AUDIT_LIMITS, truncateUtf8 } from '@crumbtrail/instrumentation/conventions';
import type { AttributeValue } from '../otlp/decoded-span.js';
import { mayHoldLoneSurrogate, wellFormed } from '../text/well-formed.js';
import type { CloudTrailRecord, JsonValue, SizeLimitMarkers } from './cloudtrail-record.js';

/** CloudTrail's largest event record. */
export const MAX_RECORD_BYTES = 256 * 1024;
/**
 * Deepest nesting kept in a document. Far beyond real request parameters, and far below what
 * breaks JSON tools (SQLite's json functions stop at 1000, V8's recursion near 5000).
 */
export const MAX_DOCUMENT_DEPTH = 32;

/** Nesting depth of a JSON text, counted without parsing (so without recursion). */
export function jsonNestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    }
  }
  return deepest;
}

/** The document with every string and key well-formed (bounded depth: recursion is safe). */
function wellFormedDocument(value: JsonValue): JsonValue {
  if (typeof value === 'string') return wellFormed(value);
  if (Array.isArray(value)) return value.map(wellFormedDocument);
  if (value !== null && typeof value === 'object') {
    const result: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) result[wellFormed(key)] = wellFormedDocument(item);
    return result;
  }
  return value;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Documents a record may lose to fit, in the order they are tried (largest first at run time). */
type DocumentField = 'requestParameters' | 'responseElements' | 'additionalEventData' | 'sessionContext';

function documentText(record: CloudTrailRecord, field: DocumentField): string | undefined {
  const value = field === 'sessionContext' ? record.userIdentity.sessionContext : record[field];
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}

function omitDocument(record: CloudTrailRecord, field: DocumentField): void {
  if (field === 'sessionContext') delete record.userIdentity.sessionContext;
  else if (field === 'additionalEventData') delete record.additionalEventData;
  else record[field] = null;
}

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
   * as a string), a kvlist is used as is. Documents above 100 KB, or nested deeper than
   * MAX_DOCUMENT_DEPTH, are omitted (null).
   */
  document(field: string, value: AttributeValue | undefined): JsonValue {
    if (value === undefined) return null;
    const serialized = typeof value === 'string' ? value : JSON.stringify(value);
    const bytes = serialized.length * 3 <= AUDIT_LIMITS.omitDocumentBytes ? 0 : utf8Bytes(serialized);
    if (bytes > AUDIT_LIMITS.omitDocumentBytes) {
      this.omitted(field, bytes);
      return null;
    }
    if (jsonNestingDepth(serialized) > MAX_DOCUMENT_DEPTH) {
      (this.markers.omitted ??= []).push({
        field,
        originalBytes: utf8Bytes(serialized),
        reason: `nested deeper than ${MAX_DOCUMENT_DEPTH} levels`,
      });
      return null;
    }
    // Rebuilding a document to normalise its text is only worth it when it can need it (rare).
    const normalise = mayHoldLoneSurrogate(serialized) ? wellFormedDocument : (same: JsonValue) => same;
    if (typeof value !== 'string') return normalise(value as JsonValue);
    try {
      return normalise(JSON.parse(value) as JsonValue);
    } catch {
      return wellFormed(value);
    }
  }

  /** Records a document the instrumentation already left out for its size. */
  omittedUpstream(field: string, originalBytes: number | undefined): void {
    if (originalBytes === undefined) return;
    this.omitted(field, originalBytes);
  }

  /** Records that only the first `kept` of `originalCount` list items were kept. */
  listCut(field: string, kept: number, originalCount: number): void {
    (this.markers.cutLists ??= []).push({ field, kept, originalCount });
  }

  private omitted(field: string, originalBytes: number): void {
    (this.markers.omitted ??= []).push({ field, originalBytes });
  }

  /** The markers, or undefined when nothing was cut (so the record stays lean). */
  result(): SizeLimitMarkers | undefined {
    const { truncated, omitted, cutLists } = this.markers;
    return truncated === undefined && omitted === undefined && cutLists === undefined
      ? undefined
      : this.markers;
  }

  /**
   * The record as JSON text, within MAX_RECORD_BYTES: its largest documents are omitted, then
   * resources dropped from the end, until it fits. Writes the markers into the record first.
   */
  serialize(record: CloudTrailRecord): string {
    const write = (): string => {
      const markers = this.result();
      if (markers !== undefined) record.crumbtrail.sizeLimits = markers;
      return JSON.stringify(record);
    };
    let text = write();
    // Hot path: almost every record is a few KB, which no UTF-8 encoding can take past the cap.
    if (text.length * 3 <= MAX_RECORD_BYTES || utf8Bytes(text) <= MAX_RECORD_BYTES) return text;
    const documents = (
      ['requestParameters', 'responseElements', 'additionalEventData', 'sessionContext'] as const
    )
      .map((field) => ({ field, text: documentText(record, field) }))
      .filter((entry): entry is { field: DocumentField; text: string } => entry.text !== undefined)
      .sort((a, b) => b.text.length - a.text.length);
    for (const { field, text: document } of documents) {
      omitDocument(record, field);
      (this.markers.omitted ??= []).push({
        field: field === 'sessionContext' ? 'userIdentity.sessionContext' : field,
        originalBytes: utf8Bytes(document),
        reason: 'the record exceeded 256 KB',
      });
      text = write();
      if (utf8Bytes(text) <= MAX_RECORD_BYTES) return text;
    }
    const resources = record.resources ?? [];
    const originalCount =
      this.markers.cutLists?.find((cut) => cut.field === 'resources')?.originalCount ?? resources.length;
    while (resources.length > 0 && utf8Bytes(text) > MAX_RECORD_BYTES) {
      // Drop about as many as the excess needs, at least one.
      const average = utf8Bytes(JSON.stringify(resources)) / resources.length;
      const excess = utf8Bytes(text) - MAX_RECORD_BYTES;
      resources.splice(Math.max(0, resources.length - Math.max(1, Math.ceil(excess / average))));
      const cuts = (this.markers.cutLists ??= []).filter((cut) => cut.field !== 'resources');
      cuts.push({ field: 'resources', kept: resources.length, originalCount });
      this.markers.cutLists = cuts;
      text = write();
    }
    return text;
  }
}

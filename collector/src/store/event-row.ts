/*
 * The flat row an event is written as, whatever the engine: the lookup columns, the resources and
 * the record text served as is. Computed where the span is mapped (an ingest thread), packed
 * (packed-rows.ts), inserted by the engine's writer.
 */
import type { StoredEvent } from '../events/cloudtrail-record.js';
import { isInsightRecord } from '../events/cloudtrail-record.js';

export interface EventRow {
  eventId: string;
  eventTimeMs: number;
  eventName: string;
  eventSource: string;
  username: string | null;
  accessKeyId: string | null;
  readOnly: 0 | 1;
  errorCode: string | null;
  sourceIp: string | null;
  eventCategory: string;
  /** The whole record as JSON text, served as is by lookups. */
  record: string;
  /** [type, name] of each resource; the name falls back to the ARN. */
  resources: [string | null, string | null][];
  /** The caller's ARN and user agent: Insights attributes calls by them (read from the record by SQLite). */
  userArn: string | null;
  userAgent: string | null;
}

export function toEventRow(event: StoredEvent): EventRow {
  const { record } = event;
  if (isInsightRecord(record)) {
    // An insight is about one API: it is found by that API's name and source.
    return {
      eventId: record.eventID,
      eventTimeMs: event.eventTimeMs,
      eventName: record.insightDetails.eventName,
      eventSource: record.insightDetails.eventSource,
      username: null,
      accessKeyId: null,
      readOnly: 0,
      errorCode: null,
      sourceIp: null,
      eventCategory: record.eventCategory,
      record: event.json ?? JSON.stringify(record),
      resources: [],
      userArn: null,
      userAgent: null,
    };
  }
  return {
    eventId: record.eventID,
    eventTimeMs: event.eventTimeMs,
    eventName: record.eventName,
    eventSource: record.eventSource,
    username: event.username ?? null,
    accessKeyId: record.userIdentity.accessKeyId ?? null,
    readOnly: record.readOnly ? 1 : 0,
    errorCode: record.errorCode ?? null,
    sourceIp: record.sourceIPAddress ?? null,
    eventCategory: record.eventCategory,
    record: event.json ?? JSON.stringify(record),
    resources: (record.resources ?? []).map((resource) => [
      resource.type ?? null,
      resource.name ?? resource.ARN ?? null,
    ]),
    userArn: record.userIdentity.arn ?? null,
    userAgent: record.userAgent ?? null,
  };
}

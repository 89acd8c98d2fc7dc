/*
 * The one interface every storage engine implements (SQLite now, ClickHouse for scale-out). The
 * receiver, the query API and retention only talk to this, never to an engine directly.
 */
import type { PackedRows } from './packed-rows.js';
import type { StoredEvent } from '../events/cloudtrail-record.js';

/** The attributes a lookup can filter, group or list values by (CloudTrail's, plus a few). */
export const LOOKUP_FIELDS = [
  'eventId',
  'eventName',
  'eventSource',
  'username',
  'resourceType',
  'resourceName',
  'readOnly',
  'accessKeyId',
  'errorCode',
  'sourceIPAddress',
  'eventCategory',
] as const;
export type LookupField = (typeof LOOKUP_FIELDS)[number];

/** CloudTrail's LookupEvents AttributeKey names → the lookup field each filters. */
export const CLOUDTRAIL_LOOKUP_ATTRIBUTES = {
  EventId: 'eventId',
  EventName: 'eventName',
  ReadOnly: 'readOnly',
  Username: 'username',
  ResourceType: 'resourceType',
  ResourceName: 'resourceName',
  EventSource: 'eventSource',
  AccessKeyId: 'accessKeyId',
} as const satisfies Record<string, LookupField>;

export function isLookupField(name: string): name is LookupField {
  return (LOOKUP_FIELDS as readonly string[]).includes(name);
}

/**
 * A lookup: fields are ANDed, the values of one field ORed. Without an eventCategory filter,
 * insight events are left out, as CloudTrail's LookupEvents does.
 */
export interface EventFilter {
  /** Inclusive bounds, epoch milliseconds. */
  startTimeMs?: number;
  endTimeMs?: number;
  fields: Partial<Record<LookupField, readonly string[]>>;
  /** Case-insensitive substring over the whole record. */
  text?: string;
}

export interface LookupRequest {
  filter: EventFilter;
  limit: number;
  /** An engine cursor from a previous page (opaque outside the engine). */
  cursor?: string;
}

export interface LookupPage {
  /** Records as stored JSON text, newest first (serving them needs no re-serialisation). */
  records: string[];
  /** Present when more records match. */
  cursor?: string;
}

export interface ValueCount {
  value: string;
  count: number;
}

export interface CallCount {
  /** Start of the bucket, epoch milliseconds, a multiple of the step. */
  bucketMs: number;
  /** The group's value when grouped ('' when the event has none). */
  group?: string;
  count: number;
}

export interface InsertOutcome {
  inserted: number;
  /** Events already stored (a retried export): not stored twice. */
  duplicates: number;
}

/** An API the store has seen calls for, and the first minute it saw one (whole minutes since the epoch). */
export interface ApiSeries {
  eventSource: string;
  eventName: string;
  firstMinute: number;
}

/** One API's calls in one minute (insight events are not counted). */
export interface MinuteCount {
  minute: number;
  eventSource: string;
  eventName: string;
  writeCalls: number;
  readCalls: number;
  /** Calls that returned an error, reads and writes. */
  errors: number;
}

/** Whole minutes since the epoch, both ends included. */
export interface MinuteRange {
  from: number;
  to: number;
}

export const ATTRIBUTION_ATTRIBUTES = ['userIdentityArn', 'userAgent', 'errorCode'] as const;
export type AttributionAttribute = (typeof ATTRIBUTION_ATTRIBUTES)[number];

/** Who and what made up an API's calls in a time range: the input of insight attributions. */
export interface AttributionQuery {
  eventSource: string;
  eventName: string;
  /** Epoch milliseconds, start included, end excluded. */
  fromMs: number;
  toMs: number;
  /** Count write calls only (call-rate insights on writes). */
  writeCallsOnly: boolean;
  /** Count failed calls only (error-rate insights). */
  errorsOnly: boolean;
  /** At most this many of the newest calls are read; averages then cover the time they span. */
  maxEvents: number;
  /** Values returned per attribute. */
  top: number;
}

export interface AttributionCounts {
  /** Calls read (≤ maxEvents) and the time of the oldest one. */
  events: number;
  oldestMs: number | undefined;
  top: Record<AttributionAttribute, ValueCount[]>;
}

/** Thrown by an engine for a cursor it did not produce (→ 400). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** A lookup ran past the engine's time limit and was stopped (→ 503: narrow it and retry). */
export class QueryTimeoutError extends Error {
  override readonly name: string = 'QueryTimeoutError';
}

/** The engine cannot answer now (its thread died, its server is down): → 503, retry later. */
export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}

/** A stored record with its place in commit order (what a trail delivers, in that order). */
export interface CommittedRecord {
  /** Rises with every commit and is never reused, even once retention has emptied the store. */
  seq: number;
  eventId: string;
  eventTimeMs: number;
  record: string;
}

export interface EventStore {
  /** Stores events durably: when the promise resolves, a crash of the process loses none of them. */
  insert(events: readonly StoredEvent[]): Promise<InsertOutcome>;
  /**
   * Stores rows packed on an ingest thread, all in one transaction, as durably as insert. The
   * buffers are read, never kept or detached: a failed commit can be retried with the same ones.
   */
  insertPacked(batches: readonly PackedRows[]): Promise<InsertOutcome>;
  lookup(request: LookupRequest): Promise<LookupPage>;
  getEvent(eventId: string): Promise<string | undefined>;
  /** Up to `limit` records committed after `afterSeq` (and at or before `throughSeq`), in commit order. */
  committedRecords(afterSeq: number, limit: number, throughSeq?: number): Promise<CommittedRecord[]>;
  distinctValues(field: LookupField, filter: EventFilter, limit: number): Promise<ValueCount[]>;
  /**
   * Calls per bucket of stepMs; grouped, only the maxGroups busiest groups over the whole range
   * are counted (so the rows returned are at most maxGroups × buckets).
   */
  callCounts(
    filter: EventFilter,
    stepMs: number,
    grouping?: { groupBy: LookupField; maxGroups: number },
  ): Promise<CallCount[]>;
  /** Deletes up to maxEvents events older than cutoffMs; returns how many went. */
  deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number>;
  /** Every API seen. */
  apiSeries(): Promise<ApiSeries[]>;
  /** Per-minute counts of every API in the given minute ranges (minutes without calls are absent). */
  minuteCounts(ranges: readonly MinuteRange[]): Promise<MinuteCount[]>;
  attributionCounts(query: AttributionQuery): Promise<AttributionCounts>;
  /** Small named values a component keeps with the data (e.g. how far Insights has evaluated). */
  readState(name: string): Promise<string | undefined>;
  /** Written durably, after every write before it. */
  writeState(name: string, value: string): Promise<void>;
  /** A random secret created once per store and kept with the data (e.g. to sign paging tokens). */
  secret(name: string): Promise<Buffer>;
  /** Resolves when the engine can serve reads. */
  ping(): Promise<void>;
  /**
   * Committed events a free-text index the store keeps itself has not taken in yet (each free-text
   * lookup scans them); absent where the engine indexes as it writes, or not at all.
   */
  textIndexBacklog?(): Promise<number>;

  close(): Promise<void>;
}

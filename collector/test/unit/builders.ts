/*
 * Shared builders for the unit tests: DecodedSpans written down directly (as both decoders
 * produce them), StoredEvents made from them by the real mapping, and temporary directories.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { CloudTrailRecord, InsightRecord, StoredEvent } from '../../src/events/cloudtrail-record.js';
import type { MappingOptions } from '../../src/events/span-to-event.js';
import { spanToEvent } from '../../src/events/span-to-event.js';
import { insightEvent as buildInsightEvent } from '../../src/insights/insight-event.js';
import type { AttributeValue, DecodedSpan } from '../../src/otlp/decoded-span.js';
import { SpanKind, StatusCode } from '../../src/otlp/decoded-span.js';

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN_ID = '00f067aa0ba902b7';
/** 2023-11-14T22:13:20.123456789Z: when the call was made, its eventTime. */
export const START_NANOS = 1_700_000_000_123_456_789n;
export const START_MS = 1_700_000_000_123;
export const END_NANOS = START_NANOS + 25_000_000n;

export const NO_DERIVATION: MappingOptions = { deriveFromServerSpans: false };
export const DERIVATION: MappingOptions = { deriveFromServerSpans: true };

export type AttributeRecord = Record<string, AttributeValue>;

export interface SpanOverrides extends Partial<Omit<DecodedSpan, 'attributes' | 'resource'>> {
  attributes?: AttributeRecord;
  resource?: AttributeRecord;
}

/** A finished SERVER span with valid ids and times; no attributes unless given. */
export function span(overrides: SpanOverrides = {}): DecodedSpan {
  const { attributes = {}, resource = { 'service.name': 'iam.example.com' }, ...rest } = overrides;
  return {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    parentSpanId: '',
    name: 'POST /users',
    kind: SpanKind.SERVER,
    startTimeUnixNano: START_NANOS,
    endTimeUnixNano: END_NANOS,
    statusCode: StatusCode.UNSET,
    statusMessage: '',
    scopeName: '@crumbtrail/instrumentation',
    ...rest,
    attributes: new Map(Object.entries(attributes)),
    resource: new Map(Object.entries(resource)),
  };
}

/** A span marked as an audit span (crumbtrail.event.name = "CreateUser" unless overridden). */
export function auditSpan(
  attributes: AttributeRecord = {},
  overrides: Omit<SpanOverrides, 'attributes'> = {},
): DecodedSpan {
  return span({ ...overrides, attributes: { 'crumbtrail.event.name': 'CreateUser', ...attributes } });
}

/** The event a span maps to; fails the test when the span is ignored or rejected. */
export function eventOf(
  decoded: DecodedSpan,
  options: MappingOptions = NO_DERIVATION,
): StoredEvent<CloudTrailRecord> {
  const result = spanToEvent(decoded, options);
  if (result.outcome !== 'event') assert.fail(`expected an event, got ${JSON.stringify(result)}`);
  return result.event;
}

export function recordOf(decoded: DecodedSpan, options: MappingOptions = NO_DERIVATION): CloudTrailRecord {
  return eventOf(decoded, options).record;
}

/** The n-th span id / trace id: distinct, valid, never all zero. */
export function spanIdFor(n: number): string {
  return (n + 1).toString(16).padStart(16, '0');
}

export function traceIdFor(n: number): string {
  return (n + 1).toString(16).padStart(32, 'a');
}

export function nanosFromMs(ms: number): bigint {
  return BigInt(ms) * 1_000_000n;
}

export interface EventSpec {
  timeMs: number;
  eventName?: string;
  eventSource?: string;
  userName?: string;
  accessKeyId?: string;
  method?: string;
  errorCode?: string;
  sourceIp?: string;
  category?: string;
  resources?: { type?: string; name?: string; arn?: string }[];
  requestParameters?: string;
}

let nextEventNumber = 0;

/** A StoredEvent made by spanToEvent from an audit span described by `spec`; each call gets its own span id. */
export function storedEvent(spec: EventSpec): StoredEvent<CloudTrailRecord> {
  const { json: _serialised, ...event } = mappedEvent(spec);
  // Tests edit the record after mapping: the store serialises what they made, not the original.
  return event;
}

function mappedEvent(spec: EventSpec): StoredEvent<CloudTrailRecord> {
  const n = nextEventNumber++;
  const attributes: AttributeRecord = {
    'crumbtrail.event.name': spec.eventName ?? 'CreateUser',
    'http.request.method': spec.method ?? 'POST',
  };
  if (spec.eventSource !== undefined) attributes['crumbtrail.event.source'] = spec.eventSource;
  if (spec.userName !== undefined) attributes['user.name'] = spec.userName;
  if (spec.accessKeyId !== undefined) attributes['crumbtrail.identity.access_key_id'] = spec.accessKeyId;
  if (spec.errorCode !== undefined) attributes['crumbtrail.error.code'] = spec.errorCode;
  if (spec.sourceIp !== undefined) attributes['client.address'] = spec.sourceIp;
  if (spec.category !== undefined) attributes['crumbtrail.event.category'] = spec.category;
  if (spec.requestParameters !== undefined)
    attributes['crumbtrail.request.parameters'] = spec.requestParameters;
  if (spec.resources !== undefined) {
    attributes['crumbtrail.resource.types'] = spec.resources.map((resource) => resource.type ?? '');
    attributes['crumbtrail.resource.names'] = spec.resources.map((resource) => resource.name ?? '');
    attributes['crumbtrail.resource.arns'] = spec.resources.map((resource) => resource.arn ?? '');
  }
  return eventOf(
    span({
      traceId: traceIdFor(n),
      spanId: spanIdFor(n),
      // eventTime is the start of the call, as in CloudTrail.
      startTimeUnixNano: nanosFromMs(spec.timeMs),
      endTimeUnixNano: nanosFromMs(spec.timeMs + 5),
      attributes,
      resource: { 'service.name': 'iam.example.com' },
    }),
  );
}

/** A real insight Start event (as the Insights engine writes it) about the API in `spec`. */
export function insightEvent(spec: EventSpec): StoredEvent<InsightRecord> {
  const minute = Math.floor(spec.timeMs / 60_000);
  const event = buildInsightEvent({
    subject: {
      eventSource: spec.eventSource ?? 'iam.example.com',
      eventName: spec.eventName ?? 'CreateUser',
      type: 'ApiCallRateInsight',
    },
    transition: {
      state: 'Start',
      figures: {
        startMinute: minute,
        endMinute: minute + 2,
        insightAverage: 40,
        baselineAverage: 2,
        peakScore: 12,
        baselineKind: 'seasonal',
        callsPerMinute: 40,
      },
    },
    attributions: [],
    baselineMinutes: 10_080,
    threshold: 4,
    countsReadCalls: false,
  });
  // Exactly the time asked for (the engine writes whole minutes), so data sets keep their order.
  event.record.eventTime = new Date(spec.timeMs).toISOString();
  return { ...event, eventTimeMs: spec.timeMs };
}

/** A fresh directory under the OS temp dir, and a function that removes it. */
export function tempDir(prefix = 'crumbtrail-unit-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Parses stored record JSON. */
export function parseRecord(json: string): CloudTrailRecord {
  return JSON.parse(json) as CloudTrailRecord;
}

/** A promise with its resolve function, for code under test that must wait on the test. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets pending callbacks (setImmediate, promise jobs) run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

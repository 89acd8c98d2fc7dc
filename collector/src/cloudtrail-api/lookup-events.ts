/*
 * LookupEvents with CloudTrail's semantics: lookup attributes, epoch-second times (fractions too),
 * EventCategory "insight", MaxResults 1–50 (default 50), newest first, a replayable NextToken (the
 * query API's signed paging token: the same token always fetches the same page), and events in
 * CloudTrail's shape (ReadOnly as a string, EventTime as epoch seconds, CloudTrailEvent as the
 * stored record text).
 *
 * Beyond CloudTrail, where it is safe: CloudTrail takes one lookup attribute; several are accepted
 * here, different keys ANDed and values of one key ORed, as in the query API.
 */
import type { PagingTokens } from '../api/paging-token.js';
import { ApiError } from '../api/api-error.js';
import type { AuditRecord } from '../events/cloudtrail-record.js';
import { EVENT_CATEGORY_INSIGHT, isInsightRecord } from '../events/cloudtrail-record.js';
import type { EventFilter, EventStore, LookupField } from '../store/event-store.js';
import { CLOUDTRAIL_LOOKUP_ATTRIBUTES } from '../store/event-store.js';
import { invalidParameter } from './aws-error.js';

/** CloudTrail's attribute keys → the store's lookup fields. */
const ATTRIBUTE_FIELDS: Readonly<Record<string, LookupField>> = CLOUDTRAIL_LOOKUP_ATTRIBUTES;
const MAX_ATTRIBUTES = 8;
const MAX_ATTRIBUTE_VALUE_CHARS = 2000;
const DEFAULT_MAX_RESULTS = 50;

export interface LookupEventsResponse {
  Events: CloudTrailEventSummary[];
  NextToken?: string;
}

export interface CloudTrailEventSummary {
  EventId: string;
  EventName: string;
  ReadOnly?: string;
  AccessKeyId?: string;
  EventTime: number;
  EventSource: string;
  Username?: string;
  Resources: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function attributesFilter(raw: unknown): EventFilter['fields'] {
  const fields: Partial<Record<LookupField, string[]>> = {};
  if (raw === undefined) return fields;
  if (!Array.isArray(raw) || raw.length > MAX_ATTRIBUTES) {
    throw invalidParameter(
      'InvalidLookupAttributesException',
      `LookupAttributes must be a list of at most ${MAX_ATTRIBUTES} {AttributeKey, AttributeValue} items.`,
    );
  }
  for (const item of raw as unknown[]) {
    const key = isObject(item) ? item.AttributeKey : undefined;
    const value = isObject(item) ? item.AttributeValue : undefined;
    // Own keys only: "constructor" or "toString" must not reach the filter as a field.
    const field =
      typeof key === 'string' && Object.hasOwn(ATTRIBUTE_FIELDS, key) ? ATTRIBUTE_FIELDS[key] : undefined;
    if (field === undefined) {
      throw invalidParameter(
        'InvalidLookupAttributesException',
        `AttributeKey must be one of ${Object.keys(ATTRIBUTE_FIELDS).join(', ')}; got ${JSON.stringify(key ?? null)}.`,
      );
    }
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ATTRIBUTE_VALUE_CHARS) {
      throw invalidParameter(
        'InvalidLookupAttributesException',
        `AttributeValue of ${String(key)} must be 1 to ${MAX_ATTRIBUTE_VALUE_CHARS} characters.`,
      );
    }
    if (field === 'readOnly' && value !== 'true' && value !== 'false') {
      throw invalidParameter(
        'InvalidLookupAttributesException',
        'AttributeValue of ReadOnly must be "true" or "false".',
      );
    }
    (fields[field] ??= []).push(value);
  }
  return fields;
}

function epochSeconds(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0 || raw > 253402300799) {
    throw invalidParameter('InvalidTimeRangeException', `${name} must be a time in seconds since the epoch.`);
  }
  return Math.round(raw * 1000);
}

/** The store filter a LookupEvents request asks for. */
export function lookupFilter(request: Record<string, unknown>): EventFilter {
  const filter: EventFilter = { fields: attributesFilter(request.LookupAttributes) };
  const startTimeMs = epochSeconds(request.StartTime, 'StartTime');
  const endTimeMs = epochSeconds(request.EndTime, 'EndTime');
  if (startTimeMs !== undefined && endTimeMs !== undefined && startTimeMs > endTimeMs) {
    throw invalidParameter('InvalidTimeRangeException', 'StartTime must be before EndTime.');
  }
  if (startTimeMs !== undefined) filter.startTimeMs = startTimeMs;
  if (endTimeMs !== undefined) filter.endTimeMs = endTimeMs;
  const category = request.EventCategory;
  if (category !== undefined) {
    if (typeof category !== 'string' || category.toLowerCase() !== 'insight') {
      throw invalidParameter('InvalidEventCategoryException', 'EventCategory must be "insight".');
    }
    filter.fields.eventCategory = [EVENT_CATEGORY_INSIGHT];
  }
  return filter;
}

function maxResults(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_MAX_RESULTS;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > 50) {
    throw invalidParameter('InvalidMaxResultsException', 'MaxResults must be an integer from 1 to 50.');
  }
  return raw;
}

/** One stored record in LookupEvents' event shape. */
export function eventSummary(text: string): CloudTrailEventSummary {
  const record = JSON.parse(text) as AuditRecord;
  const time = Date.parse(record.eventTime) / 1000;
  if (isInsightRecord(record)) {
    return {
      EventId: record.eventID,
      EventName: record.insightDetails.eventName,
      EventTime: time,
      EventSource: record.insightDetails.eventSource,
      Resources: [],
      CloudTrailEvent: text,
    };
  }
  const { userIdentity } = record;
  const username = userIdentity.userName ?? userIdentity.principalId;
  return {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: String(record.readOnly),
    ...(userIdentity.accessKeyId === undefined ? {} : { AccessKeyId: userIdentity.accessKeyId }),
    EventTime: time,
    EventSource: record.eventSource,
    ...(username === undefined ? {} : { Username: username }),
    Resources: (record.resources ?? []).map((resource) => ({
      ...(resource.type === undefined ? {} : { ResourceType: resource.type }),
      ...((resource.name ?? resource.ARN) === undefined
        ? {}
        : { ResourceName: resource.name ?? resource.ARN }),
    })),
    CloudTrailEvent: text,
  };
}

export async function lookupEvents(
  request: Record<string, unknown>,
  store: EventStore,
  tokens: PagingTokens,
): Promise<LookupEventsResponse> {
  const filter = lookupFilter(request);
  const limit = maxResults(request.MaxResults);
  let cursor: string | undefined;
  if (request.NextToken !== undefined && request.NextToken !== null && request.NextToken !== '') {
    if (typeof request.NextToken !== 'string')
      throw invalidParameter('InvalidNextTokenException', 'NextToken must be a string.');
    try {
      cursor = tokens.redeem(request.NextToken, filter);
    } catch (error) {
      if (error instanceof ApiError) {
        throw invalidParameter(
          'InvalidNextTokenException',
          'The NextToken is not valid: pass the token of the previous response, with the same LookupAttributes, StartTime, EndTime and EventCategory.',
        );
      }
      throw error;
    }
  }
  const page = await store.lookup({ filter, limit, ...(cursor === undefined ? {} : { cursor }) });
  const response: LookupEventsResponse = { Events: page.records.map(eventSummary) };
  if (page.cursor !== undefined) response.NextToken = tokens.issue(page.cursor, filter);
  return response;
}

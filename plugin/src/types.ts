/*
 * The datasource's query model and settings: what dashboards save as JSON and what the query
 * editors edit. Kept free of React and of Grafana runtime calls so provisioning tests, the panel
 * and the datasource can all import it.
 */
import type { DataSourceJsonData } from '@grafana/data';
import type { DataQuery } from '@grafana/schema';

/**
 * The collector's lookup attributes (GET /api/v1/events). Fields are ANDed, the values of one field
 * ORed, exactly as the collector does.
 */
export const LOOKUP_FIELDS = [
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
  'eventId',
] as const;
export type LookupField = (typeof LOOKUP_FIELDS)[number];

export function isLookupField(name: string): name is LookupField {
  return (LOOKUP_FIELDS as readonly string[]).includes(name);
}

/** Human labels for the editors, in CloudTrail console wording. */
export const LOOKUP_FIELD_LABELS: Record<LookupField, string> = {
  eventName: 'Event name',
  eventSource: 'Event source',
  username: 'User name',
  resourceType: 'Resource type',
  resourceName: 'Resource name',
  readOnly: 'Read only',
  accessKeyId: 'AWS access key',
  errorCode: 'Error code',
  sourceIPAddress: 'Source IP address',
  eventCategory: 'Event category',
  eventId: 'Event ID',
};

export const EVENT_CATEGORIES = ['Management', 'Data', 'NetworkActivity', 'Insight'] as const;
export const INSIGHT_TYPES = ['ApiCallRateInsight', 'ApiErrorRateInsight'] as const;
export type InsightType = (typeof INSIGHT_TYPES)[number];
export const INSIGHT_STATES = ['active', 'ended'] as const;
export type InsightState = (typeof INSIGHT_STATES)[number];

export enum QueryType {
  Events = 'events',
  CallRate = 'callRate',
  Insights = 'insights',
}

/** Filter values as saved: each may hold `$variables`, expanded when the query runs. */
export type LookupFilters = Partial<Record<LookupField, string[]>>;

export interface AuditQuery extends DataQuery {
  queryType?: QueryType;
  /** Lookup filters (events and call rate). */
  filters?: LookupFilters;
  /** Free text over the whole record (the collector's `q`). */
  text?: string;
  /** Events: at most this many, newest first (1–1000). */
  maxResults?: number;
  /** Call rate: one series per value of this field. */
  groupBy?: LookupField;
  /** Call rate: keep the busiest N series. */
  maxSeries?: number;
  /** Insights: narrow by type and state. */
  insightType?: InsightType;
  insightState?: InsightState;
}

export const DEFAULT_MAX_RESULTS = 100;
export const MAX_MAX_RESULTS = 1000;
export const DEFAULT_MAX_SERIES = 20;

export const DEFAULT_QUERY: Partial<AuditQuery> = {
  queryType: QueryType.Events,
  filters: {},
  maxResults: DEFAULT_MAX_RESULTS,
};

/** A template-variable query: the values of one lookup field, under optional filters. */
export interface AuditVariableQuery extends DataQuery {
  field: LookupField;
  filters?: LookupFilters;
  limit?: number;
}

/** Settings of one datasource instance (jsonData; visible to the browser). */
export interface AuditDataSourceOptions extends DataSourceJsonData {
  /** The collector's query API, e.g. http://crumbtrail:4319. Grafana's server calls it, not the browser. */
  collectorUrl?: string;
  /** A trace datasource (Tempo, Jaeger…) to link events to, by uid. */
  traceDatasourceUid?: string;
}

/** Settings Grafana keeps encrypted server-side and never sends to the browser. */
export interface AuditSecureJsonData {
  apiToken?: string;
}

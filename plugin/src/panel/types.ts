/*
 * The event-history panel's options (what dashboards save) and its columns: which events-frame
 * field each column shows and whether a click on its value can filter the dashboard.
 */
import { EventField } from '../shared/event-frame';
import { LOOKUP_FIELD_LABELS, type LookupField } from '../types';

/** Columns the panel can show, in the order the column option lists them. */
export const EVENT_COLUMNS = [
  'eventTime',
  'username',
  'eventName',
  'eventSource',
  'resourceType',
  'resourceName',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'readOnly',
  'accessKeyId',
  'eventCategory',
  'awsRegion',
  'id',
] as const;
export type EventColumn = (typeof EVENT_COLUMNS)[number];

/** CloudTrail console's event-history columns. */
export const DEFAULT_COLUMNS: EventColumn[] = ['eventTime', 'username', 'eventName', 'resourceType', 'resourceName'];

/** The events-frame field behind each column: only the event time is named differently. */
export const COLUMN_FIELDS: Record<EventColumn, string> = {
  eventTime: EventField.Timestamp,
  username: EventField.Username,
  eventName: EventField.EventName,
  eventSource: EventField.EventSource,
  resourceType: EventField.ResourceType,
  resourceName: EventField.ResourceName,
  sourceIPAddress: EventField.SourceIPAddress,
  userAgent: EventField.UserAgent,
  errorCode: EventField.ErrorCode,
  readOnly: EventField.ReadOnly,
  accessKeyId: EventField.AccessKeyId,
  eventCategory: EventField.EventCategory,
  awsRegion: EventField.AwsRegion,
  id: EventField.Id,
};

/**
 * Columns whose values are lookup attributes, so a click can filter on them. The column name is
 * the lookup field name, which is also the ad-hoc filter key and the dashboard variable name.
 * Event time, user agent, region and event ID are not lookup filters.
 */
export const FILTERABLE_COLUMNS = [
  'username',
  'eventName',
  'eventSource',
  'resourceType',
  'resourceName',
  'sourceIPAddress',
  'errorCode',
  'readOnly',
  'accessKeyId',
  'eventCategory',
] as const satisfies readonly LookupField[];
export type FilterableColumn = (typeof FILTERABLE_COLUMNS)[number];

export function isFilterableColumn(column: EventColumn): column is FilterableColumn {
  return (FILTERABLE_COLUMNS as readonly string[]).includes(column);
}

/** Header text, in CloudTrail console wording (the same as the query editors' field labels). */
export const COLUMN_LABELS: Record<EventColumn, string> = {
  ...LOOKUP_FIELD_LABELS,
  eventTime: 'Event time',
  userAgent: 'User agent',
  awsRegion: 'AWS region',
  id: 'Event ID',
};

/** What a click on a cell value does. */
export type ValueClickAction = 'adhoc' | 'variable';

export interface Options {
  columns: EventColumn[];
  valueClick: ValueClickAction;
}

export const DEFAULT_OPTIONS: Options = {
  columns: DEFAULT_COLUMNS,
  valueClick: 'adhoc',
};

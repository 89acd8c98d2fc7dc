/*
 * The contract between the datasource and the event-history panel: the field names of an events
 * frame. The panel cannot call the collector (panels have no data proxy), so it renders exactly
 * these fields of the frames the datasource returns.
 */

/** Fields of the events frame, in order. The first five are Grafana's logs-frame fields. */
export const EventField = {
  /** Event time (FieldType.time). */
  Timestamp: 'timestamp',
  /** One line: "John CreateUser User/Mary" (+ error code). */
  Body: 'body',
  /** "error" for failed calls, "warning" for insights, "info" otherwise. */
  Severity: 'severity',
  /** The eventID. */
  Id: 'id',
  /** Lookup attributes as labels, so the Logs panel can filter on them. */
  Labels: 'labels',
  EventName: 'eventName',
  EventSource: 'eventSource',
  Username: 'username',
  ResourceType: 'resourceType',
  ResourceName: 'resourceName',
  SourceIPAddress: 'sourceIPAddress',
  UserAgent: 'userAgent',
  ErrorCode: 'errorCode',
  ReadOnly: 'readOnly',
  AccessKeyId: 'accessKeyId',
  EventCategory: 'eventCategory',
  AwsRegion: 'awsRegion',
  TraceId: 'traceId',
  /** The full CloudTrail record as JSON text. */
  Record: 'record',
} as const;
export type EventFieldName = (typeof EventField)[keyof typeof EventField];

/** Frame meta custom marker, so the panel can tell an events frame from others. */
export const EVENTS_FRAME_MARKER = 'crumbtrail-events';

export const SEVERITY_ERROR = 'error';
export const SEVERITY_INSIGHT = 'warning';
export const SEVERITY_INFO = 'info';

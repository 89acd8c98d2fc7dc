/*
 * The stored audit event: the CloudTrail record format (eventVersion 1.11), same field names and
 * meanings, so anyone who knows CloudTrail (and any tool that reads CloudTrail JSON) can read it.
 * What CloudTrail lacks lives in the one `crumbtrail` extension object.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const EVENT_VERSION = '1.11';
export const EVENT_TYPE_API_CALL = 'AwsApiCall';
export const EVENT_TYPE_INSIGHT = 'AwsCloudTrailInsight';
export const EVENT_CATEGORY_MANAGEMENT = 'Management';
export const EVENT_CATEGORY_DATA = 'Data';
export const EVENT_CATEGORY_INSIGHT = 'Insight';

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: { [key: string]: JsonValue };
  invokedBy?: string;
}

export interface EventResource {
  ARN?: string;
  accountId?: string;
  type?: string;
  /**
   * The resource's plain name (what CloudTrail's LookupEvents returns as ResourceName). CloudTrail
   * records carry only the ARN; services instrumented with crumbtrail often have names, not ARNs.
   */
  name?: string;
}

export interface TlsDetails {
  tlsVersion?: string;
  cipherSuite?: string;
  clientProvidedHostHeader?: string;
}

/** Where a field was cut to CloudTrail's limits. */
export interface SizeLimitMarkers {
  /** Fields truncated at 1 KB (userAgent, errorCode, errorMessage, requestID). */
  truncated?: string[];
  /**
   * Documents omitted: above 100 KB (no reason given), nested too deep, or to keep the record
   * within 256 KB (the reason says which).
   */
  omitted?: { field: string; originalBytes: number; reason?: string }[];
  /** Lists of which only the first `kept` items were stored (resources beyond 100, or to fit). */
  cutLists?: { field: string; kept: number; originalCount: number }[];
}

/** The crumbtrail extension object: trace context and provenance CloudTrail has no field for. */
export interface CrumbtrailExtension {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  serviceName?: string;
  serviceVersion?: string;
  /** The transport peer address, kept beside sourceIPAddress (which may come from a proxy header). */
  peerAddress?: string;
  /** How long the call took, from its span (eventTime is when it started, as CloudTrail's). */
  durationMs?: number;
  /** HTTP status code of the call, when it was an HTTP call. */
  httpStatusCode?: number;
  /**
   * The request path (no query) of a call that matched no route, whose event name (GetNoRoute…)
   * is the same for every path: what a probe of /admin asked for.
   */
  path?: string;
  /** "instrumentation" for crumbtrail spans, "http-span" / "rpc-span" for derived events. */
  origin?: 'instrumentation' | 'http-span' | 'rpc-span';
  sizeLimits?: SizeLimitMarkers;
}

export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: JsonValue;
  responseElements: JsonValue;
  additionalEventData?: JsonValue;
  requestID?: string;
  eventID: string;
  readOnly: boolean;
  resources?: EventResource[];
  eventType: string;
  managementEvent: boolean;
  recipientAccountId?: string;
  sharedEventID?: string;
  eventCategory: string;
  sessionCredentialFromConsole?: 'true';
  tlsDetails?: TlsDetails;
  crumbtrail: CrumbtrailExtension;
}

/** One attribute's top values in an insight: CloudTrail's `attributions` entries. */
export interface InsightAttribution {
  attribute: 'userIdentityArn' | 'userAgent' | 'errorCode';
  insight: { value: string; average: number }[];
  baseline: { value: string; average: number }[];
}

export interface InsightDetails {
  state: 'Start' | 'End';
  eventSource: string;
  eventName: string;
  insightType: 'ApiCallRateInsight' | 'ApiErrorRateInsight';
  insightContext: {
    statistics: {
      /** Calls per minute (call rate) or error fraction (error rate) the baseline expected. */
      baseline: { average: number };
      /** ...and what was seen: in the first minutes for a Start, over the whole insight for an End. */
      insight: { average: number };
      /** Minutes. */
      insightDuration?: number;
      baselineDuration: number;
    };
    attributions: InsightAttribution[];
  };
}

/** What crumbtrail adds to an insight record: why it fired, in figures and in words. */
export interface InsightExplanation {
  /** Highest z-score reached, and the threshold it was compared with. */
  score: number;
  threshold: number;
  /** "seasonal" (same time of day on earlier days), or "warming-up" (too little history yet). */
  baseline: 'seasonal' | 'warming-up';
  /** Calls per minute during the insight (for error rates: all calls). */
  callsPerMinute: number;
  /** For an End: "normal" (traffic returned to its baseline) or "max-duration" (the new normal). */
  endReason?: 'normal' | 'max-duration';
  /** Only on a drop (collector option --insights-detect-drops): the calls fell, not rose. */
  direction?: 'decrease';
  summary: string;
}

/** An insight event: CloudTrail's AwsCloudTrailInsight record. */
export interface InsightRecord {
  eventVersion: string;
  eventTime: string;
  awsRegion?: string;
  eventID: string;
  eventType: typeof EVENT_TYPE_INSIGHT;
  recipientAccountId?: string;
  sharedEventID: string;
  insightDetails: InsightDetails;
  eventCategory: typeof EVENT_CATEGORY_INSIGHT;
  crumbtrail: { origin: 'insights'; insight: InsightExplanation };
}

export type AuditRecord = CloudTrailRecord | InsightRecord;

export function isInsightRecord(record: AuditRecord): record is InsightRecord {
  return record.eventType === EVENT_TYPE_INSIGHT;
}

/**
 * A record ready for storage: the record plus the values the store indexes, computed once at
 * ingest so no engine has to dig them out of the JSON again.
 */
export interface StoredEvent<R extends AuditRecord = AuditRecord> {
  record: R;
  /** Epoch milliseconds of eventTime. */
  eventTimeMs: number;
  /** The record as JSON text, when ingest already serialised it (to measure and cap it). */
  json?: string;
  /** What the Username lookup attribute matches: userIdentity.userName, else principalId. */
  username: string | undefined;
}

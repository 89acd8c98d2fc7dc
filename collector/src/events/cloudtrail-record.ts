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
  /** Documents omitted above 100 KB (requestParameters, responseElements, additionalEventData). */
  omitted?: { field: string; originalBytes: number }[];
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
  /** HTTP status code of the call, when it was an HTTP call. */
  httpStatusCode?: number;
  /** "instrumentation" for crumbtrail spans, "http-span" / "rpc-span" for derived events. */
  origin?: 'instrumentation' | 'http-span' | 'rpc-span' | 'insights';
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
  insightDetails?: { [key: string]: JsonValue };
  crumbtrail: CrumbtrailExtension;
}

/**
 * A record ready for storage: the record plus the values the store indexes, computed once at
 * ingest so no engine has to dig them out of the JSON again.
 */
export interface StoredEvent {
  record: CloudTrailRecord;
  /** Epoch milliseconds of eventTime. */
  eventTimeMs: number;
  /** What the Username lookup attribute matches: userIdentity.userName, else principalId. */
  username: string | undefined;
}

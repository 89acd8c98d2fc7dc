/*
 * The parts of a crumbtrail record (CloudTrail format, eventVersion 1.11) the plugins read. The
 * collector owns the full type; a record here is whatever JSON it returns, read defensively.
 */
export interface AuditRecord {
  eventID: string;
  eventTime: string;
  /** Absent on insight records, which name their API in insightDetails (as CloudTrail's do). */
  eventName?: string;
  eventSource?: string;
  eventCategory?: string;
  eventType?: string;
  readOnly?: boolean;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string;
  errorMessage?: string;
  requestID?: string;
  sessionCredentialFromConsole?: string;
  userIdentity?: {
    type?: string;
    userName?: string;
    arn?: string;
    principalId?: string;
    accessKeyId?: string;
    invokedBy?: string;
  };
  resources?: Array<{ type?: string; name?: string; ARN?: string }>;
  insightDetails?: {
    state: 'Start' | 'End';
    eventSource: string;
    eventName: string;
    insightType: string;
  };
  crumbtrail?: { traceId?: string; spanId?: string; serviceName?: string };
}

/** The insight pairs of GET /api/v1/insights. */
export interface InsightSummary {
  sharedEventID: string;
  eventSource: string;
  eventName: string;
  insightType: string;
  state: 'active' | 'ended';
  startTime: string;
  endTime: string | null;
  baselineAverage: number;
  insightAverage: number;
  summary: string;
}

/** The API a record is about: the call's, or the one an insight is on. */
export function apiOf(record: AuditRecord): { eventName?: string; eventSource?: string } {
  return {
    eventName: record.eventName ?? record.insightDetails?.eventName,
    eventSource: record.eventSource ?? record.insightDetails?.eventSource,
  };
}

/** Who made the call, as CloudTrail's console shows it in the "User name" column. */
export function callerName(record: AuditRecord): string | undefined {
  const identity = record.userIdentity;
  return identity?.userName ?? identity?.arn?.split('/').pop() ?? identity?.invokedBy ?? identity?.principalId;
}

/** The first resource's "Type/name", as in "John CreateUser User/Mary". */
export function resourceLabel(record: AuditRecord): string | undefined {
  const resource = record.resources?.[0];
  if (resource === undefined) {
    return undefined;
  }
  const name = resource.name ?? resource.ARN;
  if (resource.type === undefined) {
    return name;
  }
  return name === undefined ? resource.type : `${resource.type}/${name}`;
}

/*
 * Span → CloudTrail record. A span becomes an event when it carries crumbtrail.event.name (set by
 * @crumbtrail/instrumentation), or, when derivation is enabled, when it is an HTTP/RPC SERVER span
 * (see derive-from-server-span.ts). Everything else is ignored and counted.
 */
import * as A from '@crumbtrail/instrumentation/attributes';
import { errorCodeForHttpStatus, isReadOnlyHttpMethod } from '@crumbtrail/instrumentation/conventions';
import type { Attributes, DecodedSpan } from '../otlp/decoded-span.js';
import { StatusCode } from '../otlp/decoded-span.js';
import {
  readBoolean,
  readFirstString,
  readInteger,
  readString,
  readStringArray,
} from './attribute-readers.js';
import type { CloudTrailRecord, EventResource, StoredEvent, UserIdentity } from './cloudtrail-record.js';
import {
  EVENT_CATEGORY_DATA,
  EVENT_CATEGORY_MANAGEMENT,
  EVENT_TYPE_API_CALL,
  EVENT_VERSION,
} from './cloudtrail-record.js';
import type { CallDescription } from './call-description.js';
import { UNNAMED_FAILURE_CODE, namedErrorType } from './call-description.js';
import { deriveServerSpanCall } from './derive-from-server-span.js';
import { deterministicEventId } from './event-id.js';
import { derivedSourceAddress, normalizeAddress } from './source-address.js';
import { SizeLimiter } from './size-limits.js';
import { wellFormed } from '../text/well-formed.js';

export interface MappingOptions {
  /** Turn plain OpenTelemetry HTTP/RPC SERVER spans (no crumbtrail attributes) into events. */
  deriveFromServerSpans: boolean;
  /**
   * Proxies whose forwarded client address (client.address / http.client_ip, from X-Forwarded-For)
   * is believed for events derived from plain server spans: IP addresses, CIDR ranges, or
   * "loopback", "linklocal", "uniquelocal". Default none: the connection's peer is the source.
   * Spans of @crumbtrail/instrumentation carry the address its own trustProxy chose.
   */
  trustedProxies?: readonly string[];
  /**
   * Event times accepted (epoch ms, inclusive): older than retention would be acknowledged and
   * then deleted by the next sweep; far in the future would sit atop every newest-first list and
   * never expire. Unbounded when absent.
   */
  acceptedTimes?: { fromMs: number; toMs: number };
}

export type MappingResult =
  | { outcome: 'event'; event: StoredEvent<CloudTrailRecord> }
  | { outcome: 'ignored' }
  | { outcome: 'rejected'; reason: string };

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALLOWED_CATEGORIES: ReadonlySet<string> = new Set([
  EVENT_CATEGORY_MANAGEMENT,
  EVENT_CATEGORY_DATA,
  'NetworkActivity',
]);
/**
 * CloudTrail's event types a client may send. AwsCloudTrailInsight is the collector's own: a span
 * claiming it would forge an insight.
 */
const CLIENT_EVENT_TYPES: ReadonlySet<string> = new Set([
  EVENT_TYPE_API_CALL,
  'AwsServiceEvent',
  'AwsConsoleAction',
  'AwsConsoleSignIn',
  'AwsVpceEvent',
]);
/** More resources than this on one call is a bug in the caller, not an audit need. */
const MAX_RESOURCES = 100;
/** Span names quoted in rejection messages are cut to this many characters. */
const QUOTED_NAME_CHARS = 100;
const NANOS_PER_MILLI = 1_000_000n;

function describeAuditSpan(span: DecodedSpan, eventName: string): CallDescription {
  const attributes = span.attributes;
  const method = readFirstString(attributes, [A.ATTR_HTTP_REQUEST_METHOD, A.ATTR_HTTP_METHOD_OLD]);
  const status =
    readInteger(attributes, A.ATTR_HTTP_RESPONSE_STATUS_CODE) ??
    readInteger(attributes, A.ATTR_HTTP_STATUS_CODE_OLD);
  const readOnly =
    readBoolean(attributes, A.ATTR_CRUMBTRAIL_READ_ONLY) ??
    (method === undefined ? false : isReadOnlyHttpMethod(method));
  const errorCode =
    readString(attributes, A.ATTR_CRUMBTRAIL_ERROR_CODE) ??
    namedErrorType(attributes) ??
    errorCodeForHttpStatus(status) ??
    (span.statusCode === StatusCode.ERROR ? UNNAMED_FAILURE_CODE : undefined);
  return {
    eventName,
    eventSource: readString(attributes, A.ATTR_CRUMBTRAIL_EVENT_SOURCE),
    readOnly,
    errorCode,
    origin: 'instrumentation',
  };
}

function parseResources(attributes: Attributes, limiter: SizeLimiter): EventResource[] | undefined {
  const types = readStringArray(attributes, A.ATTR_CRUMBTRAIL_RESOURCE_TYPES);
  const names = readStringArray(attributes, A.ATTR_CRUMBTRAIL_RESOURCE_NAMES);
  const arns = readStringArray(attributes, A.ATTR_CRUMBTRAIL_RESOURCE_ARNS);
  const accountIds = readStringArray(attributes, A.ATTR_CRUMBTRAIL_RESOURCE_ACCOUNT_IDS);
  const given = Math.max(types.length, names.length, arns.length, accountIds.length);
  const count = Math.min(MAX_RESOURCES, given);
  if (count === 0) return undefined;
  if (given > count) limiter.listCut('resources', count, given);
  const resources: EventResource[] = [];
  for (let i = 0; i < count; i++) {
    const resource: EventResource = {};
    const arn = limiter.truncate(`resources[${i}].ARN`, arns[i] || undefined);
    const accountId = limiter.truncate(`resources[${i}].accountId`, accountIds[i] || undefined);
    const type = limiter.truncate(`resources[${i}].type`, types[i] || undefined);
    const name = limiter.truncate(`resources[${i}].name`, names[i] || undefined);
    if (arn !== undefined) resource.ARN = arn;
    if (accountId !== undefined) resource.accountId = accountId;
    if (type !== undefined) resource.type = type;
    if (name !== undefined) resource.name = name;
    resources.push(resource);
  }
  return resources;
}

function parseUserIdentity(attributes: Attributes, limiter: SizeLimiter): UserIdentity {
  const identity: UserIdentity = {};
  const principalId = readFirstString(attributes, [A.ATTR_USER_ID, A.ATTR_ENDUSER_ID]);
  const userName = readString(attributes, A.ATTR_USER_NAME);
  const arn = readString(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_ARN);
  const accountId = readString(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_ACCOUNT_ID);
  const accessKeyId = readString(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID);
  const invokedBy = readString(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_INVOKED_BY);
  const known = [principalId, userName, arn, accountId, accessKeyId, invokedBy].some((v) => v !== undefined);
  identity.type =
    limiter.truncate('userIdentity.type', readString(attributes, A.ATTR_CRUMBTRAIL_IDENTITY_TYPE)) ??
    (known ? 'Unknown' : 'Anonymous');
  if (principalId !== undefined)
    identity.principalId = limiter.truncate('userIdentity.principalId', principalId);
  if (arn !== undefined) identity.arn = limiter.truncate('userIdentity.arn', arn);
  if (accountId !== undefined) identity.accountId = limiter.truncate('userIdentity.accountId', accountId);
  if (accessKeyId !== undefined)
    identity.accessKeyId = limiter.truncate('userIdentity.accessKeyId', accessKeyId);
  if (userName !== undefined) identity.userName = limiter.truncate('userIdentity.userName', userName);
  const sessionContext = limiter.document(
    'userIdentity.sessionContext',
    attributes.get(A.ATTR_CRUMBTRAIL_IDENTITY_SESSION_CONTEXT),
  );
  if (sessionContext !== null && typeof sessionContext === 'object' && !Array.isArray(sessionContext)) {
    identity.sessionContext = sessionContext;
  }
  if (invokedBy !== undefined) identity.invokedBy = limiter.truncate('userIdentity.invokedBy', invokedBy);
  return identity;
}

function parseTlsDetails(attributes: Attributes, limiter: SizeLimiter): CloudTrailRecord['tlsDetails'] {
  const tlsVersion = readString(attributes, A.ATTR_TLS_PROTOCOL_VERSION);
  const cipherSuite = readString(attributes, A.ATTR_TLS_CIPHER);
  if (tlsVersion === undefined && cipherSuite === undefined) return undefined;
  const details: NonNullable<CloudTrailRecord['tlsDetails']> = {};
  if (tlsVersion !== undefined) {
    details.tlsVersion = limiter.truncate('tlsDetails.tlsVersion', `TLSv${tlsVersion}`) ?? '';
  }
  if (cipherSuite !== undefined) {
    details.cipherSuite = limiter.truncate('tlsDetails.cipherSuite', cipherSuite) ?? '';
  }
  const host = readString(attributes, A.ATTR_SERVER_ADDRESS);
  if (host !== undefined) {
    details.clientProvidedHostHeader = limiter.truncate('tlsDetails.clientProvidedHostHeader', host) ?? '';
  }
  return details;
}

/** Attributes that may sit on the span or, for a whole service, on its resource. */
function spanOrResource(span: DecodedSpan, key: string): string | undefined {
  return readString(span.attributes, key) ?? readString(span.resource, key);
}

function setIfDefined<K extends keyof CloudTrailRecord>(
  record: CloudTrailRecord,
  key: K,
  value: CloudTrailRecord[K] | undefined,
): void {
  if (value !== undefined) record[key] = value;
}

/**
 * The path of a call that matched no route (its name, GetNoRoute, is the same for every path):
 * url.path, else http.target without its query, which may carry secrets.
 */
function unroutedPath(attributes: Attributes): string | undefined {
  if (readString(attributes, A.ATTR_HTTP_ROUTE) !== undefined) return undefined;
  const path = readString(attributes, A.ATTR_URL_PATH);
  if (path !== undefined) return path;
  const target = readString(attributes, A.ATTR_HTTP_TARGET_OLD);
  if (target === undefined) return undefined;
  const end = target.search(/[?#]/);
  return end < 0 ? target : target.slice(0, end);
}

function buildRecord(
  span: DecodedSpan,
  call: CallDescription & { eventType: string },
  eventTimeMs: number,
  options: MappingOptions,
): StoredEvent<CloudTrailRecord> {
  const attributes = span.attributes;
  const limiter = new SizeLimiter();
  const category = readString(attributes, A.ATTR_CRUMBTRAIL_EVENT_CATEGORY) ?? EVENT_CATEGORY_MANAGEMENT;
  const serviceName = limiter.truncate(
    'crumbtrail.serviceName',
    readString(span.resource, A.ATTR_SERVICE_NAME),
  );
  const errorCode = limiter.truncate('errorCode', call.errorCode);
  const errorMessage =
    readString(attributes, A.ATTR_CRUMBTRAIL_ERROR_MESSAGE) ??
    (errorCode !== undefined && span.statusMessage.length > 0 ? wellFormed(span.statusMessage) : undefined);
  const peerAddress = normalizeAddress(
    readFirstString(attributes, [A.ATTR_NETWORK_PEER_ADDRESS, A.ATTR_NET_PEER_IP_OLD]),
  );
  const clientAddress = normalizeAddress(
    readFirstString(attributes, [A.ATTR_CLIENT_ADDRESS, A.ATTR_HTTP_CLIENT_IP_OLD]),
  );
  // The instrumentation chose client.address by its trustProxy; a plain span's came from a header.
  const sourceAddress =
    call.origin === 'instrumentation'
      ? (clientAddress ?? peerAddress)
      : derivedSourceAddress(clientAddress, peerAddress, options.trustedProxies);
  const userIdentity = parseUserIdentity(attributes, limiter);
  const record: CloudTrailRecord = {
    eventVersion: EVENT_VERSION,
    userIdentity,
    eventTime: new Date(eventTimeMs).toISOString(),
    eventSource: limiter.truncate('eventSource', call.eventSource ?? serviceName ?? 'unknown_service') ?? '',
    eventName: limiter.truncate('eventName', call.eventName) ?? '',
    requestParameters: limiter.document(
      'requestParameters',
      attributes.get(A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS),
    ),
    responseElements: limiter.document(
      'responseElements',
      attributes.get(A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS),
    ),
    eventID: deterministicEventId(eventTimeMs, span.traceId + span.spanId),
    readOnly: call.readOnly,
    eventType: call.eventType,
    managementEvent: category === EVENT_CATEGORY_MANAGEMENT,
    eventCategory: category,
    crumbtrail: { traceId: span.traceId, spanId: span.spanId, origin: call.origin },
  };
  if (span.startTimeUnixNano > 0n && span.endTimeUnixNano >= span.startTimeUnixNano) {
    // eventTime is the start: how long the call took is only here (fractional milliseconds).
    record.crumbtrail.durationMs = Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
  }
  limiter.omittedUpstream(
    'requestParameters',
    readInteger(attributes, A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS_OMITTED_BYTES),
  );
  limiter.omittedUpstream(
    'responseElements',
    readInteger(attributes, A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS_OMITTED_BYTES),
  );
  setIfDefined(record, 'awsRegion', limiter.truncate('awsRegion', spanOrResource(span, A.ATTR_CLOUD_REGION)));
  setIfDefined(record, 'sourceIPAddress', limiter.truncate('sourceIPAddress', sourceAddress));
  setIfDefined(
    record,
    'userAgent',
    limiter.truncate(
      'userAgent',
      readFirstString(attributes, [A.ATTR_USER_AGENT_ORIGINAL, A.ATTR_HTTP_USER_AGENT_OLD]),
    ),
  );
  setIfDefined(record, 'errorCode', errorCode);
  setIfDefined(record, 'errorMessage', limiter.truncate('errorMessage', errorMessage));
  const additional = limiter.document(
    'additionalEventData',
    attributes.get(A.ATTR_CRUMBTRAIL_ADDITIONAL_EVENT_DATA),
  );
  if (additional !== null) record.additionalEventData = additional;
  setIfDefined(
    record,
    'requestID',
    limiter.truncate('requestID', readString(attributes, A.ATTR_CRUMBTRAIL_REQUEST_ID)),
  );
  setIfDefined(record, 'resources', parseResources(attributes, limiter));
  setIfDefined(
    record,
    'recipientAccountId',
    limiter.truncate('recipientAccountId', spanOrResource(span, A.ATTR_CLOUD_ACCOUNT_ID)),
  );
  if (readBoolean(attributes, A.ATTR_CRUMBTRAIL_CONSOLE_SESSION) === true) {
    record.sessionCredentialFromConsole = 'true';
  }
  setIfDefined(record, 'tlsDetails', parseTlsDetails(attributes, limiter));

  const extension = record.crumbtrail;
  if (SPAN_ID.test(span.parentSpanId)) extension.parentSpanId = span.parentSpanId;
  if (serviceName !== undefined) extension.serviceName = serviceName;
  const serviceVersion = limiter.truncate(
    'crumbtrail.serviceVersion',
    readString(span.resource, A.ATTR_SERVICE_VERSION),
  );
  if (serviceVersion !== undefined) extension.serviceVersion = serviceVersion;
  if (peerAddress !== undefined)
    extension.peerAddress = limiter.truncate('crumbtrail.peerAddress', peerAddress);
  const status =
    readInteger(attributes, A.ATTR_HTTP_RESPONSE_STATUS_CODE) ??
    readInteger(attributes, A.ATTR_HTTP_STATUS_CODE_OLD);
  if (status !== undefined) extension.httpStatusCode = status;
  const path = unroutedPath(attributes);
  if (path !== undefined) extension.path = limiter.truncate('crumbtrail.path', path);

  // Serialised here, once: the size cap needs the bytes, and the store writes this text as is.
  const json = limiter.serialize(record);
  return { record, eventTimeMs, json, username: userIdentity.userName ?? userIdentity.principalId };
}

function rejection(span: DecodedSpan, problem: string): MappingResult {
  const name = wellFormed(span.name.slice(0, QUOTED_NAME_CHARS));
  return {
    outcome: 'rejected',
    reason: `span "${name}${span.name.length > QUOTED_NAME_CHARS ? '…' : ''}": ${problem}`,
  };
}

function describeTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/** Maps one decoded span; never throws for bad span content (that is a rejection). */
export function spanToEvent(span: DecodedSpan, options: MappingOptions): MappingResult {
  const explicitName = readString(span.attributes, A.ATTR_CRUMBTRAIL_EVENT_NAME);
  let call: CallDescription | undefined;
  if (explicitName !== undefined) {
    call = describeAuditSpan(span, explicitName);
  } else if (options.deriveFromServerSpans) {
    call = deriveServerSpanCall(span);
  }
  if (call === undefined) return { outcome: 'ignored' };

  if (!TRACE_ID.test(span.traceId) || /^0+$/.test(span.traceId)) {
    return rejection(span, 'traceId must be 32 hex digits, not all zero');
  }
  if (!SPAN_ID.test(span.spanId) || /^0+$/.test(span.spanId)) {
    return rejection(span, 'spanId must be 16 hex digits, not all zero');
  }
  // CloudTrail's eventTime is when the request was made: the span's start (its end when a client
  // sent none), so that time-range lookups agree with CloudTrail's. The duration is kept beside.
  const startNanos = span.startTimeUnixNano > 0n ? span.startTimeUnixNano : span.endTimeUnixNano;
  const eventTimeMs = Number(startNanos / NANOS_PER_MILLI);
  if (startNanos === 0n || !Number.isFinite(eventTimeMs) || eventTimeMs > 253402300799999) {
    return rejection(span, 'missing or out-of-range start time');
  }
  const accepted = options.acceptedTimes;
  if (accepted !== undefined && eventTimeMs < accepted.fromMs) {
    return rejection(
      span,
      `started at ${describeTime(eventTimeMs)}, before the retention period (events from ${describeTime(accepted.fromMs)} are kept)`,
    );
  }
  if (accepted !== undefined && eventTimeMs > accepted.toMs) {
    return rejection(
      span,
      `started at ${describeTime(eventTimeMs)}, in the future (the collector's clock allows up to ${describeTime(accepted.toMs)}): check the client's clock`,
    );
  }
  const category = readString(span.attributes, A.ATTR_CRUMBTRAIL_EVENT_CATEGORY);
  if (category !== undefined && !ALLOWED_CATEGORIES.has(category)) {
    return rejection(span, `${A.ATTR_CRUMBTRAIL_EVENT_CATEGORY} must be Management, Data or NetworkActivity`);
  }
  const eventType = readString(span.attributes, A.ATTR_CRUMBTRAIL_EVENT_TYPE) ?? EVENT_TYPE_API_CALL;
  if (!CLIENT_EVENT_TYPES.has(eventType)) {
    return rejection(
      span,
      `${A.ATTR_CRUMBTRAIL_EVENT_TYPE} must be one of ${[...CLIENT_EVENT_TYPES].join(', ')} (insight events are the collector's own)`,
    );
  }
  return { outcome: 'event', event: buildRecord(span, { ...call, eventType }, eventTimeMs, options) };
}

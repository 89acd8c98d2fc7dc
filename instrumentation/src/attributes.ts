/*
 * The span → audit-event contract: every attribute name the instrumentation writes and the
 * collector reads. This module is the single source of truth; the collector imports it from
 * '@crumbtrail/instrumentation/attributes'. It has no runtime dependencies so that importing it
 * never pulls the OpenTelemetry SDK into the collector.
 *
 * Semantic-convention attributes are used wherever one exists (see ./semconv.ts and
 * @opentelemetry/semantic-conventions); the rest live under the `crumbtrail.` namespace because
 * OpenTelemetry has no accepted audit conventions yet (semantic-conventions#2468).
 */

export * from './semconv.js';
export {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_RPC_METHOD,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_PATH,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';

/** Prefix of every crumbtrail-specific attribute. */
export const CRUMBTRAIL_NAMESPACE = 'crumbtrail.' as const;

/**
 * The API action, e.g. "CreateUser" (CloudTrail eventName). Its presence marks a span as an audit
 * span: spans without it are ignored by the collector unless it derives events from HTTP spans.
 */
export const ATTR_CRUMBTRAIL_EVENT_NAME = 'crumbtrail.event.name' as const;
/** The service called, e.g. "iam.example.com" (CloudTrail eventSource); defaults to service.name. */
export const ATTR_CRUMBTRAIL_EVENT_SOURCE = 'crumbtrail.event.source' as const;
/** CloudTrail eventType; defaults to "AwsApiCall". */
export const ATTR_CRUMBTRAIL_EVENT_TYPE = 'crumbtrail.event.type' as const;
/** CloudTrail eventCategory: "Management" (default) or "Data". */
export const ATTR_CRUMBTRAIL_EVENT_CATEGORY = 'crumbtrail.event.category' as const;
/** Boolean: the call only reads state. Defaults from the HTTP method when absent. */
export const ATTR_CRUMBTRAIL_READ_ONLY = 'crumbtrail.read_only' as const;

/** CloudTrail userIdentity.type, e.g. "IAMUser", "AssumedRole", "AWSService". */
export const ATTR_CRUMBTRAIL_IDENTITY_TYPE = 'crumbtrail.identity.type' as const;
/** CloudTrail userIdentity.arn (or any stable URN of the caller). */
export const ATTR_CRUMBTRAIL_IDENTITY_ARN = 'crumbtrail.identity.arn' as const;
/** CloudTrail userIdentity.accountId: the caller's account (tenant). */
export const ATTR_CRUMBTRAIL_IDENTITY_ACCOUNT_ID = 'crumbtrail.identity.account_id' as const;
/** CloudTrail userIdentity.accessKeyId: the API key or credential id used. Never the secret. */
export const ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID = 'crumbtrail.identity.access_key_id' as const;
/** CloudTrail userIdentity.invokedBy: the service that made the call on the user's behalf. */
export const ATTR_CRUMBTRAIL_IDENTITY_INVOKED_BY = 'crumbtrail.identity.invoked_by' as const;
/** CloudTrail userIdentity.sessionContext as a JSON object string. */
export const ATTR_CRUMBTRAIL_IDENTITY_SESSION_CONTEXT = 'crumbtrail.identity.session_context' as const;
/** Boolean: the call came from a console (browser) session → sessionCredentialFromConsole. */
export const ATTR_CRUMBTRAIL_CONSOLE_SESSION = 'crumbtrail.session.console' as const;

/**
 * Resources touched by the call, as parallel string arrays (OpenTelemetry attributes cannot hold
 * arrays of objects): index i of each array describes resource i. Use "" where a value is unknown.
 */
export const ATTR_CRUMBTRAIL_RESOURCE_TYPES = 'crumbtrail.resource.types' as const;
export const ATTR_CRUMBTRAIL_RESOURCE_NAMES = 'crumbtrail.resource.names' as const;
export const ATTR_CRUMBTRAIL_RESOURCE_ARNS = 'crumbtrail.resource.arns' as const;
export const ATTR_CRUMBTRAIL_RESOURCE_ACCOUNT_IDS = 'crumbtrail.resource.account_ids' as const;

/** requestParameters as a JSON object string, already redacted by the instrumentation. */
export const ATTR_CRUMBTRAIL_REQUEST_PARAMETERS = 'crumbtrail.request.parameters' as const;
/** responseElements as a JSON object string, already redacted (write calls only). */
export const ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS = 'crumbtrail.response.elements' as const;
/** additionalEventData as a JSON object string. */
export const ATTR_CRUMBTRAIL_ADDITIONAL_EVENT_DATA = 'crumbtrail.additional_event_data' as const;
/** The service-generated request id (CloudTrail requestID). */
export const ATTR_CRUMBTRAIL_REQUEST_ID = 'crumbtrail.request.id' as const;

/** CloudTrail errorCode, e.g. "AccessDenied". Falls back to error.type, then the HTTP status. */
export const ATTR_CRUMBTRAIL_ERROR_CODE = 'crumbtrail.error.code' as const;
/** CloudTrail errorMessage. Falls back to the span status message. */
export const ATTR_CRUMBTRAIL_ERROR_MESSAGE = 'crumbtrail.error.message' as const;

/**
 * Size in bytes of a requestParameters / responseElements document the instrumentation left out
 * because it exceeded the 100 KB limit (the collector records the omission in sizeLimits).
 */
export const ATTR_CRUMBTRAIL_REQUEST_PARAMETERS_OMITTED_BYTES =
  'crumbtrail.request.parameters.omitted_bytes' as const;
export const ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS_OMITTED_BYTES =
  'crumbtrail.response.elements.omitted_bytes' as const;

/** Value that replaces a redacted secret in requestParameters/responseElements. */
export const REDACTED_MARKER = '[REDACTED]' as const;

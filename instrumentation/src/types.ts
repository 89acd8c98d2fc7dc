/*
 * Public configuration and data types of @crumbtrail/instrumentation. Internal shapes live in
 * internal-types.ts and are never exported from the package.
 */
import type { Span } from '@opentelemetry/api';

/** Who made the call: CloudTrail's userIdentity. Every field is optional. */
export interface AuditIdentity {
  /** e.g. "IAMUser", "AssumedRole", "WebIdentityUser", "AWSService", "Anonymous". */
  type?: string;
  /** Login or display name (semantic convention user.name). */
  userName?: string;
  /** Stable unique id of the caller (semantic convention user.id). */
  principalId?: string;
  arn?: string;
  /** The caller's account or tenant. */
  accountId?: string;
  /** Id of the credential used (an API key id, never the key itself). */
  accessKeyId?: string;
  /** The service that made the call on the user's behalf. */
  invokedBy?: string;
  sessionContext?: Record<string, unknown>;
}

/** A resource the call touched. */
export interface AuditResource {
  type: string;
  name?: string;
  arn?: string;
  accountId?: string;
}

export type EventCategory = 'Management' | 'Data' | 'NetworkActivity';

/** What may be known about one call; everything but eventName has a default. */
export interface ApiCallDetails {
  eventName: string;
  /** Defaults to the service name. */
  eventSource?: string;
  readOnly?: boolean;
  identity?: AuditIdentity;
  resources?: AuditResource[];
  /** Redacted and size-capped before it is recorded. */
  requestParameters?: unknown;
  /** Redacted and size-capped before it is recorded. */
  responseElements?: unknown;
  additionalEventData?: unknown;
  eventCategory?: EventCategory;
  requestId?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  /** The call came from a console (browser) session. */
  consoleSession?: boolean;
  /** Set for a failed call (CloudTrail errorCode, e.g. "AccessDenied"). */
  errorCode?: string;
  errorMessage?: string;
}

/** Redaction of secrets and size caps, applied before anything leaves the process. */
export interface RedactionConfig {
  /** Extra key patterns whose values become "[REDACTED]": a string matches keys containing it (any case), a RegExp as written. */
  keys?: (string | RegExp)[];
  /** Replace the default patterns instead of adding to them. */
  replaceDefaultKeys?: boolean;
  /** Longer string values are truncated (bytes of UTF-8). Default 4096. */
  maxValueBytes?: number;
  /** Larger documents (serialised) are omitted, as CloudTrail does. Default 100 KiB. */
  maxDocumentBytes?: number;
}

/** Resolves the caller of a request; may be async. A throw is logged and the call proceeds. */
export type IdentityResolver<Req> = (
  request: Req,
) => AuditIdentity | undefined | Promise<AuditIdentity | undefined>;

/** Which proxies to trust for X-Forwarded-For (proxy-addr syntax): hop count, names or CIDRs. */
export type TrustProxy = boolean | number | string | string[] | ((address: string, hop: number) => boolean);

/** Options of the HTTP adapters (Express, Fastify, node:http), shared by every route. */
export interface AuditHttpConfig<Req, Res> {
  /** eventSource of every call; defaults to the service name. */
  eventSource?: string;
  identity?: IdentityResolver<Req>;
  /**
   * Proxies whose X-Forwarded-For hops are skipped to find the client address. X-Forwarded-For is
   * forgeable: by default (false) no proxy is trusted and the peer address is the client.
   */
  trustProxy?: TrustProxy;
  /** Header carrying a request id to reuse; default "x-request-id". */
  requestIdHeader?: string;
  /** Response header that returns the request id; default "x-request-id"; false for none. */
  responseRequestIdHeader?: string | false;
  /** Whether a request came from a console session; default: a browser call (Sec-Fetch-Site + Mozilla UA). */
  isConsoleRequest?: (request: Req) => boolean;
  /** Record request parameters (body, query, route params) for every route. Default false. */
  captureRequestParameters?: boolean;
  /** Record the response body of write calls for every route. Default false. */
  captureResponseElements?: boolean;
  redaction?: RedactionConfig;
  /** Requests to leave out of the trail (health checks…). */
  ignore?: (request: Req) => boolean;
  /** Called with the span before it ends, to add attributes. A throw is logged, never rethrown. */
  responseHook?: (span: Span, request: Req, response: Res) => void;
}

/** Per-route options (Express `audit()`, Fastify route `config.audit`, node:http handler). */
export interface AuditRouteOptions<Req, Res> {
  /** Defaults to a name derived from method and route, e.g. POST /users/:id → PostUsersById. */
  eventName?: string;
  eventSource?: string;
  readOnly?: boolean;
  eventCategory?: EventCategory;
  /** Resources touched, computed when the response is sent (so created ids are known). */
  resources?: (request: Req, response: Res) => AuditResource[];
  /** true: body, query and route params; a function: exactly what it returns. */
  requestParameters?: boolean | ((request: Req) => unknown);
  /** true: the JSON response body (write calls); a function: exactly what it returns. */
  responseElements?: boolean | ((request: Req, response: Res, body: unknown) => unknown);
  /** Overrides the adapter's identity resolver for this route. */
  identity?: IdentityResolver<Req>;
}

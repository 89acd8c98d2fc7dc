/*
 * What every HTTP adapter (Express, Fastify, node:http) shares: start an audited call when a
 * request arrives (enriching the server span OpenTelemetry's http instrumentation already made,
 * else starting one), and record it when the response is sent, before that span ends.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { METHODS } from 'node:http';
import { SpanKind, SpanStatusCode, context, diag, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from './attributes.js';
import { describeError, recordAuditAttributes } from './audit-attributes.js';
import { clientAddress, compileTrust, peerAddress } from './client-address.js';
import type { TrustFunction } from './client-address.js';
import {
  AUDIT_LIMITS,
  deriveHttpEventName,
  errorCodeForHttpStatus,
  isReadOnlyHttpMethod,
  truncateUtf8,
} from './conventions.js';
import type { HttpCallState } from './internal-types.js';
import { Redactor } from './redaction.js';
import { resolveCaller } from './caller-resolution.js';
import { safeCall } from './safe-hooks.js';
import { tracer } from './tracer.js';
import type { ApiCallDetails, AuditHttpConfig, AuditIdentity, AuditRouteOptions } from './types.js';
import { newRequestId } from './request-id.js';

const DEFAULT_REQUEST_ID_HEADER = 'x-request-id';
/** A request id from a header is kept only when it looks like one (no log injection). */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export interface ResolvedHttpConfig<Req, Res> {
  config: AuditHttpConfig<Req, Res>;
  trust: TrustFunction;
  redactor: Redactor;
  requestIdHeader: string;
  responseRequestIdHeader: string | false;
}

export function resolveHttpConfig<Req, Res>(
  config: AuditHttpConfig<Req, Res> = {},
): ResolvedHttpConfig<Req, Res> {
  return {
    config,
    trust: compileTrust(config.trustProxy),
    redactor: new Redactor(config.redaction),
    requestIdHeader: (config.requestIdHeader ?? DEFAULT_REQUEST_ID_HEADER).toLowerCase(),
    responseRequestIdHeader: config.responseRequestIdHeader ?? DEFAULT_REQUEST_ID_HEADER,
  };
}

/**
 * The call of a request is kept on the request itself, under a symbol, not in a WeakMap. With a
 * module-level WeakMap (long-lived, so in V8's old generation), every call's state and span,
 * attributes and all, survived young-generation GCs and was promoted (Node 20: ~800 KB promoted
 * per scavenge instead of ~90 KB, and more GC time; instrumentation/bench with --trace-gc-nvp):
 * the scavenger evidently keeps such a map's young values alive until the next full GC.
 */
const CALL = Symbol('crumbtrail.call');

interface WithCall {
  [CALL]?: HttpCallState<unknown, unknown>;
}

export function callOf<Req, Res>(request: IncomingMessage): HttpCallState<Req, Res> | undefined {
  // One slot for every adapter: the request object itself tells which adapter's types apply.
  return (request as WithCall)[CALL];
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * A console is a web page: its calls come from a browser, which sends Sec-Fetch-Site and a
 * Mozilla/… user agent. (Sec-Fetch-Mode alone is not enough: Node's own fetch sends it too.)
 */
function looksLikeConsole(request: IncomingMessage): boolean {
  return (
    request.headers['sec-fetch-site'] !== undefined && /^Mozilla\//.test(request.headers['user-agent'] ?? '')
  );
}

/** Node's methods, all upper case: such a method needs no toUpperCase() (a V8 runtime call). */
const UPPER_CASE_METHODS: ReadonlySet<string> = new Set(METHODS);

function methodOf(request: IncomingMessage): string {
  const method = request.method ?? 'GET';
  return UPPER_CASE_METHODS.has(method) ? method : method.toUpperCase();
}

/**
 * The span of the call: the HTTP instrumentation's when it is active, else one started here as a
 * child of `parent` (the active context, read once: each context.active() costs ~400 instructions).
 */
function serverSpan(method: string, parent: Context): { span: Span; ownsSpan: boolean } {
  const active = trace.getSpan(parent);
  if (active?.isRecording() === true) return { span: active, ownsSpan: false };
  return { span: tracer().startSpan(method, { kind: SpanKind.SERVER }, parent), ownsSpan: true };
}

/** Starts (or returns the already started) audited call of a request. */
export function beginHttpCall<Req, Res>(
  raw: IncomingMessage,
  rawResponse: ServerResponse,
  resolved: ResolvedHttpConfig<Req, Res>,
  request: Req,
): HttpCallState<Req, Res> {
  const existing = callOf<Req, Res>(raw);
  if (existing !== undefined) return existing;
  const method = methodOf(raw);
  const given = headerValue(raw, resolved.requestIdHeader);
  const requestId = given !== undefined && SANE_REQUEST_ID.test(given) ? given : newRequestId();
  if (resolved.responseRequestIdHeader !== false && !rawResponse.headersSent) {
    rawResponse.setHeader(resolved.responseRequestIdHeader, requestId);
  }
  const isConsole = resolved.config.isConsoleRequest;
  // Named properties, not `...serverSpan(method)`: V8 (Node 20) builds a literal that spreads an
  // object and then adds this many properties on a slow path, ~25 µs of CPU per request
  // (instrumentation/bench).
  const parent = context.active();
  const { span, ownsSpan } = serverSpan(method, parent);
  const peer = peerAddress(raw);
  const state: HttpCallState<Req, Res> = {
    span,
    ownsSpan,
    parentContext: parent,
    method,
    requestId,
    sourceIPAddress: clientAddress(raw, resolved.trust, peer),
    peerAddress: peer,
    userAgent: headerValue(raw, 'user-agent'),
    consoleSession:
      isConsole === undefined
        ? looksLikeConsole(raw)
        : safeCall('isConsoleRequest', () => isConsole(request)) === true,
    target: (raw as { originalUrl?: string }).originalUrl ?? raw.url,
    route: undefined,
    routeTemplate: undefined,
    error: undefined,
    responseBody: undefined,
    finished: false,
    pending: undefined,
  };
  (raw as WithCall)[CALL] = state as HttpCallState<unknown, unknown>;
  return state;
}

/**
 * The caller of a completed call, from the route's resolver, else the adapter's. Asked when the
 * response is sent, not when the request arrives: by then the application's own authentication
 * (mounted after crumbtrail's middleware) has run and set its user, and a call it refused is
 * recorded too, with whatever the resolver can still tell. Undefined or a synchronous identity
 * when no waiting is needed, so the adapter goes on without a promise hop; else a promise that
 * never rejects.
 */
function callerOf<Req, Res>(
  state: HttpCallState<Req, Res>,
  resolved: ResolvedHttpConfig<Req, Res>,
  request: Req,
  statusCode: number,
): AuditIdentity | undefined | Promise<AuditIdentity | undefined> {
  const resolver = state.route?.identity ?? resolved.config.identity;
  if (resolver === undefined) return undefined;
  return resolveCaller(resolver, request, state.error !== undefined || statusCode >= 400);
}

/**
 * Finishes the call once: resolves its caller, then `record`s it with that identity, at once when
 * no waiting is needed (returns undefined), else when the resolver's promise settles (returns a
 * promise that never rejects; the adapter holds the response back until then, so the span is still
 * open). A later call while that is pending gets the same promise, to keep the response in order.
 */
export function whenCallerKnown<Req, Res>(
  state: HttpCallState<Req, Res>,
  resolved: ResolvedHttpConfig<Req, Res>,
  request: Req,
  statusCode: number,
  record: (identity: AuditIdentity | undefined) => void,
): Promise<void> | undefined {
  if (state.finished) return state.pending;
  state.finished = true;
  const caller = callerOf(state, resolved, request, statusCode);
  if (!(caller instanceof Promise)) {
    record(caller);
    return undefined;
  }
  state.pending = caller.then(record).then(undefined, (error: unknown) => {
    diag.error('@crumbtrail/instrumentation: recording the call failed', error);
  });
  return state.pending;
}

/**
 * Ends the response once the call is recorded (an async identity resolver was awaited), so the
 * server span, which ends with the response, is still open for the audit attributes. A throw
 * can no longer reach the code that ended the response: it is logged and the response destroyed.
 */
export function endOnceRecorded(
  pending: Promise<void>,
  response: ServerResponse,
  end: ServerResponse['end'],
  args: unknown[],
): void {
  void pending.then(() => {
    try {
      Reflect.apply(end, response, args);
    } catch (error) {
      diag.error('@crumbtrail/instrumentation: ending the response failed', error);
      response.destroy(error instanceof Error ? error : undefined);
    }
  });
}

/** Applies per-route options to the call (Express `audit()`, Fastify route config). */
export function setRouteOptions<Req, Res>(
  state: HttpCallState<Req, Res>,
  route: AuditRouteOptions<Req, Res>,
): void {
  state.route = route;
}

function nonEmpty(value: unknown): boolean {
  return (
    value !== undefined && value !== null && !(typeof value === 'object' && Object.keys(value).length === 0)
  );
}

/** A framework's request parameters (body, query, route params), keeping only the non-empty ones. */
export function requestParametersOf(body: unknown, query: unknown, params: unknown): unknown {
  const parameters: Record<string, unknown> = {};
  if (nonEmpty(body)) parameters.body = body;
  if (nonEmpty(query)) parameters.query = query;
  if (nonEmpty(params)) parameters.params = params;
  return Object.keys(parameters).length > 0 ? parameters : undefined;
}

function wanted<T>(option: boolean | T | undefined, adapterDefault: boolean | undefined): boolean | T {
  return option ?? adapterDefault ?? false;
}

/** The path of a request target, without its query (which may carry secrets). */
function pathOf(target: string): string {
  const end = target.search(/[?#]/);
  return truncateUtf8(end < 0 ? target : target.slice(0, end), AUDIT_LIMITS.truncateFieldBytes);
}

/**
 * Records the call on its span: once, when the response is sent and before the span ends, with
 * the caller `callerOf` gave. `defaultParameters` gives the framework's request parameters (body,
 * query, route params).
 */
export function finishHttpCall<Req, Res>(
  state: HttpCallState<Req, Res>,
  resolved: ResolvedHttpConfig<Req, Res>,
  request: Req,
  response: Res,
  statusCode: number,
  identity: AuditIdentity | undefined,
  defaultParameters: () => unknown,
): void {
  const { config, redactor } = resolved;
  const route: AuditRouteOptions<Req, Res> = state.route ?? {};
  const methodReadOnly = isReadOnlyHttpMethod(state.method);
  const readOnly = route.readOnly ?? methodReadOnly;
  const failure = state.error === undefined ? undefined : describeError(state.error);

  // Attributes the collector can infer are left out: every attribute costs the SDK and the OTLP
  // encoder ~6k instructions a call (BENCHMARKS.md, issue 12). The span has the method, so
  // crumbtrail.read_only only when it is not the method's (GET, HEAD, OPTIONS: true); and the
  // socket peer, so client.address only when a trusted proxy named another client (on our own span).
  const details: ApiCallDetails = {
    eventName: route.eventName ?? deriveHttpEventName(state.method, state.routeTemplate),
    requestId: state.requestId,
    consoleSession: state.consoleSession,
  };
  if (readOnly !== methodReadOnly) details.readOnly = readOnly;
  const eventSource = route.eventSource ?? config.eventSource;
  if (eventSource !== undefined) details.eventSource = eventSource;
  if (route.eventCategory !== undefined) details.eventCategory = route.eventCategory;
  if (identity !== undefined) details.identity = identity;
  // On instrumentation-http's span, client.address is what X-Forwarded-For claimed: always overwrite.
  const impliedByPeer = state.ownsSpan && state.sourceIPAddress === state.peerAddress;
  if (state.sourceIPAddress !== undefined && !impliedByPeer) details.sourceIPAddress = state.sourceIPAddress;
  if (state.userAgent !== undefined) details.userAgent = state.userAgent;
  const resourcesOf = route.resources;
  if (resourcesOf !== undefined) {
    const resources = safeCall('resources', () => resourcesOf(request, response));
    if (resources !== undefined) details.resources = resources;
  }
  const parameters = wanted(route.requestParameters, config.captureRequestParameters);
  if (typeof parameters === 'function') {
    details.requestParameters = safeCall('requestParameters', () => parameters(request));
  } else if (parameters) {
    details.requestParameters = safeCall('requestParameters', defaultParameters);
  }
  // CloudTrail records responseElements for calls that change state only.
  const elements = readOnly ? false : wanted(route.responseElements, config.captureResponseElements);
  if (typeof elements === 'function') {
    details.responseElements = safeCall('responseElements', () =>
      elements(request, response, state.responseBody),
    );
  } else if (elements) {
    details.responseElements = state.responseBody;
  }
  if (failure !== undefined) {
    details.errorCode = failure.errorCode;
    if (failure.errorMessage !== undefined) details.errorMessage = failure.errorMessage;
  } else {
    const code = errorCodeForHttpStatus(statusCode);
    if (code !== undefined) details.errorCode = code;
  }

  const span = state.span;
  recordAuditAttributes(span, details, redactor);
  if (state.peerAddress !== undefined) span.setAttribute('network.peer.address', state.peerAddress);
  if (state.routeTemplate !== undefined) span.setAttribute(ATTR_HTTP_ROUTE, state.routeTemplate);
  // A derived name without a route (GetNoRoute) is the same for every path: keep the path, to find
  // a probe by. (An explicit eventName says what the call was; its path costs a hot-path attribute.)
  else if (route.eventName === undefined && state.target !== undefined) {
    span.setAttribute(ATTR_URL_PATH, pathOf(state.target));
  }
  if (state.error instanceof Error) span.recordException(state.error);
  const hook = config.responseHook;
  if (hook !== undefined) {
    safeCall('responseHook', () => {
      hook(span, request, response);
    });
  }
  if (state.ownsSpan) {
    span.setAttribute(ATTR_HTTP_REQUEST_METHOD, state.method);
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
    if (state.routeTemplate !== undefined) span.updateName(`${state.method} ${state.routeTemplate}`);
    // OpenTelemetry's rule for server spans: 5xx is an error, 4xx is the client's and leaves it unset.
    if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

/**
 * Runs `next` with the call's span active, so spans the handler starts become its children. Called
 * as the call begins (node:http), so the context beginHttpCall saw is still the active one.
 */
export function withCallContext<T>(state: HttpCallState<unknown, unknown>, run: () => T): T {
  return state.ownsSpan ? context.with(trace.setSpan(state.parentContext, state.span), run) : run();
}

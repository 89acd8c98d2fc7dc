/*
 * Express 4 and 5: `auditMiddleware()` once at the top of the app (before authentication, so that
 * refused calls are recorded too), `audit({...})` on the routes that need a name, resources or
 * captured parameters, and `auditErrorHandler()` after the routes so thrown errors give the event
 * their code and message. Every request that passes the middleware is recorded when its response
 * is sent, with the caller known by then and a name derived from method + route when the route
 * gives none.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  beginHttpCall,
  callOf,
  endOnceRecorded,
  finishHttpCall,
  resolveHttpConfig,
  requestParametersOf,
  setRouteOptions,
  whenCallerKnown,
} from './http-call.js';
import type { ResolvedHttpConfig } from './http-call.js';
import type { HttpCallState } from './internal-types.js';
import type { AuditHttpConfig, AuditIdentity, AuditRouteOptions } from './types.js';

export type ExpressAuditConfig = AuditHttpConfig<Request, Response>;
export type ExpressRouteOptions = AuditRouteOptions<Request, Response>;

/** The template of a route Express matched, with the mount path of its router (/v1 + /users/:id). */
function templateOf(route: unknown, baseUrl: string | undefined): string | undefined {
  const path = (route as { path?: unknown } | undefined)?.path;
  // Outside every router (Express's final handler answering an error) baseUrl is undefined.
  return typeof path === 'string' ? `${baseUrl ?? ''}${path}` : undefined;
}

function routeTemplate(request: Request): string | undefined {
  return templateOf((request as { route?: unknown }).route, request.baseUrl);
}

const MATCHED_ROUTE = Symbol('crumbtrail.matchedRoute');

interface WatchedRequest {
  [MATCHED_ROUTE]?: unknown;
  baseUrl?: string;
}

/**
 * The route template of a call is taken when Express matches the route, not when the response is
 * sent: a thrown error is answered by an error handler outside the router that matched, where
 * req.baseUrl has lost the router's mount path (or is undefined), so "GET /v1/boom" would be named
 * GetBoom (or GetUndefinedBoom) when it fails and GetV1Boom when it succeeds. Express assigns
 * req.route as it dispatches each matched route, with req.baseUrl that route's mount path: an
 * accessor on the application's request prototype (which mounted sub-apps' prototypes inherit)
 * sees that, once per prototype rather than once per request.
 */
const watchedPrototypes = new WeakSet<object>();

function watchRouteMatches(request: Request): void {
  const prototype: unknown = Object.getPrototypeOf(request);
  if (typeof prototype !== 'object' || prototype === null || watchedPrototypes.has(prototype)) return;
  watchedPrototypes.add(prototype);
  if (Object.prototype.hasOwnProperty.call(prototype, 'route')) return; // someone else's: leave it
  Object.defineProperty(prototype, 'route', {
    configurable: true,
    enumerable: true,
    get(this: WatchedRequest): unknown {
      return this[MATCHED_ROUTE];
    },
    set(this: WatchedRequest & Request, route: unknown) {
      this[MATCHED_ROUTE] = route;
      const state = callOf<Request, Response>(this);
      if (state !== undefined && !state.finished) {
        const template = templateOf(route, this.baseUrl);
        if (template !== undefined) state.routeTemplate = template;
      }
    },
  });
}

function requestParameters(request: Request): unknown {
  return requestParametersOf(request.body, request.query, request.params);
}

/**
 * What the shared json/end wrappers need of a response's call. Plain data on the response, with
 * one wrapper function for all responses: a closure per request kept on the response made whole
 * requests survive young-generation GCs (see node-http.ts).
 */
interface ExpressRecording {
  state: HttpCallState<Request, Response>;
  resolved: ResolvedHttpConfig<Request, Response>;
  request: Request;
  json: Response['json'];
  end: Response['end'];
  /** req.params of the audited route: Express replaces them at each layer it matches after it. */
  routeParams: Request['params'] | undefined;
}

const RECORDING = Symbol('crumbtrail.recording');

interface RecordedResponse extends Response {
  [RECORDING]?: ExpressRecording;
}

/** Records the call just before the response is written, while the HTTP server span is open. */
function instrumentResponse(
  state: HttpCallState<Request, Response>,
  resolved: ResolvedHttpConfig<Request, Response>,
  request: Request,
  response: Response,
): void {
  (response as RecordedResponse)[RECORDING] = {
    state,
    resolved,
    request,
    // Both applied to this same response by the wrappers below.
    json: response.json,
    // eslint-disable-next-line @typescript-eslint/unbound-method
    end: response.end,
    routeParams: undefined,
  };
  response.json = recordingJson;
  response.end = recordingEnd as Response['end'];
}

/** The method a response has without our own-property wrapper (for a wrapper moved elsewhere). */
function inherited<K extends 'json' | 'end'>(response: Response, key: K): Response[K] {
  return (Object.getPrototypeOf(response) as Response)[key];
}

function recordingJson(this: RecordedResponse, body?: unknown): Response {
  const recording = this[RECORDING];
  if (recording === undefined) return Reflect.apply(inherited(this, 'json'), this, [body]);
  recording.state.responseBody = body;
  return Reflect.apply(recording.json, this, [body]);
}

function record(
  recording: ExpressRecording,
  response: RecordedResponse,
  statusCode: number,
  identity: AuditIdentity | undefined,
): void {
  const { state, request } = recording;
  if (state.routeTemplate === undefined) state.routeTemplate = routeTemplate(request);
  // An error middleware answering a failed route sees its own (empty) req.params: give the
  // resources and requestParameters callbacks the route's params, as a handler would see them.
  const current = request.params;
  request.params = recording.routeParams ?? current;
  try {
    finishHttpCall(state, recording.resolved, request, response, statusCode, identity, () =>
      requestParameters(request),
    );
  } finally {
    request.params = current;
  }
}

function recordingEnd(this: RecordedResponse, ...args: unknown[]): Response {
  const recording = this[RECORDING];
  if (recording === undefined) return Reflect.apply(inherited(this, 'end'), this, args) as Response;
  const statusCode = this.statusCode;
  const pending = whenCallerKnown(
    recording.state,
    recording.resolved,
    recording.request,
    statusCode,
    (identity) => {
      record(recording, this, statusCode, identity);
    },
  );
  if (pending === undefined) return Reflect.apply(recording.end, this, args) as Response;
  endOnceRecorded(pending, this, recording.end, args);
  return this;
}

function start(
  resolved: ResolvedHttpConfig<Request, Response>,
  request: Request,
  response: Response,
): HttpCallState<Request, Response> {
  const known = callOf<Request, Response>(request);
  if (known !== undefined) return known;
  const state = beginHttpCall(request, response, resolved, request);
  instrumentResponse(state, resolved, request, response);
  watchRouteMatches(request);
  return state;
}

/** The configuration of the last auditMiddleware(), for routes audited without one. */
let defaults: ResolvedHttpConfig<Request, Response> | undefined;

/**
 * App-level middleware: audits every request (except `ignore`d ones). Mount it first, before
 * authentication: the caller is resolved when the response is sent, so `identity` sees what
 * authentication set (req.user…), and calls it refuses are recorded with their error.
 */
export function auditMiddleware(config: ExpressAuditConfig = {}): RequestHandler {
  const resolved = resolveHttpConfig(config);
  defaults = resolved;
  return (request: Request, response: Response, next: NextFunction) => {
    if (config.ignore?.(request) === true) {
      next();
      return;
    }
    start(resolved, request, response);
    next();
  };
}

/**
 * Route-level options: `app.post('/users', audit({ eventName: 'CreateUser', … }), handler)`. Its
 * `identity` replaces the middleware's for this route, resolved when the response is sent too.
 */
export function audit(options: ExpressRouteOptions = {}): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const resolved = defaults ?? (defaults = resolveHttpConfig({}));
    const state = start(resolved, request, response);
    setRouteOptions(state, options);
    state.routeTemplate = routeTemplate(request);
    const recording = (response as RecordedResponse)[RECORDING];
    if (recording !== undefined) recording.routeParams = request.params;
    next();
  };
}

/** Error middleware (mount after the routes): gives the event the thrown error's code and message. */
export function auditErrorHandler(): ErrorRequestHandler {
  return (error: unknown, request: Request, _response: Response, next: NextFunction) => {
    const state = callOf(request);
    if (state !== undefined) state.error = error;
    next(error);
  };
}

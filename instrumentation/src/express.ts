/*
 * Express 4 and 5: `auditMiddleware()` once at the top of the app, `audit({...})` on the routes
 * that need a name, resources or captured parameters, and `auditErrorHandler()` after the routes so
 * thrown errors give the event their code and message. Every request that passes the middleware is
 * recorded, with a name derived from method + route when the route gives none.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import {
  beginHttpCall,
  callOf,
  finishHttpCall,
  resolveHttpConfig,
  resolveIdentity,
  requestParametersOf,
  setRouteOptions,
} from './http-call.js';
import type { ResolvedHttpConfig } from './http-call.js';
import type { HttpCallState } from './internal-types.js';
import type { AuditHttpConfig, AuditRouteOptions } from './types.js';

export type ExpressAuditConfig = AuditHttpConfig<Request, Response>;
export type ExpressRouteOptions = AuditRouteOptions<Request, Response>;

/** The route template Express matched, with the mount path of its router (e.g. /v1 + /users/:id). */
function routeTemplate(request: Request): string | undefined {
  const route = (request as { route?: { path?: unknown } }).route;
  if (typeof route?.path !== 'string') return undefined;
  return `${request.baseUrl}${route.path}`;
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

function recordingEnd(this: RecordedResponse, ...args: unknown[]): Response {
  const recording = this[RECORDING];
  if (recording === undefined) return Reflect.apply(inherited(this, 'end'), this, args) as Response;
  const { state, request } = recording;
  if (state.routeTemplate === undefined) state.routeTemplate = routeTemplate(request);
  // An error middleware answering a failed route sees its own (empty) req.params: give the
  // resources and requestParameters callbacks the route's params, as a handler would see them.
  const current = request.params;
  request.params = recording.routeParams ?? current;
  try {
    finishHttpCall(state, recording.resolved, request, this, this.statusCode, () =>
      requestParameters(request),
    );
  } finally {
    request.params = current;
  }
  return Reflect.apply(recording.end, this, args) as Response;
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
  return state;
}

/** Calls the next middleware once the caller is known: at once when that took no waiting. */
function continueAfterIdentity(identified: Promise<void> | undefined, next: NextFunction): void {
  if (identified === undefined) next();
  else
    void identified.then(() => {
      next();
    });
}

/** The configuration of the last auditMiddleware(), for routes audited without one. */
let defaults: ResolvedHttpConfig<Request, Response> | undefined;

/** App-level middleware: audits every request (except `ignore`d ones). Mount it first. */
export function auditMiddleware(config: ExpressAuditConfig = {}): RequestHandler {
  const resolved = resolveHttpConfig(config);
  defaults = resolved;
  return (request: Request, response: Response, next: NextFunction) => {
    if (config.ignore?.(request) === true) {
      next();
      return;
    }
    const state = start(resolved, request, response);
    continueAfterIdentity(resolveIdentity(state, config.identity, request), next);
  };
}

/** Route-level options: `app.post('/users', audit({ eventName: 'CreateUser', … }), handler)`. */
export function audit(options: ExpressRouteOptions = {}): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const resolved = defaults ?? (defaults = resolveHttpConfig({}));
    const state = start(resolved, request, response);
    setRouteOptions(state, options);
    state.routeTemplate = routeTemplate(request);
    const recording = (response as RecordedResponse)[RECORDING];
    if (recording !== undefined) recording.routeParams = request.params;
    continueAfterIdentity(resolveIdentity(state, options.identity, request), next);
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

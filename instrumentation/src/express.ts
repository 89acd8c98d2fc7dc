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

/** Records the call just before the response is written, while the HTTP server span is open. */
function instrumentResponse(
  state: HttpCallState<Request, Response>,
  resolved: ResolvedHttpConfig<Request, Response>,
  request: Request,
  response: Response,
): void {
  const json = response.json.bind(response);
  response.json = (body?: unknown) => {
    state.responseBody = body;
    return json(body);
  };
  const end = response.end.bind(response) as (...args: unknown[]) => Response;
  response.end = ((...args: unknown[]) => {
    if (state.routeTemplate === undefined) state.routeTemplate = routeTemplate(request);
    // An error middleware answering a failed route sees its own (empty) req.params: give the
    // resources and requestParameters callbacks the route's params, as a handler would see them.
    const current = request.params;
    request.params = routeParams.get(request) ?? current;
    try {
      finishHttpCall(state, resolved, request, response, response.statusCode, () =>
        requestParameters(request),
      );
    } finally {
      request.params = current;
    }
    return end(...args);
  }) as Response['end'];
}

/** req.params of the audited route: Express replaces them at each layer it matches after it. */
const routeParams = new WeakMap<Request, Request['params']>();

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
    if (config.identity === undefined) {
      next();
      return;
    }
    void resolveIdentity(state, config.identity, request).then(() => {
      next();
    });
  };
}

/** Route-level options: `app.post('/users', audit({ eventName: 'CreateUser', … }), handler)`. */
export function audit(options: ExpressRouteOptions = {}): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const resolved = defaults ?? (defaults = resolveHttpConfig({}));
    const state = start(resolved, request, response);
    setRouteOptions(state, options);
    state.routeTemplate = routeTemplate(request);
    routeParams.set(request, request.params);
    if (options.identity === undefined) {
      next();
      return;
    }
    void resolveIdentity(state, options.identity, request).then(() => {
      next();
    });
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

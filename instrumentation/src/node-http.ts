/*
 * Plain node:http: wrap a request listener.
 *   http.createServer(auditHandler({ eventName: 'CreateUser', identity }, (req, res) => { … }))
 * Without a router there is no route template: give eventName, or pass `route` for a derived one.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  beginHttpCall,
  finishHttpCall,
  resolveHttpConfig,
  resolveIdentity,
  setRouteOptions,
  withCallContext,
} from './http-call.js';
import type { HttpCallState } from './internal-types.js';
import type { AuditHttpConfig, AuditRouteOptions } from './types.js';

export interface NodeHttpAuditOptions
  extends
    AuditHttpConfig<IncomingMessage, ServerResponse>,
    AuditRouteOptions<IncomingMessage, ServerResponse> {
  /** Route template for the derived event name, e.g. "/users/:id". */
  route?: string;
}

type Listener = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export function auditHandler(options: NodeHttpAuditOptions, handler: Listener): RequestListener {
  const resolved = resolveHttpConfig<IncomingMessage, ServerResponse>(options);
  return (request, response) => {
    if (options.ignore?.(request) === true) {
      void handler(request, response);
      return;
    }
    const state = beginHttpCall(request, response, resolved, request);
    setRouteOptions(state, options);
    state.routeTemplate = options.route;
    const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
    response.end = ((...args: unknown[]) => {
      finishHttpCall(state, resolved, request, response, response.statusCode, () => undefined);
      return end(...args);
    }) as ServerResponse['end'];
    void resolveIdentity(state, options.identity, request).then(() => run(state, handler, request, response));
  };
}

async function run(
  state: HttpCallState<IncomingMessage, ServerResponse>,
  handler: Listener,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  try {
    await withCallContext(state as HttpCallState<unknown, unknown>, () => handler(request, response));
  } catch (error) {
    // The handler threw: record it, and answer 500 if it had not answered yet.
    state.error = error;
    if (!response.headersSent) response.statusCode = 500;
    if (!response.writableEnded) response.end();
  }
}

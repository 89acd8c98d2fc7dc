/*
 * Plain node:http: wrap a request listener.
 *   http.createServer(auditHandler({ eventName: 'CreateUser', identity }, (req, res) => { … }))
 * Without a router there is no route template: give eventName, or pass `route` for a derived one.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { diag } from '@opentelemetry/api';
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
      void answerFailures(handler, request, response, undefined);
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
    // Without a resolver there is nothing to wait for: no promise hop on every request.
    if (options.identity === undefined) void run(state, handler, request, response);
    else
      void resolveIdentity(state, options.identity, request).then(() =>
        run(state, handler, request, response),
      );
  };
}

async function run(
  state: HttpCallState<IncomingMessage, ServerResponse>,
  handler: Listener,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  await withCallContext(state as HttpCallState<unknown, unknown>, () =>
    answerFailures(handler, request, response, state),
  );
}

/** Runs the handler; if it throws, records the error (when audited) and answers 500 if it had not answered. */
async function answerFailures(
  handler: Listener,
  request: IncomingMessage,
  response: ServerResponse,
  state: HttpCallState<IncomingMessage, ServerResponse> | undefined,
): Promise<void> {
  try {
    await handler(request, response);
  } catch (error) {
    if (state !== undefined) state.error = error;
    else diag.error('@crumbtrail/instrumentation: request handler threw', error);
    if (!response.headersSent) response.statusCode = 500;
    if (!response.writableEnded) response.end();
  }
}

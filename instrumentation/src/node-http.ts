/*
 * Plain node:http: wrap a request listener.
 *   http.createServer(auditHandler({ eventName: 'CreateUser', identity }, (req, res) => { … }))
 * Without a router there is no route template: give eventName, or pass `route` for a derived one.
 */
import { ServerResponse } from 'node:http';
import type { IncomingMessage, RequestListener } from 'node:http';
import { diag } from '@opentelemetry/api';
import {
  beginHttpCall,
  endOnceRecorded,
  finishHttpCall,
  resolveHttpConfig,
  setRouteOptions,
  whenCallerKnown,
  withCallContext,
} from './http-call.js';
import type { ResolvedHttpConfig } from './http-call.js';
import type { HttpCallState } from './internal-types.js';
import { isPromiseLike } from './safe-hooks.js';
import type { AuditHttpConfig, AuditRouteOptions } from './types.js';

export interface NodeHttpAuditOptions
  extends
    AuditHttpConfig<IncomingMessage, ServerResponse>,
    AuditRouteOptions<IncomingMessage, ServerResponse> {
  /** Route template for the derived event name, e.g. "/users/:id". */
  route?: string;
}

type Listener = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;
type NodeHttpCall = HttpCallState<IncomingMessage, ServerResponse>;

export function auditHandler(options: NodeHttpAuditOptions, handler: Listener): RequestListener {
  const resolved = resolveHttpConfig<IncomingMessage, ServerResponse>(options);
  return (request, response) => {
    if (options.ignore?.(request) === true) {
      answerFailures(handler, request, response, undefined);
      return;
    }
    const state = beginHttpCall(request, response, resolved, request);
    setRouteOptions(state, options);
    state.routeTemplate = options.route;
    recordOnEnd(state, resolved, request, response);
    // The caller is resolved when the handler ends the response, after it authenticated the call.
    run(state, handler, request, response);
  };
}

/** What recordingEnd needs of a response's call: plain data, so no closure per request. */
interface Recording {
  state: NodeHttpCall;
  resolved: ResolvedHttpConfig<IncomingMessage, ServerResponse>;
  request: IncomingMessage;
  end: ServerResponse['end'];
}

const RECORDING = Symbol('crumbtrail.recording');

interface RecordedResponse extends ServerResponse {
  [RECORDING]?: Recording;
}

/**
 * Records the call when the handler ends the response, while the server span is still open. One
 * shared `end` for every response, its per-request data in a plain object, rather than a closure
 * per request: with a closure stored on the response, whole requests (span, attributes, request,
 * response) survived young-generation GCs and were promoted, ~1 KB per request, with ~1.5× the GC
 * time (Node 20; instrumentation/bench with --trace-gc-nvp).
 */
function recordOnEnd(
  state: NodeHttpCall,
  resolved: ResolvedHttpConfig<IncomingMessage, ServerResponse>,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  // Applied to this same response by recordingEnd.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  (response as RecordedResponse)[RECORDING] = { state, resolved, request, end: response.end };
  response.end = recordingEnd as ServerResponse['end'];
}

function recordingEnd(this: RecordedResponse, ...args: unknown[]): ServerResponse {
  const recording = this[RECORDING];
  if (recording === undefined) {
    // Only if the wrapper was moved to another response: that one was not audited here.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    return Reflect.apply(ServerResponse.prototype.end, this, args) as ServerResponse;
  }
  const { state, resolved, request } = recording;
  const statusCode = this.statusCode;
  const pending = whenCallerKnown(state, resolved, request, statusCode, (identity) => {
    finishHttpCall(state, resolved, request, this, statusCode, identity, noParameters);
  });
  if (pending === undefined) return Reflect.apply(recording.end, this, args) as ServerResponse;
  endOnceRecorded(pending, this, recording.end, args);
  return this;
}

/** node:http has no parsed body, query or params: the default requestParameters are empty. */
function noParameters(): undefined {
  return undefined;
}

function run(
  state: NodeHttpCall,
  handler: Listener,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  withCallContext(state as HttpCallState<unknown, unknown>, () => {
    answerFailures(handler, request, response, state);
  });
}

/**
 * Runs the handler; if it throws (or its promise rejects), records the error (when audited) and
 * answers 500 if it had not answered. A synchronous handler costs no promise.
 */
function answerFailures(
  handler: Listener,
  request: IncomingMessage,
  response: ServerResponse,
  state: NodeHttpCall | undefined,
): void {
  let result: void | Promise<void>;
  try {
    result = handler(request, response);
  } catch (error) {
    handlerFailed(error, response, state);
    return;
  }
  if (isPromiseLike(result)) {
    result.then(undefined, (error: unknown) => {
      handlerFailed(error, response, state);
    });
  }
}

function handlerFailed(error: unknown, response: ServerResponse, state: NodeHttpCall | undefined): void {
  if (state !== undefined) state.error = error;
  else diag.error('@crumbtrail/instrumentation: request handler threw', error);
  if (!response.headersSent) response.statusCode = 500;
  if (!response.writableEnded) response.end();
}

/* Internal shapes of the instrumentation; never exported from the package. */
import type { Context, Span } from '@opentelemetry/api';
import type { AuditRouteOptions } from './types.js';

/** Per-request state of an audited HTTP call, from the first middleware to the response. */
export interface HttpCallState<Req, Res> {
  span: Span;
  /** True when crumbtrail started the span (no HTTP instrumentation did): it must end it. */
  ownsSpan: boolean;
  /** The context active when the call began: the parent of a span crumbtrail started. */
  parentContext: Context;
  method: string;
  requestId: string;
  sourceIPAddress: string | undefined;
  peerAddress: string | undefined;
  userAgent: string | undefined;
  consoleSession: boolean;
  /** The request target as received (path and query), for a call that matches no route. */
  target: string | undefined;
  route: AuditRouteOptions<Req, Res> | undefined;
  /** The route template once the framework knows it (e.g. /users/:id). */
  routeTemplate: string | undefined;
  /** An error thrown by the handler, when the framework reports one. */
  error: unknown;
  /** The response body object, when the framework hands it over before serialising it. */
  responseBody: unknown;
  /** Set once the response is being sent: the call is recorded once. */
  finished: boolean;
  /** While an async identity resolver is awaited before the response goes out. */
  pending: Promise<void> | undefined;
}

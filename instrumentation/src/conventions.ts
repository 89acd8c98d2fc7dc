/*
 * Rules shared by the instrumentation (when it fills in defaults) and the collector (when it
 * derives events from plain HTTP/RPC spans), so both produce the same event for the same call.
 */

import { STATUS_CODES } from 'node:http';

/** HTTP methods that do not change state: calls with them are readOnly unless told otherwise. */
const READ_ONLY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** Whether a call with this HTTP method is read-only by default. */
export function isReadOnlyHttpMethod(method: string): boolean {
  // The usual upper-case method first: toUpperCase() is a call into V8's runtime (~300 instructions).
  return READ_ONLY_METHODS.has(method) || READ_ONLY_METHODS.has(method.toUpperCase());
}

/**
 * Event names of calls that only read, as CloudTrail's own APIs are named (ListUsers, GetUser,
 * DescribeInstances, HeadObject): the verb must end the name or be followed by an upper-case letter,
 * so Listen or Getaway are not reads.
 */
const READ_ONLY_EVENT_NAME = /^(?:List|Get|Describe|Head)(?![a-z])/;

/** Whether a call with this event name is read-only by default (recordApiCall without readOnly). */
export function isReadOnlyEventName(eventName: string): boolean {
  return READ_ONLY_EVENT_NAME.test(eventName);
}

function toPascalCase(word: string): string {
  return word
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part.length > 0)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Ends the name of a call that matched no route (a probe of /admin, a call refused before routing,
 * a node:http handler without a route): one stable name per method, whatever the path, so that
 * probes cannot mint a name (and an Insights series) per path; the path itself is kept apart
 * (url.path on the span, crumbtrail.path in the record).
 */
export const NO_ROUTE_EVENT_SUFFIX = 'NoRoute';

/**
 * A stable, CloudTrail-style event name for an HTTP call, from its method and low-cardinality
 * route template (never the raw path, which would make one name per resource id):
 *   GET /users                → GetUsers
 *   POST /users/:id/keys      → PostUsersByIdKeys
 *   DELETE /users/{userId}    → DeleteUsersByUserId
 *   GET (no route known)      → GetNoRoute
 */
export function deriveHttpEventName(method: string, route: string | undefined): string {
  const verb = toPascalCase(method.toLowerCase());
  if (route === undefined || route.length === 0) return verb + NO_ROUTE_EVENT_SUFFIX;
  const segments = route
    .split('/')
    .filter((segment) => segment.length > 0 && segment !== '*')
    .map((segment) => {
      const parameter = /^(?::(.+?)\??|\{(.+?)\})$/.exec(segment);
      const parameterName = parameter?.[1] ?? parameter?.[2];
      return parameterName === undefined ? toPascalCase(segment) : `By${toPascalCase(parameterName)}`;
    });
  return verb + segments.join('');
}

/** CloudTrail-style limits, applied by the instrumentation and enforced again by the collector. */
export const AUDIT_LIMITS = {
  /** userAgent, errorCode, errorMessage and requestID are truncated at this many bytes. */
  truncateFieldBytes: 1024,
  /** requestParameters / responseElements larger than this (serialized) are omitted. */
  omitDocumentBytes: 100 * 1024,
} as const;

/** "Forbidden", "NotFound", … : a CloudTrail-style error code for an HTTP status ≥ 400. */
export function errorCodeForHttpStatus(status: number | undefined): string | undefined {
  if (status === undefined || status < 400) return undefined;
  const text = STATUS_CODES[status];
  return text === undefined ? `Http${status}` : text.replace(/[^A-Za-z0-9]+/g, '');
}

/**
 * The value cut to at most `maxBytes` of UTF-8, on a character boundary; the value itself when it
 * fits. A cheap length test skips the encoding for the usual short value (hot path on both sides).
 */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (value.length * 3 <= maxBytes || Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  const cut = Buffer.from(value, 'utf8').subarray(0, maxBytes).toString('utf8');
  // A multi-byte character split by the cut decodes as U+FFFD: drop it.
  return cut.endsWith('\uFFFD') ? cut.slice(0, -1) : cut;
}

/*
 * ApiCallDetails → span attributes, in the contract of ./attributes.ts. Documents pass through the
 * redactor first, so secrets and oversized bodies never leave the process.
 */
import type { AttributeValue, Span } from '@opentelemetry/api';
import * as A from './attributes.js';
import { AUDIT_LIMITS, truncateUtf8 } from './conventions.js';
import type { Redactor } from './redaction.js';
import type { ApiCallDetails, AuditIdentity, AuditResource } from './types.js';

/** The 1 KB CloudTrail cut for short fields, applied here too so oversized values never travel. */
function short(value: string | undefined): string | undefined {
  return value === undefined ? undefined : truncateUtf8(value, AUDIT_LIMITS.truncateFieldBytes);
}

/*
 * Written to the span one by one rather than gathered in an Attributes object first: building one
 * with ~10 computed keys and walking it again in span.setAttributes() cost ~7,000 instructions a
 * request (megamorphic keyed stores and loads, the key walk; callgrind on instrumentation/bench).
 */
function set(span: Span, key: string, value: AttributeValue | undefined): void {
  if (value !== undefined) span.setAttribute(key, value);
}

function identityAttributes(span: Span, identity: AuditIdentity, redactor: Redactor): void {
  set(span, A.ATTR_CRUMBTRAIL_IDENTITY_TYPE, short(identity.type));
  set(span, A.ATTR_USER_NAME, short(identity.userName));
  set(span, A.ATTR_USER_ID, short(identity.principalId));
  set(span, A.ATTR_CRUMBTRAIL_IDENTITY_ARN, short(identity.arn));
  set(span, A.ATTR_CRUMBTRAIL_IDENTITY_ACCOUNT_ID, short(identity.accountId));
  set(span, A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID, short(identity.accessKeyId));
  set(span, A.ATTR_CRUMBTRAIL_IDENTITY_INVOKED_BY, short(identity.invokedBy));
  const session = redactor.document(identity.sessionContext);
  if (session !== undefined && 'json' in session)
    span.setAttribute(A.ATTR_CRUMBTRAIL_IDENTITY_SESSION_CONTEXT, session.json);
}

function resourceAttributes(span: Span, resources: readonly AuditResource[]): void {
  if (resources.length === 0) return;
  // Parallel arrays: OpenTelemetry attributes cannot hold arrays of objects.
  span.setAttribute(
    A.ATTR_CRUMBTRAIL_RESOURCE_TYPES,
    resources.map((r) => short(r.type) ?? ''),
  );
  span.setAttribute(
    A.ATTR_CRUMBTRAIL_RESOURCE_NAMES,
    resources.map((r) => short(r.name) ?? ''),
  );
  if (resources.some((r) => r.arn !== undefined)) {
    span.setAttribute(
      A.ATTR_CRUMBTRAIL_RESOURCE_ARNS,
      resources.map((r) => short(r.arn) ?? ''),
    );
  }
  if (resources.some((r) => r.accountId !== undefined)) {
    span.setAttribute(
      A.ATTR_CRUMBTRAIL_RESOURCE_ACCOUNT_IDS,
      resources.map((r) => short(r.accountId) ?? ''),
    );
  }
}

function documentAttribute(
  span: Span,
  redactor: Redactor,
  value: unknown,
  key: string,
  omittedKey: string | undefined,
): void {
  const document = redactor.document(value);
  if (document === undefined) return;
  if ('json' in document) span.setAttribute(key, document.json);
  else if (omittedKey !== undefined) span.setAttribute(omittedKey, document.omittedBytes);
}

/** Records the attributes of one audited call on its span. */
export function recordAuditAttributes(span: Span, details: ApiCallDetails, redactor: Redactor): void {
  span.setAttribute(A.ATTR_CRUMBTRAIL_EVENT_NAME, short(details.eventName) ?? '');
  set(span, A.ATTR_CRUMBTRAIL_EVENT_SOURCE, short(details.eventSource));
  set(span, A.ATTR_CRUMBTRAIL_READ_ONLY, details.readOnly);
  set(span, A.ATTR_CRUMBTRAIL_EVENT_CATEGORY, details.eventCategory);
  if (details.identity !== undefined) identityAttributes(span, details.identity, redactor);
  if (details.resources !== undefined) resourceAttributes(span, details.resources);
  documentAttribute(
    span,
    redactor,
    details.requestParameters,
    A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS,
    A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS_OMITTED_BYTES,
  );
  documentAttribute(
    span,
    redactor,
    details.responseElements,
    A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS,
    A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS_OMITTED_BYTES,
  );
  documentAttribute(
    span,
    redactor,
    details.additionalEventData,
    A.ATTR_CRUMBTRAIL_ADDITIONAL_EVENT_DATA,
    undefined,
  );
  set(span, A.ATTR_CRUMBTRAIL_REQUEST_ID, short(details.requestId));
  set(span, A.ATTR_CLIENT_ADDRESS, short(details.sourceIPAddress));
  set(span, A.ATTR_USER_AGENT_ORIGINAL, short(details.userAgent));
  if (details.consoleSession === true) span.setAttribute(A.ATTR_CRUMBTRAIL_CONSOLE_SESSION, true);
  set(span, A.ATTR_CRUMBTRAIL_ERROR_CODE, short(details.errorCode));
  set(span, A.ATTR_CRUMBTRAIL_ERROR_MESSAGE, short(details.errorMessage));
}

/**
 * JavaScript's own error classes: thrown by a bug or a failing dependency rather than meant as an
 * API error, so their name says nothing to the caller (CloudTrail records such a failure as
 * InternalFailure).
 */
const GENERIC_ERROR_NAMES: ReadonlySet<string> = new Set([
  'Error',
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'EvalError',
  'URIError',
  'AggregateError',
]);

/**
 * CloudTrail-style code and message of a thrown error: its own string `code` (AccessDenied,
 * ECONNREFUSED…), else its class name when that is one of the application's (ValidationError), else
 * InternalFailure (a plain Error, a TypeError, a thrown non-Error). The message is kept either way.
 */
export function describeError(error: unknown): { errorCode: string; errorMessage: string | undefined } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const specific =
      typeof code === 'string' && code.length > 0
        ? code
        : GENERIC_ERROR_NAMES.has(error.name) || error.name.length === 0
          ? undefined
          : error.name;
    return {
      errorCode: specific ?? 'InternalFailure',
      errorMessage: error.message.length > 0 ? error.message : undefined,
    };
  }
  return { errorCode: 'InternalFailure', errorMessage: typeof error === 'string' ? error : undefined };
}

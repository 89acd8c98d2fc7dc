/*
 * Framework-free recording, for RPC handlers, queue consumers, CLIs and GraphQL resolvers:
 *   const user = await recordApiCall({ eventName: 'CreateUser', identity, resources }, () => createUser(input));
 * The call runs inside its own span (a child of whatever span is active); a throw is recorded as
 * the event's errorCode/errorMessage and rethrown unchanged. A sync callback's value is returned as
 * it is; only an async one gives a Promise.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { describeError, recordAuditAttributes } from './audit-attributes.js';
import { isReadOnlyEventName } from './conventions.js';
import { Redactor } from './redaction.js';
import { isPromiseLike } from './safe-hooks.js';
import { tracer } from './tracer.js';
import type { ApiCallDetails, RedactionConfig } from './types.js';
import { newRequestId } from './request-id.js';

export interface RecordApiCallOptions {
  /** SERVER (default) for a call served to a client; INTERNAL, CONSUMER… as fits. */
  kind?: SpanKind;
  redaction?: RedactionConfig;
}

const defaultRedactor = new Redactor(undefined);

/**
 * Runs `call` in an audit span and records `details` on it. readOnly defaults to true for names
 * starting List/Get/Describe/Head (ListUsers, GetUser…), requestId to a new UUID.
 */
export function recordApiCall<T>(
  details: ApiCallDetails,
  call: () => Promise<T>,
  options?: RecordApiCallOptions,
): Promise<T>;
export function recordApiCall<T>(details: ApiCallDetails, call: () => T, options?: RecordApiCallOptions): T;
export function recordApiCall<T>(
  details: ApiCallDetails,
  call: () => T | Promise<T>,
  options: RecordApiCallOptions = {},
): T | Promise<T> {
  const redactor = options.redaction === undefined ? defaultRedactor : new Redactor(options.redaction);
  const completed: ApiCallDetails = {
    ...details,
    readOnly: details.readOnly ?? isReadOnlyEventName(details.eventName),
    requestId: details.requestId ?? newRequestId(),
  };
  return tracer().startActiveSpan(details.eventName, { kind: options.kind ?? SpanKind.SERVER }, (span) => {
    let result: T | Promise<T>;
    try {
      result = call();
    } catch (error) {
      recordFailure(span, completed, redactor, error);
      throw error;
    }
    if (!isPromiseLike(result)) {
      recordSuccess(span, completed, redactor);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        recordSuccess(span, completed, redactor);
        return value;
      },
      (error: unknown) => {
        recordFailure(span, completed, redactor, error);
        throw error;
      },
    );
  });
}

function recordSuccess(span: Span, details: ApiCallDetails, redactor: Redactor): void {
  recordAuditAttributes(span, details, redactor);
  span.end();
}

function recordFailure(span: Span, details: ApiCallDetails, redactor: Redactor, error: unknown): void {
  const failure = describeError(error);
  recordAuditAttributes(
    span,
    {
      ...details,
      errorCode: details.errorCode ?? failure.errorCode,
      errorMessage: details.errorMessage ?? failure.errorMessage,
    },
    redactor,
  );
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.errorMessage ?? failure.errorCode });
  span.end();
}

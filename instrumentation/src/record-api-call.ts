/*
 * Framework-free recording, for RPC handlers, queue consumers, CLIs and GraphQL resolvers:
 *   const user = await recordApiCall({ eventName: 'CreateUser', identity, resources }, () => createUser(input));
 * The call runs inside its own span (a child of whatever span is active); a throw is recorded as
 * the event's errorCode/errorMessage and rethrown unchanged.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describeError, recordAuditAttributes } from './audit-attributes.js';
import { Redactor } from './redaction.js';
import { tracer } from './tracer.js';
import type { ApiCallDetails, RedactionConfig } from './types.js';

export interface RecordApiCallOptions {
  /** SERVER (default) for a call served to a client; INTERNAL, CONSUMER… as fits. */
  kind?: SpanKind;
  redaction?: RedactionConfig;
}

const defaultRedactor = new Redactor(undefined);

export async function recordApiCall<T>(
  details: ApiCallDetails,
  call: () => T | Promise<T>,
  options: RecordApiCallOptions = {},
): Promise<T> {
  const redactor = options.redaction === undefined ? defaultRedactor : new Redactor(options.redaction);
  return tracer().startActiveSpan(
    details.eventName,
    { kind: options.kind ?? SpanKind.SERVER },
    async (span) => {
      try {
        const result = await call();
        recordAuditAttributes(span, details, redactor);
        return result;
      } catch (error) {
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
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

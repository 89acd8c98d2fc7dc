/*
 * Small request and response helpers the demo services share: reading JSON body fields without
 * trusting their types, and answering errors in one shape.
 */
import { ServiceError, invalidParameter } from '../directory/service-errors.js';

/** A string field of a JSON body, or undefined when absent or not a non-empty string. */
export function stringField(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** A required string field of a JSON body; throws a 400 ValidationError when it is missing. */
export function requiredField(body: unknown, name: string): string {
  const value = stringField(body, name);
  if (value === undefined) throw invalidParameter(name);
  return value;
}

/**
 * For `responseElements`: the response body of a call that succeeded. CloudTrail records no
 * responseElements for a failed call, and the error body is no response element.
 */
export function successfulResponseBody(
  _request: unknown,
  response: { statusCode: number },
  body: unknown,
): unknown {
  return response.statusCode < 400 ? body : undefined;
}

/**
 * The status and body of an error answer: a ServiceError as it is, a framework's client error
 * (a malformed body, a failed schema) as a 400-range ValidationError, anything else a 500.
 */
export function errorAnswer(error: unknown): { status: number; body: { code: string; message: string } } {
  const failure = error instanceof ServiceError ? error : (clientError(error) ?? internalFailure());
  return { status: failure.status, body: { code: failure.code, message: failure.message } };
}

function clientError(error: unknown): ServiceError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const code = typeof statusCode === 'number' ? statusCode : status;
  return typeof code === 'number' && code >= 400 && code < 500
    ? new ServiceError('ValidationError', code, error.message)
    : undefined;
}

function internalFailure(): ServiceError {
  return new ServiceError('InternalFailure', 500, 'An internal error occurred');
}

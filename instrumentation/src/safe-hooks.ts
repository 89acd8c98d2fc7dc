/*
 * User code (identity resolvers, resource functions, hooks) must never break a request: a throw
 * or a rejected promise is logged through OpenTelemetry's diag logger and the call proceeds
 * without what the hook would have given, as the opentelemetry-js-contrib instrumentations do.
 */
import { diag } from '@opentelemetry/api';

export function safeCall<T>(what: string, run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    diag.error(`@crumbtrail/instrumentation: ${what} threw; recording the call without it`, error);
    return undefined;
  }
}

export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

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

function logFailure(what: string, error: unknown): void {
  diag.error(`@crumbtrail/instrumentation: ${what} failed; recording the call without it`, error);
}

/**
 * For hooks that may be sync or async: a synchronous result comes back as it is, so the common
 * synchronous hook costs no promise (each one runs the async_hooks promise hooks once a context
 * manager is active); only a returned promise gives a promise, which never rejects.
 */
export function safeCallMaybeAsync<T>(
  what: string,
  run: () => T | PromiseLike<T>,
): T | undefined | Promise<T | undefined> {
  let result: T | PromiseLike<T>;
  try {
    result = run();
  } catch (error) {
    logFailure(what, error);
    return undefined;
  }
  if (!isPromiseLike(result)) return result;
  return Promise.resolve(result).then(undefined, (error: unknown) => {
    logFailure(what, error);
    return undefined;
  });
}

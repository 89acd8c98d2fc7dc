/*
 * Runs an identity resolver for a completed call. User code must never break a request: a throw
 * or a rejection leaves the caller unknown. How loudly that is logged depends on the call: on a
 * refused call (401, 403, a thrown auth error) the resolver finding no user is expected, since
 * authentication refused it before setting one, so it is only a debug message; on an accepted
 * call it is a bug in the resolver, logged as an error.
 */
import { diag } from '@opentelemetry/api';
import { isPromiseLike } from './safe-hooks.js';
import type { AuditIdentity, IdentityResolver } from './types.js';

function logFailure(refused: boolean, error: unknown): void {
  if (refused) {
    diag.debug(
      '@crumbtrail/instrumentation: identity resolver found no caller on a refused call; recorded without one',
      error,
    );
  } else {
    diag.error('@crumbtrail/instrumentation: identity resolver threw; recording the call without it', error);
  }
}

/** The resolver's identity, synchronously when it answers synchronously; a promise never rejects. */
export function resolveCaller<Req>(
  resolver: IdentityResolver<Req>,
  request: Req,
  refused: boolean,
): AuditIdentity | undefined | Promise<AuditIdentity | undefined> {
  let result: ReturnType<IdentityResolver<Req>>;
  try {
    result = resolver(request);
  } catch (error) {
    logFailure(refused, error);
    return undefined;
  }
  if (!isPromiseLike(result)) return result;
  return Promise.resolve(result).then(undefined, (error: unknown) => {
    logFailure(refused, error);
    return undefined;
  });
}

/*
 * How the demo services know who is calling, shared by all three: SDKs, CLIs and automation send an
 * API key; the console (a browser) sends the session cookie it got at sign-in. The audit trail is
 * told the same thing the service authenticated, through `auditIdentity` and `isConsoleRequest`:
 * what an event says about its caller must never be what the client merely claims.
 */
import { identityFromApiKey } from '@crumbtrail/instrumentation';
import type { AuditIdentity, HasHeaders, TrustProxy } from '@crumbtrail/instrumentation';
import type { DemoCaller } from '../directory/callers.js';
import { callerForApiKey, callerForConsoleSession, isAllowed } from '../directory/callers.js';
import { accessDenied, unrecognizedClient } from '../directory/service-errors.js';

export const API_KEY_HEADER = 'x-api-key';
export const CONSOLE_SESSION_COOKIE = 'console-session';

/**
 * The services run behind a proxy on the same host or network (here the traffic generator stands in
 * for it), so its X-Forwarded-For names the real client; anyone else's is ignored.
 */
export const TRUSTED_PROXIES: TrustProxy = ['loopback', 'uniquelocal'];

function cookie(request: HasHeaders, name: string): string | undefined {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return undefined;
}

function consoleCaller(request: HasHeaders): DemoCaller | undefined {
  const token = cookie(request, CONSOLE_SESSION_COOKIE);
  return token === undefined ? undefined : callerForConsoleSession(token);
}

function apiKeyOf(request: HasHeaders): string | undefined {
  const value = request.headers[API_KEY_HEADER];
  return Array.isArray(value) ? value[0] : value;
}

/** The authenticated caller of a request, or undefined for a missing or unknown credential. */
export function authenticate(request: HasHeaders): DemoCaller | undefined {
  const key = apiKeyOf(request);
  return consoleCaller(request) ?? (key === undefined ? undefined : callerForApiKey(key));
}

/**
 * Authenticates the caller and checks that it may perform `action` on the resource; throws the
 * ServiceError to answer with (401 or 403) otherwise.
 */
export function authorize(request: HasHeaders, action: string, resourceArn: string): DemoCaller {
  const caller = authenticate(request);
  if (caller === undefined) throw unrecognizedClient();
  if (!isAllowed(caller, action))
    throw accessDenied(caller.identity.arn ?? caller.userName, action, resourceArn);
  return caller;
}

/** A console call: the browser sent a valid console session cookie (→ sessionCredentialFromConsole). */
export function isConsoleRequest(request: HasHeaders): boolean {
  return consoleCaller(request) !== undefined;
}

// The package's helper records a fingerprint of the key as accessKeyId, never the key itself.
const apiKeyIdentity = identityFromApiKey({
  header: API_KEY_HEADER,
  lookup: (key) => callerForApiKey(key)?.identity,
});

/** The audit adapters' identity resolver: the console session's user, else the API key's owner. */
export function auditIdentity(
  request: HasHeaders,
): AuditIdentity | undefined | Promise<AuditIdentity | undefined> {
  const viaConsole = consoleCaller(request);
  if (viaConsole?.consoleSession === undefined) return apiKeyIdentity(request);
  // A console session acts with a temporary credential of its own.
  return { ...viaConsole.identity, accessKeyId: viaConsole.consoleSession.accessKeyId };
}

/*
 * Ready-made identity resolvers for the two common cases. Both only read what an authentication
 * layer in front of them has already checked: they do not verify anything themselves.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { diag } from '@opentelemetry/api';
import type { AuditIdentity } from './types.js';

/** Anything with Node's request headers (Express, Fastify and node:http requests all qualify). */
export interface HasHeaders {
  headers: IncomingMessage['headers'];
}

function header(request: HasHeaders, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export interface JwtIdentityOptions {
  /** Header holding "Bearer <jwt>"; default "authorization". */
  header?: string;
  /** Claim for the user name; default "preferred_username", then "name", then "email". */
  userNameClaim?: string;
  /** userIdentity.type of the token's subject; default "WebIdentityUser". */
  type?: string;
}

/**
 * The caller from a JWT bearer token's claims: principalId = sub, userName, accountId = tenant
 * claim (`tid`/`tenant`), issuer in sessionContext. It decodes and does NOT verify the token:
 * use it only behind middleware that rejects invalid tokens.
 */
export function identityFromJwt(
  options: JwtIdentityOptions = {},
): (request: HasHeaders) => AuditIdentity | undefined {
  const headerName = options.header ?? 'authorization';
  return (request) => {
    const match = /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]*)$/i.exec(header(request, headerName) ?? '');
    const payload = match?.[2];
    if (payload === undefined) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      diag.debug('@crumbtrail/instrumentation: bearer token payload is not JSON');
      return undefined;
    }
    // A JWT's claims set is a JSON object; null, an array or a primitive is a malformed token.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      diag.debug('@crumbtrail/instrumentation: bearer token payload is not a JSON object');
      return undefined;
    }
    const claims = parsed as Record<string, unknown>;
    const text = (key: string | undefined): string | undefined =>
      key !== undefined && typeof claims[key] === 'string' ? claims[key] : undefined;
    const identity: AuditIdentity = { type: options.type ?? 'WebIdentityUser' };
    const subject = text('sub');
    const userName =
      text(options.userNameClaim) ?? text('preferred_username') ?? text('name') ?? text('email');
    const tenant = text('tid') ?? text('tenant');
    if (subject !== undefined) identity.principalId = subject;
    if (userName !== undefined) identity.userName = userName;
    if (tenant !== undefined) identity.accountId = tenant;
    const issuer = text('iss');
    if (issuer !== undefined)
      identity.sessionContext = { webIdFederationData: { federatedProvider: issuer } };
    return identity;
  };
}

export interface ApiKeyIdentityOptions {
  /** Header holding the key; default "x-api-key" (any case). */
  header?: string;
  /**
   * Who owns a key, from your key store: an AuditIdentity (userName, principalId, accountId, type…;
   * sync or async), or undefined for a key it does not know. Gets the key itself; the key is never
   * recorded. Without a lookup every key's owner is Unknown.
   */
  lookup?: (key: string) => AuditIdentity | undefined | Promise<AuditIdentity | undefined>;
  /** userIdentity.type of a key's owner when lookup gives none; default "IAMUser". */
  type?: string;
}

/**
 * userIdentity.type of a credential that was presented but is not anyone's (an unknown API key), as
 * CloudTrail records an identity it cannot determine. No credential at all is Anonymous instead.
 */
export const UNKNOWN_IDENTITY_TYPE = 'Unknown';

/** A stable, non-reversible id of an API key (the key itself must never be recorded). */
export function apiKeyId(key: string): string {
  return `AK${createHash('sha256').update(key).digest('hex').slice(0, 16).toUpperCase()}`;
}

/**
 * The caller from an API key header: whatever `lookup` says (type `options.type`, default IAMUser,
 * unless lookup gives one), with accessKeyId set to a fingerprint of the key (never the key) unless
 * lookup gives one. A key lookup does not know is `{ type: 'Unknown', accessKeyId }`, so a refused
 * call with a bad key shows which key was tried; no key at all is undefined (Anonymous).
 */
export function identityFromApiKey(
  options: ApiKeyIdentityOptions = {},
): (request: HasHeaders) => Promise<AuditIdentity | undefined> {
  const headerName = options.header ?? 'x-api-key';
  const ownerType = options.type ?? 'IAMUser';
  return async (request) => {
    const key = header(request, headerName);
    if (key === undefined || key.length === 0) return undefined;
    const owner = options.lookup === undefined ? undefined : await options.lookup(key);
    if (owner === undefined) return { type: UNKNOWN_IDENTITY_TYPE, accessKeyId: apiKeyId(key) };
    return { ...owner, type: owner.type ?? ownerType, accessKeyId: owner.accessKeyId ?? apiKeyId(key) };
  };
}

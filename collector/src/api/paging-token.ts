/*
 * nextToken: the engine's cursor plus a digest of the query it belongs to, signed with a key kept
 * in the store (so tokens survive restarts and work across collectors sharing one store). A token
 * that was altered, or is used with different filters, is refused with a 400 that says which.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { EventFilter } from '../store/event-store.js';
import { ApiError } from './api-error.js';

interface TokenPayload {
  /** Engine cursor. */
  c: string;
  /** Digest of the filter the token was issued for. */
  f: string;
}

/** A stable digest of a filter: same filters in any order → same digest. */
export function filterDigest(filter: EventFilter): string {
  const fields = Object.entries(filter.fields)
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => [name, [...values].sort()] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  const canonical = JSON.stringify([
    filter.startTimeMs ?? null,
    filter.endTimeMs ?? null,
    filter.text ?? null,
    fields,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export class PagingTokens {
  constructor(private readonly key: Buffer) {}

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }

  issue(cursor: string, filter: EventFilter): string {
    const payload = Buffer.from(
      JSON.stringify({ c: cursor, f: filterDigest(filter) } satisfies TokenPayload),
    );
    const encoded = payload.toString('base64url');
    return `${encoded}.${this.sign(encoded).toString('base64url')}`;
  }

  /** The engine cursor inside a token; ApiError(400) when forged, altered or for another query. */
  redeem(token: string, filter: EventFilter): string {
    const [encoded, signature, extra] = token.split('.');
    const tampered = new ApiError(
      400,
      'invalid parameter "nextToken": the token is malformed or was altered',
    );
    if (encoded === undefined || signature === undefined || extra !== undefined || token.length > 2048)
      throw tampered;
    const expected = this.sign(encoded);
    const given = Buffer.from(signature, 'base64url');
    // The base64url decoder ignores the spare bits of the last character and any padding: only the
    // canonical encoding counts, so that no altered token is accepted.
    if (given.toString('base64url') !== signature) throw tampered;
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw tampered;
    const payload = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as TokenPayload;
    if (payload.f !== filterDigest(filter)) {
      throw new ApiError(
        400,
        'invalid parameter "nextToken": it was issued for a different query; repeat the same filters and time range with it',
      );
    }
    return payload.c;
  }
}

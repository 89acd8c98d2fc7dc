/*
 * Bearer-token checks for the ingest and query endpoints, in constant time so that the response
 * time does not reveal how much of a guessed token was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** True when no token is required, or the Authorization header carries exactly that token. */
export function bearerTokenMatches(authorization: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined || expected.length === 0) return true;
  if (authorization === undefined) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (match?.[1] === undefined) return false;
  // Hashing first gives equal lengths, which timingSafeEqual requires.
  return timingSafeEqual(digest(match[1]), digest(expected));
}

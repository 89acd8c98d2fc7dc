/*
 * New request ids: random (version 4) UUIDs, lowercase 8-4-4-4-12 hex, as crypto.randomUUID()
 * makes them and from the same source (randomFillSync, a CSPRNG), but cheaper on the hot path of
 * every request (issue 12). randomUUID() costs ~2,000 instructions and returns a rope (a string of
 * 20 pieces), which V8 flattens, ~1,200 more, the first time its characters are read (by the
 * response header's validation, by the OTLP encoder). Here the text of BATCH ids is written as
 * bytes at once and decoded to one string, and each id is a slice of it, which V8 keeps as a view
 * of that string, flat: ~750 instructions an id (callgrind, Node 20). A retained id keeps its
 * batch's string (BATCH × 37 bytes) alive, about what randomUUID()'s own entropy cache holds.
 */
import { randomFillSync } from 'node:crypto';

const BATCH = 64;
const ID_LENGTH = 36;
/** Each id's text is followed by one separator byte (never part of an id). */
const STRIDE = ID_LENGTH + 1;

const random = Buffer.alloc(16 * BATCH);
/** The text of a batch. Filled with '-' once: the dashes stay, the hex digits are rewritten. */
const text = Buffer.alloc(STRIDE * BATCH, 0x2d);
const view = new DataView(text.buffer, text.byteOffset, text.byteLength);
/** Byte value → its two lowercase hex digits as ASCII, first digit in the high byte. */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, byte) => {
  const digits = byte.toString(16).padStart(2, '0');
  return (digits.charCodeAt(0) << 8) | digits.charCodeAt(1);
});

let batch = '';
let next = BATCH;

/** Two hex digits of random byte `r` at text offset `at`. */
function pair(at: number, r: number): void {
  view.setUint16(at, HEX_PAIRS[random[r] as number] as number);
}

function refill(): void {
  randomFillSync(random);
  for (let i = 0, r = 0, at = 0; i < BATCH; i++, r += 16, at += STRIDE) {
    // Version 4 and the RFC 9562 variant (10xx), as randomUUID() sets them.
    random[r + 6] = ((random[r + 6] as number) & 0x0f) | 0x40;
    random[r + 8] = ((random[r + 8] as number) & 0x3f) | 0x80;
    // Written out, not looped over a table of offsets: 16 table reads fewer an id.
    pair(at, r);
    pair(at + 2, r + 1);
    pair(at + 4, r + 2);
    pair(at + 6, r + 3);
    pair(at + 9, r + 4);
    pair(at + 11, r + 5);
    pair(at + 14, r + 6);
    pair(at + 16, r + 7);
    pair(at + 19, r + 8);
    pair(at + 21, r + 9);
    pair(at + 24, r + 10);
    pair(at + 26, r + 11);
    pair(at + 28, r + 12);
    pair(at + 30, r + 13);
    pair(at + 32, r + 14);
    pair(at + 34, r + 15);
  }
  batch = text.toString('latin1');
  next = 0;
}

/** A new random request id, e.g. "3b241101-e2bb-4255-8caf-4136c566a962". */
export function newRequestId(): string {
  if (next === BATCH) refill();
  const start = next++ * STRIDE;
  return batch.slice(start, start + ID_LENGTH);
}

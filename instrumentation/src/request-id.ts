/*
 * Request ids for calls that bring none: crypto.randomUUID(), copied into a flat string.
 *
 * randomUUID() builds its result by adding up 20 pieces (hex pairs and dashes), which V8 keeps as
 * a rope (a ConsString) rather than one sequence of characters. Every later reader walks the rope
 * per character, and the OTLP exporter reads each attribute value three times (size estimate,
 * ASCII check, copy): that rope cost ~9,000 instructions per span, more than the rest of
 * crumbtrail's own work on a request (valgrind callgrind, instrumentation/bench/callgrind.ts;
 * BENCHMARKS.md, issue 12). One copy through a reused buffer gives a sequential string.
 */
import { randomUUID } from 'node:crypto';

const UUID_LENGTH = 36;
const scratch = Buffer.allocUnsafeSlow(UUID_LENGTH);

/** A new random (version 4) UUID, as a flat one-byte string. */
export function newRequestId(): string {
  scratch.write(randomUUID(), 0, UUID_LENGTH, 'latin1');
  return scratch.toString('latin1', 0, UUID_LENGTH);
}

/*
 * Trace and span ids from a seed instead of crypto randomness. The backfill reseeds it with each
 * call's own seed before starting that call's span, so a call gets the same ids in every run with
 * the same seed, whichever window is backfilled: the collector derives eventID from the trace id,
 * span id and time, and stores a call written twice once.
 */
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { SeededRandom } from '../traffic/seeded-random.js';

export class SeededIdGenerator implements IdGenerator {
  private random = new SeededRandom(0);

  /** The ids generated from now on come from this seed. */
  reseed(seed: number): void {
    this.random = new SeededRandom(seed);
  }

  generateTraceId(): string {
    return this.nonZeroHex(32);
  }

  generateSpanId(): string {
    return this.nonZeroHex(16);
  }

  /** All-zero ids are invalid in OpenTelemetry. */
  private nonZeroHex(digits: number): string {
    for (;;) {
      const id = this.random.hex(digits);
      if (/[^0]/.test(id)) return id;
    }
  }
}

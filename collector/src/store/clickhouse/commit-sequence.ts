/*
 * The commit sequence of the ClickHouse engine (what committedRecords orders by, and a trail
 * delivers "after seq N" from). ClickHouse has no auto-increment and no transactions, so the
 * writer numbers rows itself: seq = (ms since 2024-01-01) × 2048 + slot. A batch reserves as many
 * consecutive numbers as it has rows, never fewer than the clock allows, so numbers rise with every
 * batch, follow the wall clock (2048 rows per ms, ~2M rows/s, before they run ahead of it) and are
 * never reused after retention empties the store or the collector restarts, while the clock does
 * not go back. They stay below 2^53 until the year 2163, so they are exact JS numbers.
 *
 * A number is only readable once every number below it is settled: two batches commit
 * concurrently (the write queue pipelines them) and the later one can be acknowledged first, so
 * visibleThrough() stops short of the lowest batch still in flight in this process. With several
 * collectors, a batch of another collector can still be in flight with a lower number; settleMs
 * (at least the insert timeout plus clock skew) keeps readers that far behind the clock.
 */
const EPOCH_MS = Date.UTC(2024, 0, 1);
export const SLOTS_PER_MS = 2048;

export interface Reservation {
  /** The first number; the batch's rows take first, first + 1, … */
  first: number;
  /** Ends the reservation, whether the insert succeeded or failed. */
  release(): void;
}

export class CommitSequence {
  private next = 0;
  private readonly inFlight = new Map<number, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly settleMs = 0,
  ) {}

  private clockSeq(ms: number): number {
    return Math.max(0, ms - EPOCH_MS) * SLOTS_PER_MS;
  }

  reserve(count: number): Reservation {
    const first = Math.max(this.next, this.clockSeq(this.now()) + 1);
    this.next = first + count;
    this.inFlight.set(first, count);
    return {
      first,
      release: () => {
        this.inFlight.delete(first);
      },
    };
  }

  /** The highest number a reader may read through now (see the header). */
  visibleThrough(): number {
    let limit = this.settleMs > 0 ? this.clockSeq(this.now() - this.settleMs) : Number.MAX_SAFE_INTEGER;
    for (const first of this.inFlight.keys()) limit = Math.min(limit, first - 1);
    return limit;
  }
}

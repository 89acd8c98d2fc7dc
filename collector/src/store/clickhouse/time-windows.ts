/*
 * Newest-first lookups read time windows, newest first, until a page is full. ClickHouse 18.16
 * cannot stop reading early for `ORDER BY event_time_ms DESC LIMIT n` (no read in sort-key order),
 * so one query over the whole range reads and merges every row in it: 230–300 ms for a page of 50
 * at 1M events, growing with the table. A window is cut by the primary key (event_time_ms comes
 * first) and costs what it holds, so a page of recent events costs a few small reads at any size.
 *
 * Windows reach back from an anchor (the newest event time known, or the upper bound of the lookup
 * when that is older): a minute first, then as far as the matches seen so far say the page needs,
 * at least fourfold (sixteenfold while nothing matched). The newest and oldest times are hints
 * only (another collector may have written newer or older events since): the first window is
 * unbounded above and the last one unbounded below, so the windows always cover the whole range
 * and a wrong hint costs reads, never events. The windows are disjoint: a lookup that matches
 * little reads its range once, in at most MAX_WINDOWS queries. (The collector refuses events
 * dated more than minutes ahead, so no far-future event can push the anchor away from the data.)
 */

/** Event times are bounded by these, inclusive below, exclusive above; undefined = unbounded. */
export interface TimeWindow {
  fromMs?: number;
  toMs?: number;
}

/** What is known (or guessed) about the stored event times. */
export interface TimeExtentHints {
  newestMs?: number;
  oldestMs?: number;
}

export interface WindowPlan {
  /** The lookup's own bounds (filter range and cursor), inclusive; undefined = open. */
  lowerMs?: number;
  upperMs?: number;
  hints: TimeExtentHints;
  /** Where the windows start when nothing bounds the lookup and no newest time is known. */
  nowMs: number;
  /**
   * An index answers the lookup over any range at about the cost of a window (free text with a
   * text index): when the first window holds no match, the second one is the rest of time.
   */
  indexed?: boolean;
}

/** The first window reaches a minute before the anchor. */
export const FIRST_WINDOW_MS = 60_000;
/** Each next window reaches at least this many times further back… */
export const WINDOW_GROWTH = 4;
/** …and this many times while nothing matched yet (a rare match costs few queries). */
export const EMPTY_WINDOW_GROWTH = 16;
/** A few queries at most; older events come in the last, open window. */
export const MAX_WINDOWS = 8;
/** Reaching further back than a century, the last window is open instead (bounds stay safe integers). */
const MAX_REACH_MS = 100 * 365 * 86_400_000;

/**
 * The windows of one lookup, newest first: disjoint, and together all of time. Each next one is
 * sized from the matches so far: far enough back to find what is still wanted at the rate seen.
 */
export class LookupWindows {
  private readonly anchor: number;
  /** Exclusive upper bound of the next window (undefined: the first, open above). */
  private upper: number | undefined;
  private reach = FIRST_WINDOW_MS;
  private issued = 0;
  private finished = false;

  constructor(
    private readonly plan: WindowPlan,
    private readonly wanted: number,
  ) {
    this.anchor = Math.min(plan.upperMs ?? Infinity, plan.hints.newestMs ?? plan.upperMs ?? plan.nowMs);
  }

  /** The next window, given how many matches the windows so far found; undefined once all time was read. */
  next(foundSoFar: number): TimeWindow | undefined {
    if (this.finished) return undefined;
    if (this.issued > 0) this.reach = this.nextReach(foundSoFar);
    this.issued++;
    const from = this.anchor - this.reach;
    const { lowerMs, hints } = this.plan;
    if (
      this.issued >= MAX_WINDOWS ||
      (this.plan.indexed === true && this.issued > 1 && foundSoFar === 0) ||
      this.reach > MAX_REACH_MS ||
      (lowerMs !== undefined && from <= lowerMs) ||
      (hints.oldestMs !== undefined && from <= hints.oldestMs)
    ) {
      // Past the lookup's start or the oldest event known: what is left is the last window.
      this.finished = true;
      return this.upper === undefined ? {} : { toMs: this.upper };
    }
    const window = this.upper === undefined ? { fromMs: from } : { fromMs: from, toMs: this.upper };
    this.upper = from;
    return window;
  }

  private nextReach(found: number): number {
    if (found <= 0) return this.reach * EMPTY_WINDOW_GROWTH;
    // At the rate seen so far, with a quarter to spare.
    const estimate = Math.ceil(this.reach * (this.wanted / found) * 1.25);
    return Math.max(this.reach * WINDOW_GROWTH, estimate);
  }
}

/**
 * Newest/oldest event times learned from the table when the store opens, then from inserts and
 * lookups. Only the newest moves with lookups: a page's oldest row says nothing about the table's.
 */
export class TimeExtent {
  private newest: number | undefined;
  private oldest: number | undefined;
  private tableRead = false;

  /** The table's own min/max when the store opened (undefined: empty or not known). */
  readTable(newestMs: number | undefined, oldestMs: number | undefined): void {
    this.tableRead = true;
    if (newestMs !== undefined) this.found([newestMs]);
    if (oldestMs !== undefined) this.oldest = Math.min(this.oldest ?? oldestMs, oldestMs);
  }

  /** Events were just written at these times. */
  inserted(times: readonly number[]): void {
    this.found(times);
    // Before the table was read, an insert's oldest is not the table's.
    if (this.tableRead)
      for (const time of times) if (this.oldest === undefined || time < this.oldest) this.oldest = time;
  }

  /** Events exist at these times (a lookup returned them). */
  found(times: readonly number[]): void {
    for (const time of times) if (this.newest === undefined || time > this.newest) this.newest = time;
  }

  hints(): TimeExtentHints {
    return {
      ...(this.newest === undefined ? {} : { newestMs: this.newest }),
      ...(this.oldest === undefined ? {} : { oldestMs: this.oldest }),
    };
  }
}

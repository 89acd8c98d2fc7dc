/*
 * Newest-first lookups read time windows, newest first, until a page is full. ClickHouse 18.16
 * cannot stop reading early for `ORDER BY event_time_ms DESC LIMIT n` (no read in sort-key order),
 * so one query over the whole range reads and merges every row in it: 230–300 ms for a page of 50
 * at 1M events, growing with the table. A window is cut by the primary key (event_time_ms comes
 * first) and costs what it holds, so a page of recent events costs a few small reads at any size.
 *
 * Windows grow fourfold back from an anchor: the newest event time known, or the upper bound of the
 * lookup when that is older. The newest and oldest times are hints only (another collector may
 * have written newer or older events since): the first window is unbounded above and the last one
 * unbounded below, so the windows always cover the whole range and a wrong hint costs reads, never
 * events. A lookup that matches little reads the whole range in at most MAX_WINDOWS queries, about
 * 4/3 of what one query would read.
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
}

/** The first window spans a minute before the anchor; each next one is GROWTH times wider. */
export const FIRST_WINDOW_MS = 60_000;
export const WINDOW_GROWTH = 4;
/** 4^10 minutes is about two years: older events come in the last, open window. */
export const MAX_WINDOWS = 12;

/** The windows a lookup reads, newest first: disjoint, and together all of time. */
export function* lookupWindows(plan: WindowPlan): Generator<TimeWindow> {
  const { lowerMs, upperMs, hints } = plan;
  const anchor = Math.min(upperMs ?? Infinity, hints.newestMs ?? upperMs ?? plan.nowMs);
  let upper: number | undefined;
  let span = FIRST_WINDOW_MS;
  for (let index = 0; index < MAX_WINDOWS - 1; index++) {
    const from = anchor - span;
    // Past the lookup's start or the oldest event known: what is left is the last window.
    if (
      (lowerMs !== undefined && from <= lowerMs) ||
      (hints.oldestMs !== undefined && from <= hints.oldestMs)
    ) {
      break;
    }
    yield upper === undefined ? { fromMs: from } : { fromMs: from, toMs: upper };
    upper = from;
    span *= WINDOW_GROWTH;
  }
  yield upper === undefined ? {} : { toMs: upper };
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

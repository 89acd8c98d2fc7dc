/*
 * The level of a series relative to its seasonal baseline over the last few hours: how a lasting
 * change (a deploy that doubles traffic, a new customer, growth) becomes the expectation within
 * hours instead of alarming until the change has aged into the seasonal window (a week).
 * Minutes inside an insight do not count, so a burst never raises its own expectation.
 */

/** Recent traffic the level is measured over: as long as an insight may last (maxInsightMinutes). */
const WINDOW_MINUTES = 360;
/**
 * Calls of prior pulling the level toward 1: a quiet API's few calls say little about its level,
 * so it moves only when the evidence adds up.
 */
const PRIOR_CALLS = 30;
/** The level adjusts the expectation by at most this factor either way. */
const MAX_FACTOR = 3;

export class LevelTracker {
  private readonly minutes = new Float64Array(WINDOW_MINUTES).fill(Number.NaN);
  private readonly observed = new Float64Array(WINDOW_MINUTES);
  private readonly expected = new Float64Array(WINDOW_MINUTES);
  private next = 0;

  /** Records a judged minute: what was seen and what the seasonal baseline expected. */
  record(minute: number, observed: number, expected: number): void {
    this.minutes[this.next] = minute;
    this.observed[this.next] = observed;
    this.expected[this.next] = expected;
    this.next = (this.next + 1) % WINDOW_MINUTES;
  }

  /** Observed over expected in the window, outside excluded minutes; 1 without evidence. */
  factor(isExcluded: (minute: number) => boolean): number {
    let observed = PRIOR_CALLS;
    let expected = PRIOR_CALLS;
    for (let i = 0; i < WINDOW_MINUTES; i++) {
      const minute = this.minutes[i] ?? Number.NaN;
      if (Number.isNaN(minute) || isExcluded(minute)) continue;
      observed += this.observed[i] ?? 0;
      expected += this.expected[i] ?? 0;
    }
    return Math.min(MAX_FACTOR, Math.max(1 / MAX_FACTOR, observed / expected));
  }
}

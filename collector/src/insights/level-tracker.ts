/*
 * The level of a series relative to its seasonal baseline over the last few hours: how a lasting
 * change (a deploy that doubles traffic, a new customer, growth) stops alarming within hours
 * instead of until the change has aged into the seasonal window (a week).
 *
 * One-sided (issue 13): the level may only make the detector less eager. A rise is judged against
 * the expectation raised by a level above 1 (never lowered by one below 1), a drop against the
 * expectation lowered by a level below 1. A single multiplier learned from a few hours is not
 * time-of-day aware, so letting it lower the expectation for rises turned a quiet night, a one-off
 * event in the baseline or a cron job switched off into "2×" mornings.
 *
 * Running sums over a ring of minutes: recording and reading cost O(1) whatever the history.
 * The detector records only minutes that are in no insight, pending or active.
 */

/**
 * Recent traffic the level is measured over. Two hours, not the six an insight may last: a busy
 * day or a deploy is absorbed sooner (on the quality benchmark, false alarms 0.82 → 0.43 per
 * series-month for 7 fewer of 532 incidents found).
 */
export const LEVEL_WINDOW_MINUTES = 120;
const WINDOW_MINUTES = LEVEL_WINDOW_MINUTES;
/**
 * Calls of prior pulling the level toward 1: a quiet API's few calls say little about its level,
 * so it moves only when the evidence adds up.
 */
const PRIOR_CALLS = 30;
/** The level adjusts the expectation by at most this factor either way. */
const MAX_FACTOR = 3;

export type LevelMode = 'one-sided' | 'two-sided' | 'off';

export class LevelTracker {
  private readonly minutes = new Float64Array(WINDOW_MINUTES).fill(Number.NaN);
  private readonly observed = new Float64Array(WINDOW_MINUTES);
  private readonly expected = new Float64Array(WINDOW_MINUTES);
  private observedSum = 0;
  private expectedSum = 0;
  private held = 0;

  constructor(private readonly mode: LevelMode = 'one-sided') {}

  /** Records a judged minute: what was seen and what the seasonal baseline expected. */
  record(minute: number, observed: number, expected: number): void {
    if (this.mode === 'off') return;
    const slot = ((minute % WINDOW_MINUTES) + WINDOW_MINUTES) % WINDOW_MINUTES;
    const held = this.minutes[slot] ?? Number.NaN;
    if (!Number.isNaN(held) && held >= minute) return;
    this.clear(slot);
    this.minutes[slot] = minute;
    this.observed[slot] = observed;
    this.expected[slot] = expected;
    this.observedSum += observed;
    this.expectedSum += expected;
    this.held++;
  }

  /** Forgets minutes that have left the window by `minute` (call once per judged minute). */
  advance(minute: number): void {
    const slot = ((minute % WINDOW_MINUTES) + WINDOW_MINUTES) % WINDOW_MINUTES;
    const held = this.minutes[slot] ?? Number.NaN;
    if (!Number.isNaN(held) && held <= minute - WINDOW_MINUTES) this.clear(slot);
  }

  /** Multiplier for the expectation a rise is judged against. */
  get rise(): number {
    const ratio = this.ratio();
    return this.mode === 'two-sided' ? ratio : Math.max(1, ratio);
  }

  /** Multiplier for the expectation a drop is judged against. */
  get drop(): number {
    const ratio = this.ratio();
    return this.mode === 'two-sided' ? ratio : Math.min(1, ratio);
  }

  private ratio(): number {
    if (this.mode === 'off') return 1;
    const ratio = (PRIOR_CALLS + this.observedSum) / (PRIOR_CALLS + this.expectedSum);
    return Math.min(MAX_FACTOR, Math.max(1 / MAX_FACTOR, ratio));
  }

  private clear(slot: number): void {
    if (Number.isNaN(this.minutes[slot] ?? Number.NaN)) return;
    this.observedSum -= this.observed[slot] ?? 0;
    this.expectedSum -= this.expected[slot] ?? 0;
    this.minutes[slot] = Number.NaN;
    this.held--;
    // Sums of many doubles drift; an empty window starts again from exact zeros.
    if (this.held === 0) {
      this.observedSum = 0;
      this.expectedSum = 0;
    }
  }
}

/*
 * The last few judged minutes of a call-rate series, summed: observed calls, expected calls and
 * the variance the baseline gives each minute. A modest rise that lasts (5–7 calls a minute where
 * 1.5 are usual) never makes one minute unusual, but its window sums do (issue 13); so does a 3×
 * burst on a series so noisy that no single minute of it stands out. Toward a rise each minute
 * counts at most `riseCap` calls, so one spike cannot make a window of ordinary minutes look like
 * a lasting rise: a single minute is judged on its own. (A drop needs no cap: one empty minute
 * among ordinary ones is a fraction of the window's expectation.) A ring with
 * running sums, so each minute costs O(1). A minute that could not be judged empties it: the
 * window always holds consecutive judged minutes.
 */

export class SustainedWindow {
  private readonly observedRing: Float64Array;
  private readonly lowObservedRing: Float64Array;
  private readonly expectedRing: Float64Array;
  private readonly varianceRing: Float64Array;
  private count = 0;
  private next = 0;
  private lastMinute = Number.NaN;
  /** Calls, each minute's capped at `riseCap`: what a rise is judged on. */
  observed = 0;
  /** Calls as seen: what a drop is judged on. */
  lowObserved = 0;
  expected = 0;
  variance = 0;

  /** A window of 0 minutes never fills: accumulation is off. */
  constructor(readonly minutes: number) {
    this.observedRing = new Float64Array(minutes);
    this.lowObservedRing = new Float64Array(minutes);
    this.expectedRing = new Float64Array(minutes);
    this.varianceRing = new Float64Array(minutes);
  }

  get full(): boolean {
    return this.minutes > 0 && this.count === this.minutes;
  }

  reset(): void {
    this.count = 0;
    this.next = 0;
    this.observed = 0;
    this.lowObserved = 0;
    this.expected = 0;
    this.variance = 0;
    this.lastMinute = Number.NaN;
  }

  push(minute: number, calls: number, expected: number, variance: number, riseCap: number): void {
    if (this.minutes === 0) return;
    if (!Number.isNaN(this.lastMinute) && minute !== this.lastMinute + 1) this.reset();
    this.lastMinute = minute;
    if (this.count === this.minutes) {
      this.observed -= this.observedRing[this.next] ?? 0;
      this.lowObserved -= this.lowObservedRing[this.next] ?? 0;
      this.expected -= this.expectedRing[this.next] ?? 0;
      this.variance -= this.varianceRing[this.next] ?? 0;
    } else this.count++;
    const observed = Math.min(calls, riseCap);
    const lowObserved = calls;
    this.observedRing[this.next] = observed;
    this.lowObservedRing[this.next] = lowObserved;
    this.expectedRing[this.next] = expected;
    this.varianceRing[this.next] = variance;
    this.observed += observed;
    this.lowObserved += lowObserved;
    this.expected += expected;
    this.variance += variance;
    this.next = (this.next + 1) % this.minutes;
  }
}

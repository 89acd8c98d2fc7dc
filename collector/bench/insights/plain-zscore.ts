/*
 * The quality benchmark's baseline: a plain rolling z-score, the detector the issue compares
 * crumbtrail's with. Each minute is scored against the mean and standard deviation of the
 * previous window (7 days, like crumbtrail's baseline) of per-minute call counts, or of per-minute
 * error fractions over the minutes that had calls. An alarm starts on the first minute with
 * z ≥ 3 and ends on the first minute below; a window without variation raises nothing. No
 * seasonality, no count floors, no hysteresis, no exclusion of alarm minutes: that is the point.
 */
import type { MinuteCounts } from '../../src/insights/baseline-samples.js';
import type { InsightType } from '../../src/insights/insight-settings.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/insights/insight-settings.js';

export interface PlainZScoreOptions {
  windowMinutes: number;
  threshold: number;
}

export const DEFAULT_PLAIN_ZSCORE_OPTIONS: PlainZScoreOptions = {
  windowMinutes: DEFAULT_DETECTOR_SETTINGS.baselineMinutes,
  threshold: 3,
};

/** Below this variance the window is taken as constant: running sums of fractions drift by ~1e-15. */
const MIN_VARIANCE = 1e-12;

export interface PlainZScoreEvaluation {
  minute: number;
  /** Calls in the minute, or its error fraction (NaN without calls). */
  observed: number;
  expected: number;
  score: number;
  unusual: boolean;
  /** A Start at minute m means the alarm is raised after m; an End, that m was the first usual minute. */
  transition?: { state: 'Start' | 'End' };
}

/** Count, sum and sum of squares of a sliding window, so each minute costs O(1). */
class RunningMoments {
  private count = 0;
  private total = 0;
  private totalSquares = 0;

  add(value: number): void {
    this.count++;
    this.total += value;
    this.totalSquares += value * value;
  }

  remove(value: number): void {
    this.count--;
    this.total -= value;
    this.totalSquares -= value * value;
  }

  get mean(): number {
    return this.count > 0 ? this.total / this.count : 0;
  }

  /** Sample standard deviation; 0 when the window is too small or constant. */
  get deviation(): number {
    if (this.count < 2) return 0;
    const variance = (this.totalSquares - (this.total * this.total) / this.count) / (this.count - 1);
    return variance > MIN_VARIANCE ? Math.sqrt(variance) : 0;
  }
}

export class PlainZScoreDetector {
  private readonly moments = new RunningMoments();
  /** The running sums hold the samples of minutes [windowFrom, windowTo). */
  private windowFrom: number | undefined;
  private windowTo = 0;
  private active = false;

  constructor(
    readonly type: InsightType,
    private readonly options: PlainZScoreOptions = DEFAULT_PLAIN_ZSCORE_OPTIONS,
  ) {}

  evaluate(minute: number, firstMinute: number, counts: MinuteCounts): PlainZScoreEvaluation {
    this.slideWindowTo(minute, firstMinute, counts);
    const observed = this.sample(minute, counts);
    const expected = this.moments.mean;
    const deviation = this.moments.deviation;
    const score =
      observed !== undefined && deviation > 0 ? (observed - expected) / deviation : Number.NEGATIVE_INFINITY;
    const unusual = score >= this.options.threshold;
    const evaluation = { minute, observed: observed ?? Number.NaN, expected, score, unusual };
    if (unusual === this.active) return evaluation;
    this.active = unusual;
    return { ...evaluation, transition: { state: unusual ? 'Start' : 'End' } };
  }

  /** Calls in the minute, or its error fraction; an error rate has no sample in a minute without calls. */
  private sample(minute: number, counts: MinuteCounts): number | undefined {
    const calls = counts.calls(minute);
    if (this.type === 'ApiCallRateInsight') return calls;
    return calls > 0 ? counts.errors(minute) / calls : undefined;
  }

  private slideWindowTo(minute: number, firstMinute: number, counts: MinuteCounts): void {
    const from = Math.max(firstMinute, minute - this.options.windowMinutes);
    if (this.windowFrom === undefined) {
      this.windowFrom = from;
      this.windowTo = from;
    }
    for (; this.windowTo < minute; this.windowTo++) {
      const value = this.sample(this.windowTo, counts);
      if (value !== undefined) this.moments.add(value);
    }
    for (; this.windowFrom < from; this.windowFrom++) {
      const value = this.sample(this.windowFrom, counts);
      if (value !== undefined) this.moments.remove(value);
    }
  }
}

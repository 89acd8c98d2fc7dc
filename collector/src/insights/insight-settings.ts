/*
 * Detector settings. The defaults are the ones the quality benchmark (collector/bench/insights)
 * was tuned and measured with; every one but the windowed sums' length has a collector flag.
 */

export const MINUTE_MS = 60_000;
export const MINUTES_PER_DAY = 1440;

export const INSIGHT_TYPES = ['ApiCallRateInsight', 'ApiErrorRateInsight'] as const;
export type InsightType = (typeof INSIGHT_TYPES)[number];

export interface DetectorSettings {
  /** Trailing window the baseline is drawn from (CloudTrail: 7 days). */
  baselineMinutes: number;
  /** A minute is unusual when its score reaches this many standard deviations. */
  zThreshold: number;
  /** ...and it has at least this many calls (errors, for error rates)... */
  minCount: number;
  /** ...at least this many more than expected... */
  minExcess: number;
  /** ...and at least this multiple of the expected value. */
  minRatio: number;
  /** An insight starts after this many unusual minutes in a row. */
  startAfter: number;
  /** ...and ends after this many usual minutes in a row. */
  endAfter: number;
  /** No insight for a series younger than this: there is nothing to compare with. */
  minHistoryMinutes: number;
  /** Below this much history the baseline is the trailing warm-up window ("warming up"). */
  seasonalAfterMinutes: number;
  /** The trailing window used while warming up. */
  warmupWindowMinutes: number;
  /** Seasonal samples: the same time of day ± this many minutes on each earlier day. */
  slotHalfWidthMinutes: number;
  /**
   * An insight still active after this long is ended and its minutes are given back to the
   * baseline: a change that lasts this long is the new normal (a deploy, a new customer), and
   * keeping it out of the baseline would alarm on it for a whole baseline window.
   */
  maxInsightMinutes: number;
  /**
   * Evidence accumulates over this many minutes: a modest rise that lasts (5–7 calls a minute on
   * an API that usually sees 1.5) is judged on the window's sums, not each minute alone.
   */
  sustainedMinutes: number;
  /**
   * Report call-rate drops too (an API falling silent: an outage, a broken client). Off by
   * default: CloudTrail's call-rate insights are increases. Error rates never report drops.
   */
  detectDrops: boolean;
}

export const DEFAULT_DETECTOR_SETTINGS: DetectorSettings = {
  baselineMinutes: 7 * MINUTES_PER_DAY,
  zThreshold: 3.5,
  minCount: 5,
  minExcess: 5,
  minRatio: 2.5,
  startAfter: 2,
  endAfter: 5,
  minHistoryMinutes: 60,
  seasonalAfterMinutes: 2 * MINUTES_PER_DAY,
  warmupWindowMinutes: 60,
  slotHalfWidthMinutes: 7,
  maxInsightMinutes: 6 * 60,
  sustainedMinutes: 5,
  detectDrops: false,
};

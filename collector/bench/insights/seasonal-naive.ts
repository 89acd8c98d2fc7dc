/*
 * The quality benchmark's second baseline (issue 13): a seasonal-naive ratio. Each minute is
 * compared with the same minutes (± 2) one week earlier, or one day earlier while the series is
 * younger than a week: the forecast real-traffic studies beat first, and the one that knows cron
 * jobs and weekly patterns by construction. An alarm starts on the first minute at least `ratio`
 * times the forecast (with one call, or error, of smoothing each side, so 0 → 2 is not "∞×") and
 * ends on the first minute below. No count floors, no hysteresis, no exclusion of alarm minutes.
 */
import type { MinuteCounts } from '../../src/insights/baseline-samples.js';
import type { InsightType } from '../../src/insights/insight-settings.js';
import { MINUTES_PER_DAY } from '../../src/insights/insight-settings.js';

export interface SeasonalNaiveOptions {
  ratio: number;
  halfWidthMinutes: number;
}

export const DEFAULT_SEASONAL_NAIVE_OPTIONS: SeasonalNaiveOptions = { ratio: 3, halfWidthMinutes: 2 };

export class SeasonalNaiveDetector {
  private active = false;

  constructor(
    readonly type: InsightType,
    private readonly options: SeasonalNaiveOptions = DEFAULT_SEASONAL_NAIVE_OPTIONS,
  ) {}

  evaluate(
    minute: number,
    firstMinute: number,
    counts: MinuteCounts,
  ): { unusual: boolean; transition?: { state: 'Start' | 'End' } } {
    const season = minute - 7 * MINUTES_PER_DAY >= firstMinute ? 7 * MINUTES_PER_DAY : MINUTES_PER_DAY;
    const unusual =
      minute - season >= firstMinute && this.ratioAt(minute, minute - season, counts) >= this.options.ratio;
    if (unusual === this.active) return { unusual };
    this.active = unusual;
    return { unusual, transition: { state: unusual ? 'Start' : 'End' } };
  }

  private ratioAt(minute: number, seasonMinute: number, counts: MinuteCounts): number {
    const half = this.options.halfWidthMinutes;
    let calls = 0;
    let errors = 0;
    for (let m = seasonMinute - half; m <= seasonMinute + half; m++) {
      calls += counts.calls(m);
      errors += counts.errors(m);
    }
    const width = 2 * half + 1;
    if (this.type === 'ApiCallRateInsight') return (counts.calls(minute) + 1) / (calls / width + 1);
    const fraction = calls > 0 ? errors / calls : 0;
    return (counts.errors(minute) + 1) / (counts.calls(minute) * fraction + 1);
  }
}

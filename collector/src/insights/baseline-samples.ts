/*
 * Which past minutes a minute is compared with. Once a series has enough history the baseline is
 * seasonal: the same time of day (± a few minutes) on each earlier day of the window, on days of
 * the same kind only (weekday or weekend, UTC), so Monday morning is compared with other weekday
 * mornings, not with Sunday night. Before that, and on the first day of a kind the series has not
 * seen yet (an API born on a Saturday, on its first Monday), the series is "warming up" and the
 * baseline is its trailing hour. Minutes inside an insight do not count: an incident must not
 * teach the detector that incidents are normal. Unless insights are the rule there (issue 13):
 * when they hold most of the seasonal samples, or the judged minute's time of day was inside an
 * insight on most earlier days (a cron job at :09 every hour, a nightly batch), leaving them out
 * would judge every later run by the minutes between runs, and alarm for ever. Then all samples
 * count.
 */
import type { DetectorSettings } from './insight-settings.js';
import { MINUTES_PER_DAY } from './insight-settings.js';

export type BaselineKind = 'seasonal' | 'warming-up';

/** Per-minute counts of one series; minutes are whole minutes since the epoch. */
export interface MinuteCounts {
  /** Calls of the kind the insight counts. */
  calls(minute: number): number;
  errors(minute: number): number;
}

export interface BaselineSamples {
  kind: BaselineKind;
  /** The sampled minutes' call counts, and their error counts in the same order. */
  calls: number[];
  errors: number[];
  /**
   * Seasonal only: per earlier day of the same kind, the calls in the judged minute itself,
   * insights included. What this exact time of day usually sees: a cron job firing at :09 makes
   * every :09 high, which a ± 7-minute slot's mean and deviation blur away.
   */
  sameMinute: number[];
}

function isWeekend(minute: number): boolean {
  const day = new Date(minute * 60_000).getUTCDay();
  return day === 0 || day === 6;
}

/**
 * When more than this share of the seasonal samples lies inside insights, or of the earlier days
 * had an insight at the judged time of day (± RECURRING_MINUTES), they all count. Half: a single
 * incident, even one lasting the whole slot on one day of a week, stays excluded.
 */
export const MAX_EXCLUDED_SHARE = 0.5;
const RECURRING_MINUTES = 1;

export function collectBaseline(
  minute: number,
  firstMinute: number,
  counts: MinuteCounts,
  isExcluded: (minute: number) => boolean,
  settings: DetectorSettings,
  maxExcludedShare = MAX_EXCLUDED_SHARE,
): BaselineSamples {
  const samples: BaselineSamples = { kind: 'warming-up', calls: [], errors: [], sameMinute: [] };
  const half = settings.slotHalfWidthMinutes;
  const sameKindSlots: number[] = [];
  if (minute - firstMinute >= settings.seasonalAfterMinutes) {
    for (let back = 1; back * MINUTES_PER_DAY <= settings.baselineMinutes; back++) {
      const slot = minute - back * MINUTES_PER_DAY;
      if (slot + half >= firstMinute && isWeekend(slot) === isWeekend(minute)) sameKindSlots.push(slot);
    }
  }
  if (sameKindSlots.length === 0) {
    // The latest usual minutes: walking back past an insight's own minutes, so a long insight
    // while warming up is still compared with the traffic before it.
    const oldest = Math.max(firstMinute, minute - settings.baselineMinutes);
    for (let m = minute - 1; m >= oldest && samples.calls.length < settings.warmupWindowMinutes; m--) {
      if (isExcluded(m)) continue;
      samples.calls.push(counts.calls(m));
      samples.errors.push(counts.errors(m));
    }
    return samples;
  }
  samples.kind = 'seasonal';
  let excluded = 0;
  let recurring = 0;
  for (const slot of sameKindSlots) {
    if (slot >= firstMinute) samples.sameMinute.push(counts.calls(slot));
    for (let m = slot - RECURRING_MINUTES; m <= slot + RECURRING_MINUTES; m++) {
      if (!isExcluded(m)) continue;
      recurring++;
      break;
    }
    for (let m = Math.max(slot - half, firstMinute); m <= slot + half; m++) {
      if (isExcluded(m)) {
        excluded++;
        continue;
      }
      samples.calls.push(counts.calls(m));
      samples.errors.push(counts.errors(m));
    }
  }
  const insightsAreTheRule =
    excluded > maxExcludedShare * (excluded + samples.calls.length) ||
    recurring > maxExcludedShare * sameKindSlots.length;
  if (insightsAreTheRule) {
    return collectBaseline(minute, firstMinute, counts, () => false, settings, 1);
  }
  return samples;
}

/*
 * One detector per (series, insight type): scores each minute against its baseline and turns
 * unusual minutes into insights with hysteresis (Start after `startAfter` unusual minutes in a
 * row, End after `endAfter` usual ones), so one noisy minute starts nothing and one quiet minute
 * in the middle of an incident ends nothing.
 */
import { sum } from 'simple-statistics';
import type { BaselineKind, MinuteCounts } from './baseline-samples.js';
import { collectBaseline } from './baseline-samples.js';
import type { DetectorSettings, InsightType } from './insight-settings.js';
import { callRateScore, errorRateScore } from './scores.js';

export interface MinuteEvaluation {
  minute: number;
  /** Calls per minute, or error fraction for error-rate insights. */
  observed: number;
  expected: number;
  score: number;
  unusual: boolean;
  /** Undefined when the series is too young or the baseline too thin to judge. */
  baselineKind: BaselineKind | undefined;
}

/** Figures over a stretch of minutes, as insight statistics report them. */
export interface InsightFigures {
  /** The insight's first minute; for an End, `endMinute` is one past its last unusual minute. */
  startMinute: number;
  endMinute: number;
  insightAverage: number;
  baselineAverage: number;
  /** Highest score seen in the stretch. */
  peakScore: number;
  baselineKind: BaselineKind;
  /** Calls per minute over the stretch (for error rates: all calls). */
  callsPerMinute: number;
}

export type InsightTransition =
  | { state: 'Start'; figures: InsightFigures }
  | { state: 'End'; figures: InsightFigures; reason: 'normal' | 'max-duration' };

/** A minute's contribution to an insight's averages. */
interface Tally {
  minute: number;
  observedNumerator: number;
  expectedNumerator: number;
  calls: number;
  score: number;
  baselineKind: BaselineKind;
}

/** An insight's span of minutes: excluded from the baseline unless it became the new normal. */
export interface InsightSpan {
  startMinute: number;
  /** Exclusive; undefined while the insight is active. */
  endMinute: number | undefined;
}

export class SeriesDetector {
  /** Unusual minutes waiting to become an insight, or the active insight's minutes. */
  private tallies: Tally[] = [];
  private active = false;
  private usualRun = 0;
  private spans: InsightSpan[] = [];

  constructor(
    readonly type: InsightType,
    private readonly settings: DetectorSettings,
  ) {}

  get isActive(): boolean {
    return this.active;
  }

  /** The active insight's first minute. */
  get activeSince(): number | undefined {
    return this.active ? this.tallies[0]?.minute : undefined;
  }

  /** Restores state after a restart: past insight spans, and the active one if any. */
  restore(spans: readonly InsightSpan[]): void {
    this.spans = spans.map((span) => ({ ...span }));
    const open = this.spans.find((span) => span.endMinute === undefined);
    this.active = open !== undefined;
    this.tallies = [];
    this.usualRun = 0;
    if (open !== undefined) this.restoredStart = open.startMinute;
  }

  /** Start minute of an insight restored as active before any of its minutes were re-tallied. */
  private restoredStart: number | undefined;

  isExcluded(minute: number): boolean {
    for (const span of this.spans) {
      if (minute >= span.startMinute && (span.endMinute === undefined || minute < span.endMinute))
        return true;
    }
    return false;
  }

  evaluate(
    minute: number,
    firstMinute: number,
    counts: MinuteCounts,
  ): MinuteEvaluation & {
    transition?: InsightTransition;
  } {
    const evaluation = this.score(minute, firstMinute, counts);
    this.forgetSpansBefore(minute - this.settings.baselineMinutes);
    const transition = this.advance(evaluation, counts);
    return transition === undefined ? evaluation : { ...evaluation, transition };
  }

  private score(minute: number, firstMinute: number, counts: MinuteCounts): MinuteEvaluation {
    const { settings } = this;
    const notJudged = { minute, observed: 0, expected: 0, score: 0, unusual: false, baselineKind: undefined };
    if (minute - firstMinute < settings.minHistoryMinutes) return notJudged;
    const baseline = collectBaseline(minute, firstMinute, counts, (m) => this.isExcluded(m), settings);
    if (baseline.calls.length < 5) return notJudged;
    const calls = counts.calls(minute);
    if (this.type === 'ApiCallRateInsight') {
      const rate = callRateScore(calls, baseline.calls);
      const unusual =
        rate.score >= settings.zThreshold &&
        calls >= settings.minCount &&
        calls - rate.expected >= settings.minExcess &&
        calls >= settings.minRatio * rate.expected;
      return { minute, ...rate, unusual, baselineKind: baseline.kind };
    }
    const errors = counts.errors(minute);
    const rate = errorRateScore(errors, calls, sum(baseline.errors), sum(baseline.calls));
    const unusual =
      rate.score >= settings.zThreshold &&
      errors >= settings.minCount &&
      errors - rate.expectedErrors >= settings.minExcess &&
      rate.observed >= settings.minRatio * rate.expected;
    return {
      minute,
      observed: rate.observed,
      expected: rate.expected,
      score: rate.score,
      unusual,
      baselineKind: baseline.kind,
    };
  }

  private tallyOf(evaluation: MinuteEvaluation, counts: MinuteCounts): Tally {
    const calls = counts.calls(evaluation.minute);
    // Error rates average as fractions of all calls, so their numerators are weighted by calls.
    const weight = this.type === 'ApiErrorRateInsight' ? calls : 1;
    return {
      minute: evaluation.minute,
      observedNumerator: evaluation.observed * weight,
      expectedNumerator: evaluation.expected * weight,
      calls,
      score: evaluation.score,
      baselineKind: evaluation.baselineKind ?? 'warming-up',
    };
  }

  private advance(evaluation: MinuteEvaluation, counts: MinuteCounts): InsightTransition | undefined {
    const { settings } = this;
    if (!this.active) {
      if (!evaluation.unusual) {
        this.tallies = [];
        return undefined;
      }
      this.tallies.push(this.tallyOf(evaluation, counts));
      if (this.tallies.length < settings.startAfter) return undefined;
      this.active = true;
      this.usualRun = 0;
      const startMinute = this.tallies[0]?.minute ?? evaluation.minute;
      this.spans.push({ startMinute, endMinute: undefined });
      return { state: 'Start', figures: this.figures(this.tallies) };
    }
    this.tallies.push(this.tallyOf(evaluation, counts));
    this.usualRun = evaluation.unusual ? 0 : this.usualRun + 1;
    const startMinute = this.restoredStart ?? this.tallies[0]?.minute ?? evaluation.minute;
    const overlong = evaluation.minute + 1 - startMinute >= settings.maxInsightMinutes;
    if (this.usualRun < settings.endAfter && !overlong) return undefined;
    const unusualTallies = this.tallies.slice(0, this.tallies.length - this.usualRun);
    const figures = this.figures(unusualTallies.length > 0 ? unusualTallies : this.tallies, startMinute);
    const open = this.spans.find((span) => span.endMinute === undefined);
    if (overlong && this.usualRun < settings.endAfter) {
      // The new normal: its minutes go back into the baseline.
      this.spans = this.spans.filter((span) => span !== open);
    } else if (open !== undefined) {
      open.endMinute = figures.endMinute;
    }
    this.active = false;
    this.tallies = [];
    this.usualRun = 0;
    this.restoredStart = undefined;
    return {
      state: 'End',
      figures,
      reason: overlong && this.usualRun < settings.endAfter ? 'max-duration' : 'normal',
    };
  }

  private figures(tallies: readonly Tally[], startMinute?: number): InsightFigures {
    const first = tallies[0];
    const last = tallies[tallies.length - 1];
    if (first === undefined || last === undefined) throw new Error('an insight needs at least one minute');
    const totalCalls = sum(tallies.map((tally) => tally.calls));
    const divisor = this.type === 'ApiErrorRateInsight' ? Math.max(totalCalls, 1) : tallies.length;
    return {
      startMinute: startMinute ?? first.minute,
      endMinute: last.minute + 1,
      insightAverage: sum(tallies.map((tally) => tally.observedNumerator)) / divisor,
      baselineAverage: sum(tallies.map((tally) => tally.expectedNumerator)) / divisor,
      peakScore: Math.max(...tallies.map((tally) => tally.score)),
      baselineKind: tallies.some((tally) => tally.baselineKind === 'warming-up') ? 'warming-up' : 'seasonal',
      callsPerMinute: totalCalls / tallies.length,
    };
  }

  private forgetSpansBefore(minute: number): void {
    if (this.spans.length === 0) return;
    this.spans = this.spans.filter((span) => span.endMinute === undefined || span.endMinute > minute);
  }
}

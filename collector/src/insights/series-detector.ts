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
import { LevelTracker } from './level-tracker.js';
import { callRateScore, errorRateScore } from './scores.js';

export interface MinuteEvaluation {
  minute: number;
  /** Calls per minute, or error fraction for error-rate insights. */
  observed: number;
  expected: number;
  score: number;
  /** Unusual enough to start an insight (with `startAfter` in a row). */
  unusual: boolean;
  /**
   * Still above the baseline by half the margins: an active insight ends only after `endAfter`
   * minutes that are not even this (hysteresis on the level, not only in time), so a lasting
   * change hovering around the thresholds makes one long insight, not a string of short ones.
   */
  elevated: boolean;
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
  /** For an active insight being restored: its Start's figures. */
  startFigures?: InsightFigures;
}

/** Fewer baseline minutes than this say too little to judge by. */
const MIN_BASELINE_SAMPLES = 5;

/** What a minute shows against its baseline. */
interface Evidence {
  score: number;
  /** Calls (errors, for error rates) in the minute, how many more than expected, and the ratio. */
  count: number;
  excess: number;
  ratio: number;
}

/** Every margin met, at full strength (1) or at a fraction of it (ending hysteresis). */
function exceeds(evidence: Evidence, settings: DetectorSettings, strength: number): boolean {
  return (
    evidence.score >= settings.zThreshold * strength &&
    evidence.count >= settings.minCount * strength &&
    evidence.excess >= settings.minExcess * strength &&
    evidence.ratio >= 1 + (settings.minRatio - 1) * strength
  );
}

export class SeriesDetector {
  private readonly level = new LevelTracker();
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

  /** Restores state after a restart: past insight spans, and the active one if any. */
  restore(spans: readonly InsightSpan[]): void {
    this.spans = spans.map((span) => ({ ...span }));
    const open = this.spans.find((span) => span.endMinute === undefined);
    this.active = open !== undefined;
    this.tallies = [];
    this.usualRun = 0;
    this.restoredStart = open?.startMinute;
    this.restoredFigures = open?.startFigures;
  }

  /** Start minute of an insight restored as active before any of its minutes were re-tallied. */
  private restoredStart: number | undefined;
  /** ...and its Start's figures: all an End can say when no unusual minute followed the restart. */
  private restoredFigures: InsightFigures | undefined;

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
    const notJudged: MinuteEvaluation = {
      minute,
      observed: 0,
      expected: 0,
      score: 0,
      unusual: false,
      elevated: false,
      baselineKind: undefined,
    };
    if (minute - firstMinute < settings.minHistoryMinutes) return notJudged;
    const isExcluded = (m: number): boolean => this.isExcluded(m);
    const baseline = collectBaseline(minute, firstMinute, counts, isExcluded, settings);
    if (baseline.calls.length < MIN_BASELINE_SAMPLES) return notJudged;
    const calls = counts.calls(minute);
    if (this.type === 'ApiCallRateInsight') {
      const seasonal = baseline.kind === 'seasonal';
      // Unusual minutes waiting to start an insight may be the first minutes of a burst: they
      // are not evidence of a new level (once in an insight, its span excludes them).
      const pendingFrom = this.active
        ? Number.POSITIVE_INFINITY
        : (this.tallies[0]?.minute ?? Number.POSITIVE_INFINITY);
      const level = seasonal ? this.level.factor((m) => m >= pendingFrom || isExcluded(m)) : 1;
      const rate = callRateScore(
        calls,
        level === 1 ? baseline.calls : baseline.calls.map((count) => count * level),
      );
      const evidence = {
        score: rate.score,
        count: calls,
        excess: calls - rate.expected,
        ratio: calls / rate.expected,
      };
      const unusual = exceeds(evidence, settings, 1);
      if (seasonal) this.level.record(minute, calls, rate.expected / level);
      return {
        minute,
        ...rate,
        unusual,
        elevated: exceeds(evidence, settings, 0.5),
        baselineKind: baseline.kind,
      };
    }
    const errors = counts.errors(minute);
    const rate = errorRateScore(errors, calls, sum(baseline.errors), sum(baseline.calls));
    const evidence = {
      score: rate.score,
      count: errors,
      excess: errors - rate.expectedErrors,
      ratio: rate.observed / rate.expected,
    };
    return {
      minute,
      observed: rate.observed,
      expected: rate.expected,
      score: rate.score,
      unusual: exceeds(evidence, settings, 1),
      elevated: exceeds(evidence, settings, 0.5),
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
    // A minute that cannot be judged (too thin a baseline) is no evidence either way.
    if (evaluation.baselineKind === undefined) return undefined;
    this.tallies.push(this.tallyOf(evaluation, counts));
    this.usualRun = evaluation.elevated ? 0 : this.usualRun + 1;
    const startMinute = this.restoredStart ?? this.tallies[0]?.minute ?? evaluation.minute;
    const normal = this.usualRun >= settings.endAfter;
    const overlong = evaluation.minute + 1 - startMinute >= settings.maxInsightMinutes;
    if (!normal && !overlong) return undefined;
    const figures = this.endFigures(startMinute);
    const open = this.spans.find((span) => span.endMinute === undefined);
    if (normal) {
      if (open !== undefined) open.endMinute = figures.endMinute;
    } else {
      // The new normal: its minutes go back into the baseline.
      this.spans = this.spans.filter((span) => span !== open);
    }
    this.active = false;
    this.tallies = [];
    this.usualRun = 0;
    this.restoredStart = undefined;
    this.restoredFigures = undefined;
    return { state: 'End', figures, reason: normal ? 'normal' : 'max-duration' };
  }

  /** Figures over the insight's minutes up to its last elevated one. */
  private endFigures(startMinute: number): InsightFigures {
    const elevated = this.tallies.slice(0, this.tallies.length - this.usualRun);
    if (elevated.length > 0) return this.figures(elevated, startMinute);
    // Restored after a restart and over since: it ended by the first minute judged after it.
    const endMinute = this.tallies[0]?.minute ?? startMinute + 1;
    if (this.restoredFigures !== undefined) return { ...this.restoredFigures, startMinute, endMinute };
    return { ...this.figures(this.tallies, startMinute), endMinute };
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

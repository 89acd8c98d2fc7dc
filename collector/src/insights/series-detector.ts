/*
 * One detector per (series, insight type): scores each minute against its baseline and turns
 * unusual minutes into insights with hysteresis (Start after `startAfter` unusual minutes in a
 * row, End after `endAfter` usual ones), so one noisy minute starts nothing and one quiet minute
 * in the middle of an incident ends nothing.
 */
import { sum } from 'simple-statistics';
import type { BaselineKind, BaselineSamples, MinuteCounts } from './baseline-samples.js';
import { MAX_EXCLUDED_SHARE, collectBaseline } from './baseline-samples.js';
import { ExcludedSpans } from './excluded-spans.js';
import type { DetectorSettings, InsightType } from './insight-settings.js';
import type { LevelMode } from './level-tracker.js';
import { LEVEL_WINDOW_MINUTES, LevelTracker } from './level-tracker.js';
import { SustainedWindow } from './sustained-window.js';
import { baselineMoments, countDropScore, countRiseScore, errorRateScore } from './scores.js';

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
  /** Which way the minute is unusual or elevated (drops only with `detectDrops`). */
  direction: Direction;
}

export type Direction = 'increase' | 'decrease';

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
  /** Set for a drop (`detectDrops`); an increase otherwise. */
  direction?: 'decrease';
}

export type InsightTransition =
  | { state: 'Start'; figures: InsightFigures }
  | { state: 'End'; figures: InsightFigures; reason: 'normal' | 'max-duration' };

/** A minute's contribution to an insight's averages. */
export interface Tally {
  minute: number;
  observedNumerator: number;
  expectedNumerator: number;
  calls: number;
  /** What the seasonal baseline expected before the level: what the level learns from. */
  baseExpected: number;
  score: number;
  baselineKind: BaselineKind;
}

/** SeriesDetector.snapshot(): the state of a pending or active insight, as plain data. */
export interface DetectorSnapshot {
  active: boolean;
  direction: Direction;
  tallies: readonly Tally[];
  usualRun: number;
  /** An insight restored without its minutes (from a snapshot-less restart): where it started. */
  restoredStart?: number;
}

/** An insight's span of minutes: excluded from the baseline unless it became the new normal. */
export interface InsightSpan {
  startMinute: number;
  /** Exclusive; undefined while the insight is active. */
  endMinute: number | undefined;
  /** For an active insight being restored: its Start's figures. */
  startFigures?: InsightFigures;
}

/**
 * The lower middle value; 0 without values. "Usually" means at least half of the earlier days: of
 * two weekend days both must show it (the mean of the two middle values would let one burst on
 * Saturday make Sunday's minute look like a cron job's).
 */
function lowerMedian(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[(sorted.length - 1) >> 1] ?? 0;
}

/** Fewer baseline minutes than this say too little to judge by. */
const MIN_BASELINE_SAMPLES = 5;

/** Minutes replayHistory() goes over: the level's window, and the sustained window before it. */
export function historyReplayMinutes(settings: DetectorSettings): number {
  return LEVEL_WINDOW_MINUTES + settings.sustainedMinutes;
}

/**
 * A window's per-minute excess must reach this share of `minExcess`: a lasting rise of 4.5 calls
 * a minute is an incident where one minute 4.5 above its expectation is noise. Not lower: 3 calls a
 * minute where 0.1 are usual (an excess of 2.9) stays below it, as the guards intend.
 */
const SUSTAINED_EXCESS_SHARE = 0.7;

/**
 * The detector's mechanisms, each of which the quality benchmark switches off in turn to measure
 * what it does (docs/insights-design.md, ablation). The collector always runs the defaults.
 */
export interface DetectorMechanisms {
  level: LevelMode;
  /** Fall back to all seasonal samples when insights hold most of them. */
  capExclusion: boolean;
  /** Judge call rates on windowed sums as well as single minutes. */
  accumulate: boolean;
  /** A rise must also clear what the same minute of the day usually sees (cron jobs). */
  sameMinute: boolean;
}

export const DEFAULT_MECHANISMS: DetectorMechanisms = {
  level: 'one-sided',
  capExclusion: true,
  accumulate: true,
  sameMinute: true,
};

/** What a minute (or a window of minutes) shows against its baseline, in one direction. */
interface Evidence {
  score: number;
  /** Calls per minute that count toward `minCount` (for a drop: the expected ones). */
  count: number;
  /** How far from the expectation, per minute; and the ratio, ≥ 1 in the insight's direction. */
  excess: number;
  ratio: number;
}

/** Every margin met, at full strength (1) or at a fraction of it (ending hysteresis). */
function exceeds(evidence: Evidence, settings: DetectorSettings, strength: number, excessShare = 1): boolean {
  return (
    evidence.score >= settings.zThreshold * strength &&
    evidence.count >= settings.minCount * strength &&
    evidence.excess >= settings.minExcess * excessShare * strength &&
    evidence.ratio >= 1 + (settings.minRatio - 1) * strength
  );
}

function riseEvidence(observed: number, expected: number, deviation: number, minutes: number): Evidence {
  return {
    score: countRiseScore(observed, expected, deviation),
    count: observed / minutes,
    excess: (observed - expected) / minutes,
    ratio: observed / expected,
  };
}

function dropEvidence(observed: number, expected: number, deviation: number, minutes: number): Evidence {
  return {
    score: countDropScore(observed, expected, deviation),
    count: expected / minutes,
    excess: (expected - observed) / minutes,
    ratio: expected / Math.max(observed, Number.MIN_VALUE),
  };
}

/** How unusual one direction is: at full strength, at half strength, and the score shown. */
interface Judgement {
  unusual: boolean;
  elevated: boolean;
  score: number;
}

export class SeriesDetector {
  private readonly level: LevelTracker;
  private readonly window: SustainedWindow;
  /** Unusual minutes waiting to become an insight, or the active insight's minutes. */
  private tallies: Tally[] = [];
  private active = false;
  /** The pending or active insight's direction. */
  private direction: Direction = 'increase';
  private usualRun = 0;
  private readonly spans = new ExcludedSpans();
  /** The latest call-rate minute's seasonal expectation before the level: what the level learns. */
  private lastBaseExpected = 0;

  constructor(
    readonly type: InsightType,
    private readonly settings: DetectorSettings,
    private readonly mechanisms: DetectorMechanisms = DEFAULT_MECHANISMS,
  ) {
    this.level = new LevelTracker(mechanisms.level);
    this.window = new SustainedWindow(mechanisms.accumulate ? settings.sustainedMinutes : 0);
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Insight spans held for baselines: those a baseline window can still reach. */
  get retainedSpans(): number {
    return this.spans.size;
  }

  /** The spans held, for tests that check lookups against a plain scan. */
  spansForTesting(): InsightSpan[] {
    return this.spans.list();
  }

  /**
   * What restore() cannot rebuild from stored insights: the unusual minutes of a pending insight,
   * or the active one's minutes and usual run. Kept with the evaluation progress, so the collector
   * that goes on (after a restart, or a takeover) raises the Start and End this one would have.
   */
  snapshot(): DetectorSnapshot | undefined {
    if (!this.active && this.tallies.length === 0) return undefined;
    return {
      active: this.active,
      direction: this.direction,
      tallies: this.tallies,
      usualRun: this.usualRun,
      ...(this.restoredStart === undefined ? {} : { restoredStart: this.restoredStart }),
    };
  }

  /** After restore(): takes a snapshot back, unless it contradicts the stored insights. */
  resume(snapshot: DetectorSnapshot): void {
    const open = this.spans.open();
    if (snapshot.active !== this.active) return;
    const startMinute = snapshot.restoredStart ?? snapshot.tallies[0]?.minute;
    if (open !== undefined && startMinute !== open.startMinute) return;
    this.direction = snapshot.direction;
    this.tallies = [...snapshot.tallies];
    this.usualRun = snapshot.usualRun;
    if (snapshot.restoredStart === undefined && snapshot.tallies.length > 0) {
      // The Start's minutes are tallied again: the End figures come from them, not the Start's.
      this.restoredStart = undefined;
      this.restoredFigures = undefined;
    }
  }

  /**
   * After restore() and resume(): rebuilds the level and the sustained window, which a snapshot
   * does not hold (they span every API's last two hours), by going over the minutes up to the
   * last one evaluated as evaluate() did, learning those it learned: every seasonally judged minute
   * in no insight and not pending. Reads historyReplayMinutes() minutes up to `throughMinute`.
   */
  replayHistory(throughMinute: number, firstMinute: number, counts: MinuteCounts): void {
    if (this.type !== 'ApiCallRateInsight') return;
    const { settings } = this;
    const pending = new Set(this.tallies.map((tally) => tally.minute));
    const isExcluded = (m: number): boolean => this.spans.has(m);
    const share = this.mechanisms.capExclusion ? MAX_EXCLUDED_SHARE : 1;
    const from = throughMinute - historyReplayMinutes(settings) + 1;
    for (let minute = from; minute <= throughMinute; minute++) {
      this.level.advance(minute);
      if (minute - firstMinute < settings.minHistoryMinutes) continue;
      const baseline = collectBaseline(minute, firstMinute, counts, isExcluded, settings, share);
      if (baseline.calls.length < MIN_BASELINE_SAMPLES) {
        this.window.reset();
        continue;
      }
      const calls = counts.calls(minute);
      this.pushToWindow(minute, calls, baseline, baseline.kind);
      if (baseline.kind === 'seasonal' && !isExcluded(minute) && !pending.has(minute)) {
        this.level.record(minute, calls, this.lastBaseExpected);
      }
    }
  }

  /** Restores state after a restart: past insight spans, and the active one if any. */
  restore(spans: readonly InsightSpan[]): void {
    this.spans.replace(spans);
    const open = this.spans.open();
    this.active = open !== undefined;
    this.direction = open?.startFigures?.direction ?? 'increase';
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
    return this.spans.has(minute);
  }

  evaluate(
    minute: number,
    firstMinute: number,
    counts: MinuteCounts,
  ): MinuteEvaluation & {
    transition?: InsightTransition;
  } {
    this.level.advance(minute);
    const evaluation = this.score(minute, firstMinute, counts);
    this.spans.forgetBefore(minute - this.settings.baselineMinutes - this.settings.slotHalfWidthMinutes);
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
      direction: 'increase',
    };
    if (minute - firstMinute < settings.minHistoryMinutes) return notJudged;
    const isExcluded = (m: number): boolean => this.spans.has(m);
    const share = this.mechanisms.capExclusion ? MAX_EXCLUDED_SHARE : 1;
    const baseline = collectBaseline(minute, firstMinute, counts, isExcluded, settings, share);
    if (baseline.calls.length < MIN_BASELINE_SAMPLES) {
      this.window.reset();
      return notJudged;
    }
    return this.type === 'ApiCallRateInsight'
      ? this.scoreCalls(minute, counts.calls(minute), baseline, baseline.kind)
      : this.scoreErrors(minute, counts, baseline.calls, baseline.errors, baseline.kind);
  }

  /**
   * A call-rate minute's seasonal expectation, and the minute added to the sustained window: the
   * state a judged minute leaves, whatever the judgement (replayHistory() rebuilds it so).
   */
  private pushToWindow(
    minute: number,
    calls: number,
    baseline: BaselineSamples,
    kind: BaselineKind,
  ): {
    moments: ReturnType<typeof baselineMoments>;
    usual: number;
    recurring: boolean;
    up: number;
    down: number;
  } {
    const { settings, mechanisms } = this;
    const moments = baselineMoments(baseline.calls);
    const usual = mechanisms.sameMinute ? lowerMedian(baseline.sameMinute) : 0;
    const seasonal = kind === 'seasonal';
    const up = seasonal ? this.level.rise : 1;
    const down = seasonal ? this.level.drop : 1;
    this.lastBaseExpected = moments.expected;
    // A cron job's minute: this exact time of day usually sees at least the elevated margin
    // (1.75× by default) over its slot. The window expects it at what it usually sees.
    const recurring = usual > 0 && usual >= moments.expected * (1 + (settings.minRatio - 1) / 2);
    const windowExpected = recurring ? usual : moments.expected;
    // The most one minute adds to a window: twice what an unusual minute of its own would need.
    // One spike then leaves a window of ordinary minutes below minRatio (or, at under 2 calls a
    // minute, below minCount); a burst's minutes, noisy around 3×, keep most of their weight.
    const riseCap = 2 * windowExpected * up * settings.minRatio + settings.minExcess;
    this.window.push(minute, calls, windowExpected, moments.deviation ** 2, riseCap);
    return { moments, usual, recurring, up, down };
  }

  private scoreCalls(
    minute: number,
    calls: number,
    baseline: BaselineSamples,
    kind: BaselineKind,
  ): MinuteEvaluation {
    const { settings } = this;
    const { moments, usual, recurring, up, down } = this.pushToWindow(minute, calls, baseline, kind);
    const { window } = this;
    const windowDeviation = Math.sqrt(window.variance);
    const single = riseEvidence(calls, moments.expected * up, moments.deviation * up, 1);
    // A minute no higher than a cron job's minute usually is, is no rise.
    if (recurring) single.ratio = Math.min(single.ratio, calls / usual);
    const rise = this.judge(
      single,
      window.full
        ? riseEvidence(window.observed, window.expected * up, windowDeviation * up, window.minutes)
        : undefined,
    );
    const drop = settings.detectDrops
      ? this.judge(
          dropEvidence(calls, moments.expected * down, moments.deviation * down, 1),
          window.full
            ? dropEvidence(window.lowObserved, window.expected * down, windowDeviation * down, window.minutes)
            : undefined,
        )
      : undefined;
    // The insight under way (or pending) keeps its direction; otherwise a drop shows only when
    // it is what is unusual.
    const asDrop =
      drop !== undefined &&
      (this.tallies.length > 0 || this.active
        ? this.direction === 'decrease'
        : drop.unusual && !rise.unusual);
    const judged = asDrop ? drop : rise;
    const level = asDrop ? down : up;
    return {
      minute,
      observed: calls,
      expected: moments.expected * level,
      score: judged.score,
      unusual: judged.unusual,
      elevated: judged.elevated,
      baselineKind: kind,
      direction: asDrop ? 'decrease' : 'increase',
    };
  }

  /**
   * A direction's minute and window evidence together: either may make the minute unusual. The
   * window counts only while the minute itself still leans that way by half the margins (1.75×
   * and 1.75 calls beyond the expectation, by default), so an insight ends as soon as the traffic
   * is back, not a window later, and ordinary minutes after a spike start nothing.
   */
  private judge(single: Evidence, window: Evidence | undefined): Judgement {
    const { settings } = this;
    const sustainedExcess = settings.minExcess * SUSTAINED_EXCESS_SHARE;
    const leans = single.excess >= 0.5 * sustainedExcess && single.ratio >= 1 + 0.5 * (settings.minRatio - 1);
    const held = (strength: number): boolean =>
      exceeds(single, settings, strength) ||
      (window !== undefined && leans && exceeds(window, settings, strength, SUSTAINED_EXCESS_SHARE));
    return {
      unusual: held(1),
      elevated: held(0.5),
      score: Math.max(single.score, window?.score ?? Number.NEGATIVE_INFINITY),
    };
  }

  private scoreErrors(
    minute: number,
    counts: MinuteCounts,
    baselineCalls: readonly number[],
    baselineErrors: readonly number[],
    kind: BaselineKind,
  ): MinuteEvaluation {
    const { settings } = this;
    const calls = counts.calls(minute);
    const errors = counts.errors(minute);
    const rate = errorRateScore(errors, calls, sum(baselineErrors), sum(baselineCalls));
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
      baselineKind: kind,
      direction: 'increase',
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
      baseExpected: this.lastBaseExpected,
      score: evaluation.score,
      baselineKind: evaluation.baselineKind ?? 'warming-up',
    };
  }

  /** Teaches the level minutes that turned out to be in no insight (call rates, seasonal only). */
  private learn(tallies: readonly Tally[]): void {
    if (this.type !== 'ApiCallRateInsight') return;
    for (const tally of tallies) {
      if (tally.baselineKind === 'seasonal') this.level.record(tally.minute, tally.calls, tally.baseExpected);
    }
  }

  private advance(evaluation: MinuteEvaluation, counts: MinuteCounts): InsightTransition | undefined {
    const { settings } = this;
    if (!this.active) {
      if (evaluation.baselineKind === undefined) {
        this.tallies = [];
        return undefined;
      }
      const tally = this.tallyOf(evaluation, counts);
      if (!evaluation.unusual || (this.tallies.length > 0 && evaluation.direction !== this.direction)) {
        this.learn(this.tallies);
        this.tallies = [];
      }
      if (!evaluation.unusual) {
        this.learn([tally]);
        return undefined;
      }
      this.direction = evaluation.direction;
      this.tallies.push(tally);
      if (this.tallies.length < settings.startAfter) return undefined;
      this.active = true;
      this.usualRun = 0;
      const startMinute = this.tallies[0]?.minute ?? evaluation.minute;
      this.spans.add({ startMinute, endMinute: undefined });
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
    const open = this.spans.open();
    if (normal) {
      if (open !== undefined) open.endMinute = figures.endMinute;
      // The usual minutes that ended it are in no insight.
      this.learn(this.tallies.slice(this.tallies.length - this.usualRun));
    } else {
      // The new normal: its minutes go back into the baseline, and into the level.
      if (open !== undefined) this.spans.remove(open);
      this.learn(this.tallies);
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
      ...(this.direction === 'decrease' ? { direction: 'decrease' as const } : {}),
    };
  }
}

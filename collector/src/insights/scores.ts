/*
 * How unusual one minute is, as a z-score. Plain z-scores fail on API traffic in two ways this
 * corrects: counts are Poisson (a quiet series has a tiny sample deviation, so 3 calls where 0.2
 * were expected would score 20σ), and small counts are skewed (the normal tail badly understates
 * how often a Poisson(2) minute reaches 6). So the score is the smaller of the empirical z-score
 * (its deviation floored at the Poisson √μ) and the Poisson tail itself expressed as a z-score.
 */
import { zScore } from 'simple-statistics';

/** A count's Poisson mean is never taken below this: zero is not a rate, just few samples. */
const MIN_POISSON_MEAN = 0.5;

/**
 * The z-score of P(X ≥ observed) for X ~ Poisson(expected), by the Wilson–Hilferty cube-root
 * approximation: the normal quantile with the same upper-tail probability, so thresholds mean
 * the same thing at every volume. Within 0.1σ of the exact tail for most counts; for a handful of
 * calls where well under one is expected it errs low (5 against 0.5: 3.45σ, exactly 3.58σ), on
 * the side of fewer alarms on quiet APIs.
 */
export function poissonUpperTailZ(observed: number, expected: number): number {
  if (observed <= 0) return Number.NEGATIVE_INFINITY;
  const ratio = Math.max(expected, 0) / observed;
  return 3 * Math.sqrt(observed) * (1 - 1 / (9 * observed) - Math.cbrt(ratio));
}

export interface RateScore {
  /** What the baseline expects this minute (calls per minute, or error fraction). */
  expected: number;
  /** What was seen (calls per minute, or error fraction). */
  observed: number;
  score: number;
}

/**
 * The z-score of P(X ≤ observed) for X ~ Poisson(expected), as a positive number for a deficit:
 * P(X ≤ k) = 1 − P(X ≥ k + 1), so it is the upper-tail z of k + 1, negated.
 */
export function poissonLowerTailZ(observed: number, expected: number): number {
  return -poissonUpperTailZ(Math.max(observed, 0) + 1, expected);
}

/**
 * A baseline's per-minute mean and deviation, the deviation floored at the Poisson √μ. One pass
 * (Welford): it runs for every API every minute, the detector's hottest loop.
 */
export function baselineMoments(baseline: readonly number[]): { expected: number; deviation: number } {
  let expected = 0;
  let squares = 0;
  for (let i = 0; i < baseline.length; i++) {
    const value = baseline[i] ?? 0;
    const delta = value - expected;
    expected += delta / (i + 1);
    squares += delta * (value - expected);
  }
  const sampleDeviation = baseline.length > 1 ? Math.sqrt(squares / (baseline.length - 1)) : 0;
  return {
    expected,
    deviation: Math.max(sampleDeviation, Math.sqrt(Math.max(expected, MIN_POISSON_MEAN))),
  };
}

/**
 * A count (one minute's, or a window's sum) above its expectation: the smaller of the empirical
 * z-score and the Poisson tail.
 */
export function countRiseScore(observed: number, expected: number, deviation: number): number {
  const empirical = zScore(observed, expected, deviation);
  return Math.min(empirical, poissonUpperTailZ(observed, Math.max(expected, MIN_POISSON_MEAN)));
}

/** A count below its expectation, positive for a deficit: the same rule, on the lower tail. */
export function countDropScore(observed: number, expected: number, deviation: number): number {
  const empirical = zScore(expected, observed, deviation);
  return Math.min(empirical, poissonLowerTailZ(observed, Math.max(expected, MIN_POISSON_MEAN)));
}

/** Calls in a minute against the baseline's per-minute counts. */
export function callRateScore(
  observed: number,
  baseline: readonly number[],
): RateScore & { deviation: number } {
  const { expected, deviation } = baselineMoments(baseline);
  return { expected, observed, score: countRiseScore(observed, expected, deviation), deviation };
}

/**
 * Errors among a minute's calls against the baseline's error fraction. The test respects the
 * number of calls: 10 errors in 10 calls is strong evidence, 1 in 1 is not. The Poisson tail of
 * the error count (scaled to the binomial variance) keeps the skew of small counts.
 */
export function errorRateScore(
  errors: number,
  calls: number,
  baselineErrors: number,
  baselineCalls: number,
): RateScore & { expectedErrors: number } {
  // Half an error of prior: a baseline that saw no errors still has a small, non-zero rate.
  const baselineFraction = (baselineErrors + 0.5) / (baselineCalls + 1);
  const expectedErrors = calls * baselineFraction;
  const observed = calls > 0 ? errors / calls : 0;
  const score =
    calls > 0
      ? poissonUpperTailZ(errors, Math.max(expectedErrors, 1e-9)) / Math.sqrt(1 - baselineFraction)
      : Number.NEGATIVE_INFINITY;
  return { expected: baselineFraction, observed, score, expectedErrors };
}

/*
 * Insight scores against exact figures computed here: Poisson tails summed from the pmf and
 * turned into z-scores with the normal tail, and the plain z-score the detector improves on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { callRateScore, errorRateScore, poissonUpperTailZ } from '../../src/insights/scores.js';

/** erfc(x) (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const coefficients = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
    -0.82215223, 0.17087277,
  ];
  const polynomial = coefficients.reduceRight((accumulated, coefficient) => coefficient + t * accumulated, 0);
  const value = t * Math.exp(-z * z + polynomial);
  return x >= 0 ? value : 2 - value;
}

/** The z with P(Z ≥ z) = p for a standard normal Z, by bisection. */
function normalQuantileOfUpperTail(p: number): number {
  let low = -10;
  let high = 40;
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (0.5 * erfc(middle / Math.SQRT2) > p) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/** P(X ≥ k) for X ~ Poisson(mean), summing the pmf from k up. */
function poissonUpperTail(k: number, mean: number): number {
  let logPmf = -mean + k * Math.log(mean);
  for (let i = 2; i <= k; i++) logPmf -= Math.log(i);
  let pmf = Math.exp(logPmf);
  let total = 0;
  for (let i = k; ; i++) {
    total += pmf;
    pmf = (pmf * mean) / (i + 1);
    if (i > mean && pmf <= total * 1e-17) return total;
  }
}

function exactZ(observed: number, expected: number): number {
  return normalQuantileOfUpperTail(poissonUpperTail(observed, expected));
}

function naiveZ(observed: number, baseline: readonly number[]): number {
  const mean = baseline.reduce((a, b) => a + b, 0) / baseline.length;
  const variance = baseline.reduce((a, b) => a + (b - mean) ** 2, 0) / (baseline.length - 1);
  return (observed - mean) / Math.sqrt(variance);
}

describe('poissonUpperTailZ', () => {
  it('the exact tails computed here are right (sanity check of the test itself)', () => {
    // P(X ≥ 1) = 1 − e^−μ; P(X ≥ 2 | μ = 1) = 1 − 2/e.
    assert.ok(Math.abs(poissonUpperTail(1, 0.5) - (1 - Math.exp(-0.5))) < 1e-12);
    assert.ok(Math.abs(poissonUpperTail(2, 1) - (1 - 2 / Math.E)) < 1e-12);
    assert.ok(Math.abs(normalQuantileOfUpperTail(0.5)) < 1e-6);
    assert.ok(Math.abs(normalQuantileOfUpperTail(0.022750131948179) - 2) < 1e-5);
    assert.ok(Math.abs(normalQuantileOfUpperTail(3.167124183311992e-5) - 4) < 1e-5);
  });

  it('agrees with the exact Poisson tail within 0.1σ from 3 calls up', () => {
    const pairs: [observed: number, expected: number][] = [
      [3, 0.5],
      [3, 1],
      [5, 1],
      [6, 2],
      [10, 2],
      [8, 3],
      [20, 10],
      [30, 10],
      [50, 30],
      [100, 60],
      [200, 150],
      [1000, 900],
      [5, 8],
    ];
    for (const [observed, expected] of pairs) {
      const exact = exactZ(observed, expected);
      const approximation = poissonUpperTailZ(observed, expected);
      assert.ok(
        Math.abs(approximation - exact) <= 0.1,
        `Poisson(${expected}) ≥ ${observed}: ${approximation.toFixed(3)}σ, exactly ${exact.toFixed(3)}σ`,
      );
    }
  });

  it('never overstates how unusual a count above its expectation is', () => {
    for (const expected of [0.5, 1, 2, 5, 10, 30, 100]) {
      for (let observed = 1; observed <= 4 * expected + 30; observed++) {
        const exact = exactZ(observed, expected);
        if (exact < 0) continue;
        if (exact > 8) break;
        const approximation = poissonUpperTailZ(observed, expected);
        assert.ok(
          approximation <= exact + 0.05,
          `Poisson(${expected}) ≥ ${observed}: ${approximation.toFixed(3)}σ, exactly ${exact.toFixed(3)}σ`,
        );
      }
    }
  });

  it('grows with the count and shrinks with the expectation; no calls is never unusual', () => {
    assert.ok(poissonUpperTailZ(20, 5) > poissonUpperTailZ(15, 5));
    assert.ok(poissonUpperTailZ(20, 5) > poissonUpperTailZ(20, 8));
    assert.equal(poissonUpperTailZ(0, 5), Number.NEGATIVE_INFINITY);
  });
});

describe('callRateScore', () => {
  it('a quiet series (0 or 1 call a minute) reaching 3 calls is far below 4σ, though the naive z is huge', () => {
    const baseline = Array.from({ length: 60 }, (_, minute) => (minute % 10 === 0 ? 1 : 0));
    const naive = naiveZ(3, baseline);
    assert.ok(naive > 8, `naive z ${naive}`);
    const rate = callRateScore(3, baseline);
    assert.ok(rate.score < 3, `score ${rate.score}`);
    assert.ok(Math.abs(rate.expected - 0.1) < 1e-12);
    assert.equal(rate.observed, 3);
  });

  it('a baseline that never saw a call still expects some: one call is not an incident', () => {
    const rate = callRateScore(1, new Array<number>(60).fill(0));
    assert.ok(Number.isFinite(rate.score));
    assert.ok(rate.score < 1, `score ${rate.score}`);
  });

  it('a noisy baseline widens the deviation the count is measured in', () => {
    const steady = new Array<number>(60).fill(20);
    const noisy = Array.from({ length: 60 }, (_, minute) => (minute % 2 === 0 ? 10 : 30));
    const steadyScore = callRateScore(50, steady);
    const noisyScore = callRateScore(50, noisy);
    assert.equal(steadyScore.expected, 20);
    assert.equal(noisyScore.expected, 20);
    assert.ok(steadyScore.score > 5, `steady ${steadyScore.score}`);
    assert.ok(
      noisyScore.score < steadyScore.score - 2,
      `noisy ${noisyScore.score}, steady ${steadyScore.score}`,
    );
    // Measured in the noisy baseline's own deviation (≈ 10): about 3σ.
    assert.ok(Math.abs(noisyScore.score - naiveZ(50, noisy)) < 0.01, `noisy ${noisyScore.score}`);
  });

  it('a busy steady series is judged by its Poisson spread', () => {
    const baseline = new Array<number>(100).fill(1000);
    // √1000 ≈ 31.6: 1100 is about 3.1σ, 1200 about 6σ.
    assert.ok(callRateScore(1100, baseline).score < 4);
    assert.ok(callRateScore(1200, baseline).score > 5);
    assert.ok(callRateScore(900, baseline).score < 0);
  });
});

describe('errorRateScore', () => {
  it('10 errors in 10 calls is much stronger evidence than 1 in 1', () => {
    const all = errorRateScore(10, 10, 5, 1000);
    const one = errorRateScore(1, 1, 5, 1000);
    assert.equal(all.observed, 1);
    assert.equal(one.observed, 1);
    assert.equal(all.expected, one.expected);
    assert.ok(all.score >= 6, `10 of 10: ${all.score}`);
    assert.ok(one.score < 3, `1 of 1: ${one.score}`);
    assert.ok(all.expectedErrors > one.expectedErrors);
  });

  it('the baseline fraction is the baseline’s error share', () => {
    const rate = errorRateScore(3, 100, 99, 9999);
    assert.ok(Math.abs(rate.expected - 0.01) < 1e-4, `expected ${rate.expected}`);
    assert.ok(Math.abs(rate.expectedErrors - 1) < 0.01);
    assert.equal(rate.observed, 0.03);
  });

  it('a baseline without errors still has a small, non-zero error fraction', () => {
    const rate = errorRateScore(1, 100, 0, 10_000);
    assert.ok(rate.expected > 0 && rate.expected < 1e-3, `expected ${rate.expected}`);
    assert.ok(rate.expectedErrors > 0);
    assert.ok(Number.isFinite(rate.score));
    // A first error ever is notable but not, alone, an incident; many are.
    assert.ok(rate.score < 4, `one error: ${rate.score}`);
    assert.ok(errorRateScore(20, 100, 0, 10_000).score > 4);
  });

  it('no calls, no evidence', () => {
    const rate = errorRateScore(0, 0, 5, 1000);
    assert.equal(rate.observed, 0);
    assert.equal(rate.score, Number.NEGATIVE_INFINITY);
  });
});

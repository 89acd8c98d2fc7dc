/*
 * Seeded randomness for the Insights quality benchmark: nothing here touches Math.random, so a
 * data set is identical on every machine and every run.
 */

import { seededRandom } from '../workload.js';

/** Mixes a seed with a stream number so each series gets its own independent stream. */
export function deriveSeed(seed: number, stream: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/** ln(k!): summed exactly below 20, Stirling's series from there (error < 1e-10). */
function logFactorial(k: number): number {
  if (k < 20) {
    let total = 0;
    for (let i = 2; i <= k; i++) total += Math.log(i);
    return total;
  }
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

export class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** Uniform in [0, 1). */
  unit(): number {
    return this.next();
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Uniform integer in [low, high], both inclusive. */
  integer(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }

  /** Uniform on a log scale: as many values between 0.1 and 1 as between 100 and 1000. */
  logUniform(low: number, high: number): number {
    return Math.exp(this.uniform(Math.log(low), Math.log(high)));
  }

  /** Standard normal, by Box–Muller (1 − u keeps the logarithm finite). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.integer(0, i);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  /** Poisson(λ): Knuth's product method for small λ (exact, O(λ)), PTRS above. */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    return lambda < 10 ? this.poissonKnuth(lambda) : this.poissonPtrs(lambda);
  }

  private poissonKnuth(lambda: number): number {
    const limit = Math.exp(-lambda);
    let product = this.next();
    let count = 0;
    while (product > limit) {
      product *= this.next();
      count++;
    }
    return count;
  }

  /**
   * Hörmann's transformed rejection with squeeze (PTRS, 1993), exact for λ ≥ 10 at O(1) cost: the
   * volumes here reach tens of thousands per minute, where Knuth's method would loop that often.
   */
  private poissonPtrs(lambda: number): number {
    const logLambda = Math.log(lambda);
    const b = 0.931 + 2.53 * Math.sqrt(lambda);
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.next();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      const logAcceptance = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
      if (logAcceptance <= -lambda + k * logLambda - logFactorial(k)) return k;
    }
  }

  /**
   * Binomial(n, p): exact Bernoulli trials for small n, exact inversion when the expected count of
   * the rarer outcome is small (where the shape is most skewed), a rounded normal otherwise
   * (n·p·(1−p) ≥ 10, where its error is far below the Poisson noise of the calls themselves).
   */
  binomial(n: number, p: number): number {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    if (n <= 40) {
      let count = 0;
      for (let i = 0; i < n; i++) if (this.next() < p) count++;
      return count;
    }
    if (n * p < 10) return this.binomialInversion(n, p);
    const draw = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * this.normal());
    return Math.min(n, Math.max(0, draw));
  }

  /** Gamma(shape, scale) by Marsaglia and Tsang (2000); shape < 1 boosted by U^(1/shape). */
  gamma(shape: number, scale: number): number {
    if (shape < 1) return this.gamma(shape + 1, scale) * this.next() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = this.next();
      if (Math.log(1 - u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v * scale;
    }
  }

  /**
   * Negative binomial with mean μ and size k (variance μ + μ²/k), as the Poisson–gamma mixture:
   * real per-minute counts are overdispersed, Poisson only in the limit k → ∞.
   */
  negativeBinomial(mean: number, size: number): number {
    if (mean <= 0) return 0;
    return this.poisson(this.gamma(size, mean / size));
  }

  private binomialInversion(n: number, p: number): number {
    const odds = p / (1 - p);
    let probability = (1 - p) ** n;
    let cumulative = probability;
    const u = this.next();
    let k = 0;
    while (u > cumulative && k < n) {
      probability *= (odds * (n - k)) / (k + 1);
      cumulative += probability;
      k++;
    }
    return k;
  }
}

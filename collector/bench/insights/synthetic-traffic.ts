/*
 * The seeded synthetic traffic behind the Insights quality benchmark: weeks of per-minute calls and
 * errors for many API series, with daily and weekly seasonality and Poisson noise, injected
 * incidents (labelled) and benign lasting changes (labelled too, never incidents). Everything
 * derives from one seed, so a data set is identical on every machine and every run.
 */

import { seededRandom } from '../workload.js';

/* Seeded randomness: nothing below touches Math.random. */

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

/*
 * The labelled data set. Time is in whole minutes since the epoch, like the detector's; the arrays
 * are indexed by minute offset from the data set's first minute.
 */
export const MINUTES_PER_DAY = 1440;
/** Days 0–6 are history only: no incident, benign change or counted alarm falls in them. */
export const HISTORY_DAYS = 7;
/** Incidents start on this day or later, and end at least a day before the data set does. */
const FIRST_INCIDENT_DAY = 8;
/** Incidents, deploys and appearances are this far apart, so each alarm has one explanation. */
const EVENT_SPACING_MINUTES = 6 * 60;
const MEAN_INCIDENTS_PER_SERIES = 3;
const BENIGN_SHARE = 0.1;
/** Expected extra calls (or errors) per minute below which an incident is not worth an alarm. */
export const MATERIAL_EXCESS_PER_MINUTE = 5;
/** The day ranges for benign changes are given for a 28-day run and scaled to others. */
const REFERENCE_DAYS = 28;

export type IncidentKind = 'burst' | 'errorJump' | 'ramp';
export const INCIDENT_KINDS: readonly IncidentKind[] = ['burst', 'errorJump', 'ramp'];
export type BenignKind = 'deploy' | 'newApi';

export interface IncidentLabel {
  kind: IncidentKind;
  series: number;
  startMinute: number;
  /** Exclusive. */
  endMinute: number;
  /** A burst's call multiplier, a ramp's peak multiplier, or the error fraction an error jump reaches. */
  magnitude: number;
  /** Expected extra calls (bursts, ramps) or errors (error jumps) per minute; see `material`. */
  excessPerMinute: number;
  /**
   * Whether the incident is worth an alarm: expected excess ≥ 5 per minute (mean over a burst or
   * error jump, at the peak of a ramp). A series going from 0.2 to 0.6 calls a minute has no
   * incident; alarms on such labels count neither as true nor as false.
   */
  material: boolean;
}

/** A lasting change that is not an incident: alarms on it are false alarms. */
export interface BenignLabel {
  kind: BenignKind;
  series: number;
  minute: number;
}

export interface SeriesProfile {
  /** Mean calls per minute before seasonality (log-uniform 0.1–1,000). */
  baseRate: number;
  /** Daily seasonality: rate × (1 + amplitude·cos(hours from the peak hour)), floored at 0.1×. */
  dailyAmplitude: number;
  peakHourUtc: number;
  /** Rate multiplier on Saturdays and Sundays (UTC). */
  weekendFactor: number;
  /** Share of calls that fail outside incidents. */
  errorFraction: number;
  /** A new API has no traffic before this minute. */
  appearanceMinute: number | undefined;
  /** From this minute on traffic is doubled for good. */
  deployMinute: number | undefined;
}

export interface SyntheticSeries {
  index: number;
  profile: SeriesProfile;
  /** The series' first minute of history: the data set's first minute, or a new API's appearance. */
  firstMinute: number;
  calls: Int32Array;
  errors: Int32Array;
  incidents: IncidentLabel[];
  benign: BenignLabel[];
}

export interface TrafficOptions {
  seed: number;
  seriesCount: number;
  /** At least 10: a week of history, then a day before incidents start, and a day after. */
  days: number;
  /** Defaults to Monday 2026-01-05 00:00 UTC, so days of the week line up with day numbers. */
  startMs?: number;
}

export interface SyntheticDataSet {
  seed: number;
  days: number;
  startMinute: number;
  /** Exclusive. */
  endMinute: number;
  /** Alarms and false-alarm time are counted from this minute on (day 7). */
  countedFromMinute: number;
  series: SyntheticSeries[];
}

export function isWeekendMinute(minute: number): boolean {
  // Day 0 of the epoch (1970-01-01) was a Thursday; 0 = Sunday below.
  const dayOfWeek = (Math.floor(minute / MINUTES_PER_DAY) + 4) % 7;
  return dayOfWeek === 0 || dayOfWeek === 6;
}

/** Calls per minute the series would see at `minute` without incidents (deploys included). */
export function expectedRate(profile: SeriesProfile, minute: number): number {
  if (profile.appearanceMinute !== undefined && minute < profile.appearanceMinute) return 0;
  const hour = (minute % MINUTES_PER_DAY) / 60;
  const daily = 1 + profile.dailyAmplitude * Math.cos((2 * Math.PI * (hour - profile.peakHourUtc)) / 24);
  const weekend = isWeekendMinute(minute) ? profile.weekendFactor : 1;
  const deployed = profile.deployMinute !== undefined && minute >= profile.deployMinute ? 2 : 1;
  return profile.baseRate * Math.max(0.1, daily) * weekend * deployed;
}

/** Call multiplier an incident applies at `minute` (1 outside it, and for error jumps). */
export function incidentCallMultiplier(incident: IncidentLabel, minute: number): number {
  if (minute < incident.startMinute || minute >= incident.endMinute) return 1;
  if (incident.kind === 'burst') return incident.magnitude;
  if (incident.kind === 'errorJump') return 1;
  const duration = incident.endMinute - incident.startMinute;
  return 1 + ((incident.magnitude - 1) * (minute - incident.startMinute + 1)) / duration;
}

interface TimeRange {
  from: number;
  /** Exclusive. */
  to: number;
}

/** A benign change's window, given in days of a 28-day run, scaled to this run and kept after history. */
function benignRange(startMinute: number, days: number, fromDay: number, toDay: number): TimeRange {
  const scale = days / REFERENCE_DAYS;
  const from = Math.max(HISTORY_DAYS, fromDay * scale);
  const to = Math.max(from + 1 / 24, Math.min(days - 1, toDay * scale));
  return {
    from: startMinute + Math.round(from * MINUTES_PER_DAY),
    to: startMinute + Math.round(to * MINUTES_PER_DAY),
  };
}

function drawProfile(random: Random): SeriesProfile {
  return {
    baseRate: random.logUniform(0.1, 1000),
    dailyAmplitude: random.uniform(0.2, 0.8),
    peakHourUtc: random.uniform(8, 18),
    weekendFactor: random.uniform(0.3, 1),
    errorFraction: random.uniform(0, 0.05),
    appearanceMinute: undefined,
    deployMinute: undefined,
  };
}

interface IncidentShape {
  kind: IncidentKind;
  duration: number;
  magnitude: number;
}

function drawShape(random: Random, errorFraction: number): IncidentShape {
  const u = random.unit();
  if (u < 0.5) return { kind: 'burst', duration: random.integer(3, 60), magnitude: random.logUniform(2, 50) };
  if (u < 0.8) {
    const duration = random.integer(5, 60);
    return {
      kind: 'errorJump',
      duration,
      magnitude: Math.min(0.95, errorFraction + random.uniform(0.1, 0.6)),
    };
  }
  return { kind: 'ramp', duration: random.integer(20, 90), magnitude: random.uniform(4, 10) };
}

/** Expected excess per minute by which an incident's materiality is judged. */
function excessPerMinute(profile: SeriesProfile, incident: IncidentLabel): number {
  const { startMinute, endMinute } = incident;
  if (incident.kind === 'ramp') return expectedRate(profile, endMinute - 1) * (incident.magnitude - 1);
  let total = 0;
  for (let minute = startMinute; minute < endMinute; minute++) {
    const rate = expectedRate(profile, minute);
    total +=
      incident.kind === 'burst'
        ? rate * (incident.magnitude - 1)
        : rate * (incident.magnitude - profile.errorFraction);
  }
  return total / (endMinute - startMinute);
}

function tooClose(range: TimeRange, incidents: readonly IncidentLabel[], points: readonly number[]): boolean {
  const from = range.from - EVENT_SPACING_MINUTES;
  const to = range.to + EVENT_SPACING_MINUTES;
  return (
    incidents.some((other) => other.startMinute < to && from < other.endMinute) ||
    points.some((point) => point > from && point < to)
  );
}

function placeIncidents(
  random: Random,
  series: number,
  profile: SeriesProfile,
  window: TimeRange,
  benignMinutes: readonly number[],
): IncidentLabel[] {
  const wanted = random.poisson(MEAN_INCIDENTS_PER_SERIES);
  const placed: IncidentLabel[] = [];
  // Rejection sampling: a crowded window may hold fewer than wanted, which only lowers the mean a little.
  for (let attempt = 0; placed.length < wanted && attempt < 50 * wanted; attempt++) {
    const shape = drawShape(random, profile.errorFraction);
    if (window.to - shape.duration <= window.from) continue;
    const startMinute = random.integer(window.from, window.to - shape.duration);
    const range = { from: startMinute, to: startMinute + shape.duration };
    if (tooClose(range, placed, benignMinutes)) continue;
    const incident: IncidentLabel = {
      kind: shape.kind,
      series,
      startMinute,
      endMinute: range.to,
      magnitude: shape.magnitude,
      excessPerMinute: 0,
      material: false,
    };
    incident.excessPerMinute = excessPerMinute(profile, incident);
    incident.material = incident.excessPerMinute >= MATERIAL_EXCESS_PER_MINUTE;
    placed.push(incident);
  }
  return placed.sort((a, b) => a.startMinute - b.startMinute);
}

/** Poisson calls around the expected rate (times any incident's multiplier), binomial errors among them. */
function render(
  random: Random,
  profile: SeriesProfile,
  incidents: readonly IncidentLabel[],
  startMinute: number,
  minutes: number,
): { calls: Int32Array; errors: Int32Array } {
  const multiplier = new Float64Array(minutes).fill(1);
  const errorFraction = new Float64Array(minutes).fill(profile.errorFraction);
  for (const incident of incidents) {
    for (let minute = incident.startMinute; minute < incident.endMinute; minute++) {
      multiplier[minute - startMinute] = incidentCallMultiplier(incident, minute);
      if (incident.kind === 'errorJump') errorFraction[minute - startMinute] = incident.magnitude;
    }
  }
  const calls = new Int32Array(minutes);
  const errors = new Int32Array(minutes);
  for (let offset = 0; offset < minutes; offset++) {
    const count = random.poisson(expectedRate(profile, startMinute + offset) * multiplier[offset]!);
    calls[offset] = count;
    errors[offset] = random.binomial(count, errorFraction[offset]!);
  }
  return { calls, errors };
}

type Role = 'plain' | BenignKind;

/** Exactly 10% deploys and 10% new APIs (at least one each from 10 series), so small sets test both. */
function assignRoles(seed: number, seriesCount: number): Role[] {
  const random = new Random(deriveSeed(seed, 0x7fffffff));
  const share = seriesCount >= 10 ? Math.max(1, Math.round(BENIGN_SHARE * seriesCount)) : 0;
  const roles: Role[] = new Array<Role>(seriesCount).fill('plain');
  const order = random.shuffle([...Array(seriesCount).keys()]);
  order.slice(0, share).forEach((index) => (roles[index] = 'deploy'));
  order.slice(share, 2 * share).forEach((index) => (roles[index] = 'newApi'));
  return roles;
}

/** A deploy or a new API's appearance at a random minute of the (scaled) day range. */
function drawBenignChange(
  random: Random,
  kind: BenignKind,
  series: number,
  startMinute: number,
  days: number,
): BenignLabel {
  const range =
    kind === 'deploy' ? benignRange(startMinute, days, 9, 25) : benignRange(startMinute, days, 8, 20);
  return { kind, series, minute: random.integer(range.from, range.to - 1) };
}

function generateSeries(
  index: number,
  role: Role,
  options: Required<TrafficOptions>,
  startMinute: number,
): SyntheticSeries {
  const { seed, days } = options;
  const random = new Random(deriveSeed(seed, index));
  const profile = drawProfile(random);
  const benign = role === 'plain' ? [] : [drawBenignChange(random, role, index, startMinute, days)];
  for (const change of benign) {
    if (change.kind === 'deploy') profile.deployMinute = change.minute;
    else profile.appearanceMinute = change.minute;
  }
  const firstMinute = profile.appearanceMinute ?? startMinute;
  const window = {
    // A new API's incidents come after it has some traffic to compare with (the same spacing as events).
    from: Math.max(startMinute + FIRST_INCIDENT_DAY * MINUTES_PER_DAY, firstMinute + EVENT_SPACING_MINUTES),
    to: startMinute + (days - 1) * MINUTES_PER_DAY,
  };
  const changeMinutes = benign.map((change) => change.minute);
  const incidents = placeIncidents(random, index, profile, window, changeMinutes);
  const { calls, errors } = render(random, profile, incidents, startMinute, days * MINUTES_PER_DAY);
  return { index, profile, firstMinute, calls, errors, incidents, benign };
}

export function generateTraffic(options: TrafficOptions): SyntheticDataSet {
  const resolved: Required<TrafficOptions> = { ...options, startMs: options.startMs ?? Date.UTC(2026, 0, 5) };
  if (resolved.days < 10) throw new Error('the synthetic traffic needs at least 10 days');
  if (resolved.startMs % (MINUTES_PER_DAY * 60_000) !== 0) throw new Error('startMs must be a UTC midnight');
  const startMinute = resolved.startMs / 60_000;
  const roles = assignRoles(resolved.seed, resolved.seriesCount);
  return {
    seed: resolved.seed,
    days: resolved.days,
    startMinute,
    endMinute: startMinute + resolved.days * MINUTES_PER_DAY,
    countedFromMinute: startMinute + HISTORY_DAYS * MINUTES_PER_DAY,
    series: roles.map((role, index) => generateSeries(index, role, resolved, startMinute)),
  };
}

export function allIncidents(dataSet: SyntheticDataSet): IncidentLabel[] {
  return dataSet.series.flatMap((series) => series.incidents);
}

export function allBenignChanges(dataSet: SyntheticDataSet): BenignLabel[] {
  return dataSet.series.flatMap((series) => series.benign);
}

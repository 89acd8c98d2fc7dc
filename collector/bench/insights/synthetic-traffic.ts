/*
 * The seeded synthetic traffic behind the Insights quality benchmark: weeks of per-minute calls and
 * errors for many API series, with injected incidents (labelled) and benign changes (labelled too,
 * never incidents). Issue 13 rebuilt it to hold what real traffic has and pure Poisson hides:
 * overdispersed counts (negative binomial) with a slow random drift, daily and weekly seasonality,
 * a holiday and a one-off busy day inside the baseline window, cron jobs that spike at fixed
 * minutes of the hour, abrupt level shifts both ways, bursty series with many true spikes, very
 * quiet APIs with modest lasting rises, and drops. Every series belongs to one traffic class, and
 * the figures are reported per class. Everything derives from one seed.
 */

import { Random, deriveSeed } from './random.js';

export { Random, deriveSeed } from './random.js';

/*
 * The labelled data set. Time is in whole minutes since the epoch, like the detector's; the arrays
 * are indexed by minute offset from the data set's first minute.
 */
export const MINUTES_PER_DAY = 1440;
/** Days 0–6 are history only: no incident, benign change or counted alarm falls in them. */
export const HISTORY_DAYS = 7;
/** Incidents start on this day or later, and end at least a day before the data set does. */
const FIRST_INCIDENT_DAY = 8;
/** Incidents and point changes (shifts, appearances) are this far apart, so each alarm has one explanation. */
const EVENT_SPACING_MINUTES = 6 * 60;
/** ...except on bursty series, whose point is many true spikes. */
const BURSTY_SPACING_MINUTES = 90;
const MEAN_INCIDENTS_PER_SERIES = 3;
const BURSTY_INCIDENTS_PER_DAY = 2;
/** Expected extra calls (or errors) per minute below which an incident is not worth an alarm. */
export const MATERIAL_EXCESS_PER_MINUTE = 5;
/**
 * A lasting rise (at least SUSTAINED_MINUTES long) is worth an alarm from this excess per minute:
 * 5–7 calls a minute where 1.5 are usual, for a quarter of an hour, is an incident.
 */
export const MATERIAL_SUSTAINED_EXCESS = 3.5;
export const SUSTAINED_MINUTES = 15;
/** Days of the data set (weekdays) that are a holiday and a one-off busy day for every series. */
const HOLIDAY_DAYS = [8, 17];
const BUSY_DAYS = [10, 22];
/** Stationary standard deviation of the slow log-normal drift, and its per-minute correlation. */
const DRIFT_CORRELATION = 0.995;

export type TrafficClass = 'steady' | 'cron' | 'shifting' | 'bursty' | 'quiet';
export const TRAFFIC_CLASSES: readonly TrafficClass[] = ['steady', 'cron', 'shifting', 'bursty', 'quiet'];
/** Shares of the series in each class (rounded; every class gets one series from 5 on). */
const CLASS_SHARES: Record<TrafficClass, number> = {
  steady: 0.3,
  cron: 0.15,
  shifting: 0.15,
  bursty: 0.2,
  quiet: 0.2,
};

export type IncidentKind = 'burst' | 'errorJump' | 'ramp' | 'sustained' | 'drop';
export const INCIDENT_KINDS: readonly IncidentKind[] = ['burst', 'errorJump', 'ramp', 'sustained', 'drop'];
export type BenignKind = 'levelShift' | 'newApi' | 'cronStopped' | 'holiday' | 'busyDay';

export interface IncidentLabel {
  kind: IncidentKind;
  series: number;
  startMinute: number;
  /** Exclusive. */
  endMinute: number;
  /**
   * A burst's call multiplier, a ramp's peak multiplier, the error fraction an error jump
   * reaches, the calls per minute a sustained rise lifts the series to, a drop's multiplier.
   */
  magnitude: number;
  /** Expected extra calls (errors; for a drop: missing calls) per minute; see `material`. */
  excessPerMinute: number;
  /**
   * Whether the incident is worth an alarm: expected excess ≥ 5 per minute (mean over a burst,
   * drop or error jump, at the peak of a ramp), or ≥ 3.5 a minute for a sustained rise of at least
   * 15 minutes. A series going from 0.2 to 0.6 calls a minute has no incident; alarms on such
   * labels count neither as true nor as false.
   */
  material: boolean;
}

/** A change that is not an incident: alarms on it are false alarms. */
export interface BenignLabel {
  kind: BenignKind;
  series: number;
  minute: number;
}

export interface LevelShift {
  minute: number;
  /** From `minute` on, traffic is multiplied by this (0.4–0.7 or 1.5–2). */
  factor: number;
}

export interface SeriesProfile {
  trafficClass: TrafficClass;
  /** Mean calls per minute before seasonality. */
  baseRate: number;
  /** Daily seasonality: rate × (1 + amplitude·cos(hours from the peak hour)), floored at 0.1×. */
  dailyAmplitude: number;
  peakHourUtc: number;
  /** Rate multiplier on Saturdays and Sundays (UTC). */
  weekendFactor: number;
  /** Share of calls that fail outside incidents. */
  errorFraction: number;
  /** Negative-binomial size k: variance μ + μ²/k (smaller is burstier). */
  dispersion: number;
  /** Standard deviation of the slow log-normal drift of the rate. */
  driftDeviation: number;
  /** Rate multiplier on the data set's holidays (whole days) and on its busy days. */
  holidayFactor: number;
  busyDayFactor: number;
  /** Minutes of the hour a cron job fires at (cron class), each spiking for `cronWidth` minutes. */
  cronMinutes: number[];
  cronWidth: number;
  cronMultiplier: number;
  /** The cron job is switched off from this minute on. */
  cronStopMinute: number | undefined;
  levelShifts: LevelShift[];
  /** A new API has no traffic before this minute. */
  appearanceMinute: number | undefined;
  /** First minutes of the data set's holidays and busy days (whole UTC days). */
  holidayMinutes: number[];
  busyDayMinutes: number[];
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

function withinDayFrom(minute: number, dayStarts: readonly number[]): boolean {
  return dayStarts.some((start) => minute >= start && minute < start + MINUTES_PER_DAY);
}

function isCronMinute(profile: SeriesProfile, minute: number): boolean {
  if (profile.cronMinutes.length === 0) return false;
  if (profile.cronStopMinute !== undefined && minute >= profile.cronStopMinute) return false;
  const ofHour = minute % 60;
  return profile.cronMinutes.some((at) => (ofHour - at + 60) % 60 < profile.cronWidth);
}

/**
 * Calls per minute the series would see at `minute` without incidents and without its drift:
 * seasonality, holidays and busy days, level shifts, cron spikes (benign changes included).
 */
export function expectedRate(profile: SeriesProfile, minute: number): number {
  if (profile.appearanceMinute !== undefined && minute < profile.appearanceMinute) return 0;
  const hour = (minute % MINUTES_PER_DAY) / 60;
  const daily = 1 + profile.dailyAmplitude * Math.cos((2 * Math.PI * (hour - profile.peakHourUtc)) / 24);
  let rate = profile.baseRate * Math.max(0.1, daily);
  if (isWeekendMinute(minute)) rate *= profile.weekendFactor;
  if (withinDayFrom(minute, profile.holidayMinutes)) rate *= profile.holidayFactor;
  if (withinDayFrom(minute, profile.busyDayMinutes)) rate *= profile.busyDayFactor;
  for (const shift of profile.levelShifts) if (minute >= shift.minute) rate *= shift.factor;
  if (isCronMinute(profile, minute)) rate *= profile.cronMultiplier;
  return rate;
}

/** Calls per minute during an incident, given what the series would see without it. */
export function incidentRate(incident: IncidentLabel, minute: number, rate: number): number {
  if (minute < incident.startMinute || minute >= incident.endMinute) return rate;
  switch (incident.kind) {
    case 'burst':
    case 'drop':
      return rate * incident.magnitude;
    case 'errorJump':
      return rate;
    case 'sustained':
      return Math.max(rate, incident.magnitude);
    case 'ramp': {
      const duration = incident.endMinute - incident.startMinute;
      return rate * (1 + ((incident.magnitude - 1) * (minute - incident.startMinute + 1)) / duration);
    }
  }
}

interface TimeRange {
  from: number;
  /** Exclusive. */
  to: number;
}

function dayStarts(startMinute: number, days: number, candidates: readonly number[]): number[] {
  return candidates.filter((day) => day < days - 1).map((day) => startMinute + day * MINUTES_PER_DAY);
}

function drawProfile(
  random: Random,
  trafficClass: TrafficClass,
  startMinute: number,
  days: number,
): SeriesProfile {
  const baseRate = {
    steady: () => random.logUniform(1, 1000),
    cron: () => random.logUniform(1, 200),
    shifting: () => random.logUniform(2, 500),
    bursty: () => random.logUniform(5, 500),
    quiet: () => random.logUniform(0.1, 2),
  }[trafficClass]();
  const cron = trafficClass === 'cron';
  return {
    trafficClass,
    baseRate,
    dailyAmplitude: random.uniform(0.2, 0.8),
    peakHourUtc: random.uniform(8, 18),
    weekendFactor: random.uniform(0.3, 1),
    errorFraction: random.uniform(0, 0.05),
    dispersion: trafficClass === 'bursty' ? random.logUniform(3, 20) : random.logUniform(8, 100),
    driftDeviation: random.uniform(0.03, 0.15),
    holidayFactor: random.uniform(0.2, 0.5),
    busyDayFactor: random.uniform(1.4, 1.9),
    cronMinutes: cron ? random.shuffle([...Array(60).keys()]).slice(0, random.integer(1, 3)) : [],
    cronWidth: cron ? random.integer(1, 2) : 0,
    cronMultiplier: cron ? random.uniform(3, 15) : 1,
    cronStopMinute: undefined,
    levelShifts: [],
    appearanceMinute: undefined,
    holidayMinutes: dayStarts(startMinute, days, HOLIDAY_DAYS),
    busyDayMinutes: dayStarts(startMinute, days, BUSY_DAYS),
  };
}

interface IncidentShape {
  kind: IncidentKind;
  duration: number;
  magnitude: number;
}

function burst(random: Random, short: boolean): IncidentShape {
  return short
    ? { kind: 'burst', duration: random.integer(2, 30), magnitude: random.logUniform(2, 20) }
    : { kind: 'burst', duration: random.integer(3, 60), magnitude: random.logUniform(2, 50) };
}

function errorJump(random: Random, errorFraction: number): IncidentShape {
  return {
    kind: 'errorJump',
    duration: random.integer(5, 60),
    magnitude: Math.min(0.95, errorFraction + random.uniform(0.1, 0.6)),
  };
}

function drawShape(random: Random, profile: SeriesProfile): IncidentShape {
  const u = random.unit();
  switch (profile.trafficClass) {
    case 'bursty':
      return u < 0.9 ? burst(random, true) : errorJump(random, profile.errorFraction);
    case 'quiet':
      if (u < 0.75)
        return { kind: 'sustained', duration: random.integer(15, 90), magnitude: random.uniform(4.5, 7.5) };
      return burst(random, false);
    default:
      if (u < 0.4) return burst(random, false);
      if (u < 0.65) return errorJump(random, profile.errorFraction);
      if (u < 0.8)
        return { kind: 'ramp', duration: random.integer(20, 90), magnitude: random.uniform(4, 10) };
      return { kind: 'drop', duration: random.integer(10, 120), magnitude: random.uniform(0, 0.1) };
  }
}

/** Expected excess (for a drop: deficit) per minute by which an incident's materiality is judged. */
function excessPerMinute(profile: SeriesProfile, incident: IncidentLabel): number {
  const { startMinute, endMinute } = incident;
  if (incident.kind === 'ramp') {
    const rate = expectedRate(profile, endMinute - 1);
    return incidentRate(incident, endMinute - 1, rate) - rate;
  }
  let total = 0;
  for (let minute = startMinute; minute < endMinute; minute++) {
    const rate = expectedRate(profile, minute);
    if (incident.kind === 'errorJump') total += rate * (incident.magnitude - profile.errorFraction);
    else total += Math.abs(incidentRate(incident, minute, rate) - rate);
  }
  return total / (endMinute - startMinute);
}

function isMaterial(incident: IncidentLabel): boolean {
  if (incident.kind === 'sustained') {
    return (
      incident.endMinute - incident.startMinute >= SUSTAINED_MINUTES &&
      incident.excessPerMinute >= MATERIAL_SUSTAINED_EXCESS
    );
  }
  return incident.excessPerMinute >= MATERIAL_EXCESS_PER_MINUTE;
}

function tooClose(
  range: TimeRange,
  incidents: readonly IncidentLabel[],
  points: readonly number[],
  spacing: number,
): boolean {
  const from = range.from - spacing;
  const to = range.to + spacing;
  return (
    incidents.some((other) => other.startMinute < to && from < other.endMinute) ||
    points.some((point) => point > from && point < to)
  );
}

/** Whether a range touches a holiday or busy day: incidents keep off them, so each alarm has one cause. */
function onSpecialDay(profile: SeriesProfile, range: TimeRange): boolean {
  const days = [...profile.holidayMinutes, ...profile.busyDayMinutes];
  return days.some((start) => range.from < start + MINUTES_PER_DAY && start < range.to);
}

function placeIncidents(
  random: Random,
  series: number,
  profile: SeriesProfile,
  window: TimeRange,
  pointChanges: readonly number[],
): IncidentLabel[] {
  const bursty = profile.trafficClass === 'bursty';
  const days = (window.to - window.from) / MINUTES_PER_DAY;
  const wanted = random.poisson(bursty ? BURSTY_INCIDENTS_PER_DAY * days : MEAN_INCIDENTS_PER_SERIES);
  const spacing = bursty ? BURSTY_SPACING_MINUTES : EVENT_SPACING_MINUTES;
  const placed: IncidentLabel[] = [];
  // Rejection sampling: a crowded window may hold fewer than wanted, which only lowers the mean a little.
  for (let attempt = 0; placed.length < wanted && attempt < 50 * wanted; attempt++) {
    const shape = drawShape(random, profile);
    if (window.to - shape.duration <= window.from) continue;
    const startMinute = random.integer(window.from, window.to - shape.duration);
    const range = { from: startMinute, to: startMinute + shape.duration };
    if (tooClose(range, placed, pointChanges, spacing) || onSpecialDay(profile, range)) continue;
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
    incident.material = isMaterial(incident);
    placed.push(incident);
  }
  return placed.sort((a, b) => a.startMinute - b.startMinute);
}

/** Negative-binomial calls around the drifting expected rate (incidents applied), binomial errors. */
function render(
  random: Random,
  profile: SeriesProfile,
  incidents: readonly IncidentLabel[],
  startMinute: number,
  minutes: number,
): { calls: Int32Array; errors: Int32Array } {
  const calls = new Int32Array(minutes);
  const errors = new Int32Array(minutes);
  const spread = profile.driftDeviation;
  const innovation = spread * Math.sqrt(1 - DRIFT_CORRELATION ** 2);
  let drift = spread * random.normal();
  let next = 0;
  for (let offset = 0; offset < minutes; offset++) {
    const minute = startMinute + offset;
    drift = DRIFT_CORRELATION * drift + innovation * random.normal();
    let rate = expectedRate(profile, minute) * Math.exp(drift - (spread * spread) / 2);
    let errorFraction = profile.errorFraction;
    while (next < incidents.length && incidents[next]!.endMinute <= minute) next++;
    const incident = incidents[next];
    if (incident !== undefined && minute >= incident.startMinute) {
      rate = incidentRate(incident, minute, rate);
      if (incident.kind === 'errorJump') errorFraction = incident.magnitude;
    }
    const count = random.negativeBinomial(rate, profile.dispersion);
    calls[offset] = count;
    errors[offset] = random.binomial(count, errorFraction);
  }
  return { calls, errors };
}

/** Every class in its share (at least one series each from 5 series), in a seeded order. */
function assignClasses(seed: number, seriesCount: number): TrafficClass[] {
  const random = new Random(deriveSeed(seed, 0x7fffffff));
  const classes: TrafficClass[] = [];
  for (const trafficClass of TRAFFIC_CLASSES) {
    const share = Math.max(seriesCount >= 5 ? 1 : 0, Math.round(CLASS_SHARES[trafficClass] * seriesCount));
    for (let i = 0; i < share && classes.length < seriesCount; i++) classes.push(trafficClass);
  }
  while (classes.length < seriesCount) classes.push('steady');
  return random.shuffle(classes);
}

/** A point change's minute: after the history, clear of the last day. */
function pointMinute(random: Random, startMinute: number, days: number, fromDay: number): number {
  const from = startMinute + Math.round(Math.max(HISTORY_DAYS, fromDay) * MINUTES_PER_DAY);
  const to = startMinute + (days - 2) * MINUTES_PER_DAY;
  return random.integer(from, Math.max(from, to));
}

/** Level shifts, a stopped cron job, an appearance: the class's benign point changes. */
function drawPointChanges(
  random: Random,
  profile: SeriesProfile,
  series: number,
  startMinute: number,
  days: number,
): BenignLabel[] {
  const changes: BenignLabel[] = [];
  if (profile.trafficClass === 'shifting') {
    const first = pointMinute(random, startMinute, days, HISTORY_DAYS);
    const shifts = [first];
    const second = first + random.integer(2, 5) * MINUTES_PER_DAY;
    if (second < startMinute + (days - 2) * MINUTES_PER_DAY) shifts.push(second);
    for (const minute of shifts) {
      const up = random.unit() < 0.5;
      profile.levelShifts.push({ minute, factor: up ? random.uniform(1.5, 2) : random.uniform(0.4, 0.7) });
      changes.push({ kind: 'levelShift', series, minute });
    }
  }
  if (profile.trafficClass === 'cron' && random.unit() < 0.5) {
    profile.cronStopMinute = pointMinute(random, startMinute, days, HISTORY_DAYS + 1);
    changes.push({ kind: 'cronStopped', series, minute: profile.cronStopMinute });
  }
  if (profile.trafficClass === 'steady' && random.unit() < 0.3) {
    profile.appearanceMinute = pointMinute(random, startMinute, days, 8);
    changes.push({ kind: 'newApi', series, minute: profile.appearanceMinute });
  }
  return changes;
}

function generateSeries(
  index: number,
  trafficClass: TrafficClass,
  options: Required<TrafficOptions>,
  startMinute: number,
): SyntheticSeries {
  const { seed, days } = options;
  const random = new Random(deriveSeed(seed, index));
  const profile = drawProfile(random, trafficClass, startMinute, days);
  const pointChanges = drawPointChanges(random, profile, index, startMinute, days);
  const benign: BenignLabel[] = [
    ...pointChanges,
    ...profile.holidayMinutes.map((minute) => ({ kind: 'holiday' as const, series: index, minute })),
    ...profile.busyDayMinutes.map((minute) => ({ kind: 'busyDay' as const, series: index, minute })),
  ];
  const firstMinute = profile.appearanceMinute ?? startMinute;
  const window = {
    // A new API's incidents come after it has some traffic to compare with (the same spacing as events).
    from: Math.max(startMinute + FIRST_INCIDENT_DAY * MINUTES_PER_DAY, firstMinute + EVENT_SPACING_MINUTES),
    to: startMinute + (days - 1) * MINUTES_PER_DAY,
  };
  const changeMinutes = pointChanges.map((change) => change.minute);
  const incidents = placeIncidents(random, index, profile, window, changeMinutes);
  const { calls, errors } = render(random, profile, incidents, startMinute, days * MINUTES_PER_DAY);
  return { index, profile, firstMinute, calls, errors, incidents, benign };
}

export function generateTraffic(options: TrafficOptions): SyntheticDataSet {
  const resolved: Required<TrafficOptions> = { ...options, startMs: options.startMs ?? Date.UTC(2026, 0, 5) };
  if (resolved.days < 10) throw new Error('the synthetic traffic needs at least 10 days');
  if (resolved.startMs % (MINUTES_PER_DAY * 60_000) !== 0) throw new Error('startMs must be a UTC midnight');
  const startMinute = resolved.startMs / 60_000;
  const classes = assignClasses(resolved.seed, resolved.seriesCount);
  return {
    seed: resolved.seed,
    days: resolved.days,
    startMinute,
    endMinute: startMinute + resolved.days * MINUTES_PER_DAY,
    countedFromMinute: startMinute + HISTORY_DAYS * MINUTES_PER_DAY,
    series: classes.map((trafficClass, index) => generateSeries(index, trafficClass, resolved, startMinute)),
  };
}

export function allIncidents(dataSet: SyntheticDataSet): IncidentLabel[] {
  return dataSet.series.flatMap((series) => series.incidents);
}

export function allBenignChanges(dataSet: SyntheticDataSet): BenignLabel[] {
  return dataSet.series.flatMap((series) => series.benign);
}

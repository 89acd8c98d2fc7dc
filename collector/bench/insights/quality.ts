/*
 * Runs a detector over the labelled synthetic traffic and scores its alarms: recall, precision,
 * false alarms per series-week (per traffic class and overall) and detection delay, the figures
 * the Insights issues set targets for. Both insight types run on every series; call-rate alarms
 * answer bursts, ramps and sustained rises (drops, when the detector reports decreases),
 * error-rate alarms answer error jumps. Days 0–6 are history: detectors run over them (as a
 * collector would have), but only alarms from day 7 on are counted.
 */
import type { MinuteCounts } from '../../src/insights/baseline-samples.js';
import type { InsightType } from '../../src/insights/insight-settings.js';
import { DEFAULT_DETECTOR_SETTINGS, INSIGHT_TYPES } from '../../src/insights/insight-settings.js';
import type { DetectorSettings } from '../../src/insights/insight-settings.js';
import type { DetectorMechanisms, Direction } from '../../src/insights/series-detector.js';
import { DEFAULT_MECHANISMS, SeriesDetector } from '../../src/insights/series-detector.js';
import { percentile } from '../statistics.js';
import { DEFAULT_PLAIN_ZSCORE_OPTIONS, PlainZScoreDetector } from './plain-zscore.js';
import { DEFAULT_SEASONAL_NAIVE_OPTIONS, SeasonalNaiveDetector } from './seasonal-naive.js';
import type {
  BenignKind,
  IncidentKind,
  IncidentLabel,
  SyntheticDataSet,
  SyntheticSeries,
  TrafficClass,
} from './synthetic-traffic.js';
import {
  INCIDENT_KINDS,
  MINUTES_PER_DAY,
  TRAFFIC_CLASSES,
  expectedRate,
  isWeekendMinute,
} from './synthetic-traffic.js';

/** An alarm raised up to this long after an incident's last minute still counts as detecting it. */
export const GRACE_MINUTES = 15;
const DAYS_PER_MONTH = 30;
const DAYS_PER_WEEK = 7;

/** What the harness needs of a detector: SeriesDetector and the two baselines all fit. */
export interface AlarmDetector {
  evaluate(
    minute: number,
    firstMinute: number,
    counts: MinuteCounts,
  ): {
    transition?: { state: 'Start' | 'End'; figures?: { direction?: 'decrease' } } | undefined;
  };
}

export interface DetectorUnderTest {
  name: string;
  /** Whether it reports decreases; drops count toward its recall only then. */
  reportsDrops: boolean;
  /** A fresh detector for one (series, insight type). */
  create(type: InsightType): AlarmDetector;
}

export function crumbtrailDetector(
  settings: DetectorSettings = DEFAULT_DETECTOR_SETTINGS,
  mechanisms: DetectorMechanisms = DEFAULT_MECHANISMS,
  name = 'crumbtrail',
): DetectorUnderTest {
  return {
    name,
    reportsDrops: settings.detectDrops,
    create: (type) => new SeriesDetector(type, settings, mechanisms),
  };
}

export function plainZScoreDetector(threshold = DEFAULT_PLAIN_ZSCORE_OPTIONS.threshold): DetectorUnderTest {
  return {
    name: 'plain z-score',
    reportsDrops: false,
    create: (type) => new PlainZScoreDetector(type, { ...DEFAULT_PLAIN_ZSCORE_OPTIONS, threshold }),
  };
}

export function seasonalNaiveDetector(ratio = DEFAULT_SEASONAL_NAIVE_OPTIONS.ratio): DetectorUnderTest {
  return {
    name: 'seasonal naive',
    reportsDrops: false,
    create: (type) => new SeasonalNaiveDetector(type, { ...DEFAULT_SEASONAL_NAIVE_OPTIONS, ratio }),
  };
}

/** An alarm is raised after its `minute` completes (the minute its Start was returned for). */
export interface Alarm {
  series: number;
  type: InsightType;
  direction: Direction;
  minute: number;
}

/** Why a false alarm probably happened, from the labels and the calendar; checked in this order. */
export type FalseAlarmCause =
  | 'during an incident of another kind'
  | `${BenignKind}, first day`
  | `${BenignKind}, days 2–7`
  | 'within 6 h after an incident'
  | 'within 3 h of a weekend edge'
  | 'other';

export interface FalseAlarm extends Alarm {
  cause: FalseAlarmCause;
  trafficClass: TrafficClass;
  /** The series' base rate, calls per minute: false alarms cluster by volume. */
  baseRate: number;
  /** Calls per minute the series was expected to see at the alarm's minute. */
  expectedRate: number;
  calls: number;
  errors: number;
}

export interface MissedIncident extends IncidentLabel {
  trafficClass: TrafficClass;
  baseRate: number;
  /** Whether the incident started on a Saturday or Sunday (UTC), where seasonal baselines differ. */
  weekend: boolean;
}

export interface RecallFigures {
  incidents: number;
  detected: number;
  recall: number;
}

export interface DelayFigures {
  count: number;
  /** Minutes from an incident's first minute to the end of the minute its alarm was raised after. */
  median: number;
  p95: number;
}

export interface ClassFigures {
  series: number;
  seriesWeeks: number;
  recall: RecallFigures;
  falseAlarms: number;
  falseAlarmsPerSeriesWeek: number;
}

export interface QualityReport {
  detector: string;
  series: number;
  countedDays: number;
  materialIncidents: number;
  /** Labelled incidents too small to matter: excluded from recall, alarms on them ignored. */
  immaterialIncidents: number;
  /** Material incidents of the kinds this detector reports (drops only if it reports decreases). */
  recall: RecallFigures;
  recallByKind: Record<IncidentKind, RecallFigures>;
  /** Material bursts of at least 3× lasting at least 5 minutes. */
  targetRecall: RecallFigures;
  byClass: Record<TrafficClass, ClassFigures>;
  alarms: {
    total: number;
    true: number;
    false: number;
    ignored: number;
    /** True alarms after the first on the same incident (a flapping alarm). */
    repeats: number;
  };
  precision: number;
  falseAlarmsPerSeriesMonth: number;
  falseAlarmsPerSeriesWeek: number;
  /** Material bursts of at least 3×. */
  burstDelay: DelayFigures;
  /** Material sustained rises on quiet APIs. */
  sustainedDelay: DelayFigures;
  incidentDelay: DelayFigures;
  evaluations: number;
  microsPerEvaluation: number;
  /** Material incidents without a matching alarm. */
  missed: MissedIncident[];
  falseAlarms: FalseAlarm[];
}

export function insightTypeOf(kind: IncidentKind): InsightType {
  return kind === 'errorJump' ? 'ApiErrorRateInsight' : 'ApiCallRateInsight';
}

function directionOf(kind: IncidentKind): Direction {
  return kind === 'drop' ? 'decrease' : 'increase';
}

export function isTargetIncident(incident: IncidentLabel): boolean {
  return (
    incident.material &&
    incident.kind === 'burst' &&
    incident.magnitude >= 3 &&
    incident.endMinute - incident.startMinute >= 5
  );
}

export function volumeBucket(callsPerMinute: number): string {
  if (callsPerMinute < 1) return '< 1/min';
  if (callsPerMinute < 10) return '1–10/min';
  if (callsPerMinute < 100) return '10–100/min';
  return '≥ 100/min';
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const name = key(item);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

export function seriesCounts(series: SyntheticSeries, startMinute: number): MinuteCounts {
  return {
    calls: (minute) => series.calls[minute - startMinute] ?? 0,
    errors: (minute) => series.errors[minute - startMinute] ?? 0,
  };
}

interface RunResult {
  alarms: Alarm[];
  evaluations: number;
  milliseconds: number;
}

/** Every counted alarm of one detector over the data set, in series and minute order. */
function runDetector(dataSet: SyntheticDataSet, detector: DetectorUnderTest): RunResult {
  const result: RunResult = { alarms: [], evaluations: 0, milliseconds: 0 };
  for (const series of dataSet.series) {
    const counts = seriesCounts(series, dataSet.startMinute);
    for (const type of INSIGHT_TYPES) {
      const instance = detector.create(type);
      const started = performance.now();
      // A series' detector exists from its first minute, as in the collector.
      for (let minute = series.firstMinute; minute < dataSet.endMinute; minute++) {
        const { transition } = instance.evaluate(minute, series.firstMinute, counts);
        if (transition?.state === 'Start' && minute >= dataSet.countedFromMinute) {
          const direction = transition.figures?.direction ?? 'increase';
          result.alarms.push({ series: series.index, type, direction, minute });
        }
      }
      result.milliseconds += performance.now() - started;
      result.evaluations += dataSet.endMinute - series.firstMinute;
    }
  }
  return result;
}

function matchesIncident(alarm: Alarm, incident: IncidentLabel): boolean {
  return (
    alarm.minute >= incident.startMinute &&
    alarm.minute <= incident.endMinute - 1 + GRACE_MINUTES &&
    insightTypeOf(incident.kind) === alarm.type &&
    directionOf(incident.kind) === alarm.direction
  );
}

/** Saturday 00:00 and Monday 00:00 UTC: where the weekend factor switches on and off. */
function nearWeekendEdge(minute: number, withinMinutes: number): boolean {
  return (
    isWeekendMinute(minute - withinMinutes) !== isWeekendMinute(minute) ||
    isWeekendMinute(minute + withinMinutes) !== isWeekendMinute(minute)
  );
}

function falseAlarmCause(alarm: Alarm, series: SyntheticSeries): FalseAlarmCause {
  const { minute } = alarm;
  const nearIncident = (incident: IncidentLabel): boolean =>
    minute >= incident.startMinute && minute <= incident.endMinute - 1 + GRACE_MINUTES;
  if (series.incidents.some(nearIncident)) return 'during an incident of another kind';
  for (const change of series.benign) {
    if (minute >= change.minute && minute < change.minute + MINUTES_PER_DAY)
      return `${change.kind}, first day`;
  }
  for (const change of series.benign) {
    if (minute >= change.minute && minute < change.minute + DAYS_PER_WEEK * MINUTES_PER_DAY)
      return `${change.kind}, days 2–7`;
  }
  if (
    series.incidents.some((incident) => minute >= incident.endMinute && minute < incident.endMinute + 360)
  ) {
    return 'within 6 h after an incident';
  }
  if (nearWeekendEdge(minute, 180)) return 'within 3 h of a weekend edge';
  return 'other';
}

function describeFalseAlarm(alarm: Alarm, series: SyntheticSeries, startMinute: number): FalseAlarm {
  return {
    ...alarm,
    cause: falseAlarmCause(alarm, series),
    trafficClass: series.profile.trafficClass,
    baseRate: series.profile.baseRate,
    expectedRate: expectedRate(series.profile, alarm.minute),
    calls: series.calls[alarm.minute - startMinute] ?? 0,
    errors: series.errors[alarm.minute - startMinute] ?? 0,
  };
}

function describeMiss(incident: IncidentLabel, series: SyntheticSeries): MissedIncident {
  return {
    ...incident,
    trafficClass: series.profile.trafficClass,
    baseRate: series.profile.baseRate,
    weekend: isWeekendMinute(incident.startMinute),
  };
}

function recallOf(incidents: readonly IncidentLabel[], detected: ReadonlySet<IncidentLabel>): RecallFigures {
  const found = incidents.filter((incident) => detected.has(incident)).length;
  return { incidents: incidents.length, detected: found, recall: found / incidents.length };
}

function delayOf(delays: readonly number[]): DelayFigures {
  return { count: delays.length, median: percentile(delays, 50), p95: percentile(delays, 95) };
}

/** Sorts each alarm onto the incident it answers (true or ignored) or into the false alarms. */
function classifyAlarms(
  dataSet: SyntheticDataSet,
  alarms: readonly Alarm[],
): {
  firstAlarm: Map<IncidentLabel, Alarm>;
  truePositives: number;
  ignored: number;
  falseAlarms: FalseAlarm[];
} {
  const firstAlarm = new Map<IncidentLabel, Alarm>();
  const falseAlarms: FalseAlarm[] = [];
  let truePositives = 0;
  let ignored = 0;
  for (const alarm of alarms) {
    const series = dataSet.series[alarm.series]!;
    const incident = series.incidents.find((candidate) => matchesIncident(alarm, candidate));
    if (incident === undefined) {
      falseAlarms.push(describeFalseAlarm(alarm, series, dataSet.startMinute));
    } else if (!incident.material) {
      ignored++;
    } else {
      truePositives++;
      if (!firstAlarm.has(incident)) firstAlarm.set(incident, alarm);
    }
  }
  return { firstAlarm, truePositives, ignored, falseAlarms };
}

function seriesWeeksOf(dataSet: SyntheticDataSet, series: readonly SyntheticSeries[]): number {
  let minutes = 0;
  for (const one of series)
    minutes += dataSet.endMinute - Math.max(one.firstMinute, dataSet.countedFromMinute);
  return minutes / (DAYS_PER_WEEK * MINUTES_PER_DAY);
}

export function evaluateQuality(dataSet: SyntheticDataSet, detector: DetectorUnderTest): QualityReport {
  const run = runDetector(dataSet, detector);
  const incidents = dataSet.series.flatMap((series) => series.incidents);
  const material = incidents.filter(
    (incident) => incident.material && (detector.reportsDrops || incident.kind !== 'drop'),
  );
  const { firstAlarm, truePositives, ignored, falseAlarms } = classifyAlarms(dataSet, run.alarms);
  const detected = new Set(firstAlarm.keys());
  const delay = (incident: IncidentLabel): number =>
    firstAlarm.get(incident)!.minute + 1 - incident.startMinute;
  const countedDays = (dataSet.endMinute - dataSet.countedFromMinute) / MINUTES_PER_DAY;
  const seriesWeeks = seriesWeeksOf(dataSet, dataSet.series);
  const classOf = (incident: IncidentLabel): TrafficClass =>
    dataSet.series[incident.series]!.profile.trafficClass;
  const byClass = Object.fromEntries(
    TRAFFIC_CLASSES.map((trafficClass) => {
      const members = dataSet.series.filter((series) => series.profile.trafficClass === trafficClass);
      const weeks = seriesWeeksOf(dataSet, members);
      const wrong = falseAlarms.filter((alarm) => alarm.trafficClass === trafficClass).length;
      const figures: ClassFigures = {
        series: members.length,
        seriesWeeks: weeks,
        recall: recallOf(
          material.filter((incident) => classOf(incident) === trafficClass),
          detected,
        ),
        falseAlarms: wrong,
        falseAlarmsPerSeriesWeek: weeks > 0 ? wrong / weeks : 0,
      };
      return [trafficClass, figures];
    }),
  ) as Record<TrafficClass, ClassFigures>;
  const found = [...detected];
  return {
    detector: detector.name,
    series: dataSet.series.length,
    countedDays,
    materialIncidents: material.length,
    immaterialIncidents: incidents.filter((incident) => !incident.material).length,
    recall: recallOf(material, detected),
    recallByKind: Object.fromEntries(
      INCIDENT_KINDS.map((kind) => [
        kind,
        recallOf(
          material.filter((incident) => incident.kind === kind),
          detected,
        ),
      ]),
    ) as Record<IncidentKind, RecallFigures>,
    targetRecall: recallOf(material.filter(isTargetIncident), detected),
    byClass,
    alarms: {
      total: run.alarms.length,
      true: truePositives,
      false: falseAlarms.length,
      ignored,
      repeats: truePositives - detected.size,
    },
    precision: truePositives / (truePositives + falseAlarms.length),
    falseAlarmsPerSeriesMonth: (falseAlarms.length / seriesWeeks) * (DAYS_PER_MONTH / DAYS_PER_WEEK),
    falseAlarmsPerSeriesWeek: falseAlarms.length / seriesWeeks,
    burstDelay: delayOf(
      found.filter((incident) => incident.kind === 'burst' && incident.magnitude >= 3).map(delay),
    ),
    sustainedDelay: delayOf(found.filter((incident) => incident.kind === 'sustained').map(delay)),
    incidentDelay: delayOf(found.map(delay)),
    evaluations: run.evaluations,
    microsPerEvaluation: (run.milliseconds * 1000) / run.evaluations,
    missed: material
      .filter((incident) => !detected.has(incident))
      .map((incident) => describeMiss(incident, dataSet.series[incident.series]!)),
    falseAlarms,
  };
}

export interface QualityComparison {
  crumbtrail: QualityReport;
  plainZScore: QualityReport;
  seasonalNaive: QualityReport;
}

/** crumbtrail's detector (default settings) and both baselines, side by side on the same data. */
export function compareDetectors(dataSet: SyntheticDataSet): QualityComparison {
  return {
    crumbtrail: evaluateQuality(dataSet, crumbtrailDetector()),
    plainZScore: evaluateQuality(dataSet, plainZScoreDetector()),
    seasonalNaive: evaluateQuality(dataSet, seasonalNaiveDetector()),
  };
}

/** The better of the two baselines' recall: the target crumbtrail's recall must reach. */
export function bestBaselineRecall(comparison: QualityComparison, trafficClass?: TrafficClass): number {
  const recall = (report: QualityReport): number =>
    trafficClass === undefined ? report.recall.recall : report.byClass[trafficClass].recall.recall;
  return Math.max(recall(comparison.plainZScore), recall(comparison.seasonalNaive));
}

/** A baseline at one of its thresholds, as the sweep below tries them. */
export interface TunedBaseline {
  name: string;
  threshold: number;
  report: QualityReport;
}

/** Thresholds the sweep tries, from the defaults up: z-scores, and seasonal-naive ratios. */
const THRESHOLDS = [3, 5, 8, 13, 20, 30, 50, 80, 130] as const;

/**
 * Each baseline at the lowest threshold whose false alarms are no more than `falseAlarms`:
 * recall compared at equal false alarms. At their defaults the baselines alarm hundreds of
 * times a series-week, and an alarm that often lands inside an incident by chance.
 */
export function baselinesAtFalseAlarms(dataSet: SyntheticDataSet, falseAlarms: number): TunedBaseline[] {
  const sweep = (
    name: string,
    thresholds: readonly number[],
    detector: (threshold: number) => DetectorUnderTest,
  ): TunedBaseline => {
    let last: TunedBaseline | undefined;
    for (const threshold of thresholds) {
      last = { name, threshold, report: evaluateQuality(dataSet, detector(threshold)) };
      if (last.report.alarms.false <= falseAlarms) break;
    }
    if (last === undefined) throw new Error('no threshold to try');
    return last;
  };
  return [
    sweep('plain z-score', THRESHOLDS, plainZScoreDetector),
    sweep('seasonal naive', THRESHOLDS, seasonalNaiveDetector),
  ];
}

/** Each issue-13 mechanism switched off in turn, with the default detector for reference. */
export const ABLATIONS: readonly { name: string; mechanisms: DetectorMechanisms }[] = [
  { name: 'all changes (default)', mechanisms: DEFAULT_MECHANISMS },
  { name: 'level two-sided (as before)', mechanisms: { ...DEFAULT_MECHANISMS, level: 'two-sided' } },
  { name: 'level off', mechanisms: { ...DEFAULT_MECHANISMS, level: 'off' } },
  { name: 'exclusion not capped', mechanisms: { ...DEFAULT_MECHANISMS, capExclusion: false } },
  { name: 'no accumulation', mechanisms: { ...DEFAULT_MECHANISMS, accumulate: false } },
  { name: 'no same-minute guard', mechanisms: { ...DEFAULT_MECHANISMS, sameMinute: false } },
  {
    name: 'no same-minute guard, exclusion not capped',
    mechanisms: { ...DEFAULT_MECHANISMS, sameMinute: false, capExclusion: false },
  },
  {
    name: 'none of them (the old detector)',
    mechanisms: {
      level: 'two-sided',
      capExclusion: false,
      accumulate: false,
      sameMinute: false,
    },
  },
];

/*
 * Insights quality on labelled synthetic traffic: crumbtrail's detector beside a plain rolling
 * z-score on the same data (the baseline), with the targets. Part of `npm run
 * bench`, and runnable alone: `npx tsx collector/bench/insights-bench.ts`.
 *
 * BENCH_INSIGHT_SERIES (default 60) and BENCH_INSIGHT_DAYS (default 28) scale the data set.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { FalseAlarm, MissedIncident, QualityReport, RecallFigures } from './insights/quality.js';
import { compareDetectors, countBy, volumeBucket } from './insights/quality.js';
import type { IncidentKind } from './insights/synthetic-traffic.js';
import { HISTORY_DAYS, allBenignChanges, generateTraffic } from './insights/synthetic-traffic.js';
import type { ResultRow } from './statistics.js';
import { formatNumber, printTable } from './statistics.js';

export interface InsightsBenchOptions {
  seriesCount: number;
  days: number;
  seed: number;
}

export function insightsBenchOptions(env: NodeJS.ProcessEnv = process.env): InsightsBenchOptions {
  return {
    seriesCount: Number(env.BENCH_INSIGHT_SERIES ?? 60),
    days: Number(env.BENCH_INSIGHT_DAYS ?? 28),
    seed: 42,
  };
}

const KIND_NAMES: Record<IncidentKind, string> = { burst: 'bursts', errorJump: 'error jumps', ramp: 'ramps' };

const percent = (share: number): string => (Number.isNaN(share) ? '—' : `${formatNumber(share * 100, 1)}%`);
const recallText = (figures: RecallFigures): string =>
  `${percent(figures.recall)} (${figures.detected}/${figures.incidents})`;
/** Two significant digits below 1, so 0.004× does not print as 0.00×. */
function ratioText(value: number, baseline: number): string {
  const ratio = value / baseline;
  if (!Number.isFinite(ratio)) return '';
  if (ratio === 0) return '0×';
  const digits = ratio >= 10 ? 0 : ratio >= 1 ? 2 : Math.min(6, 1 - Math.floor(Math.log10(ratio)));
  return `${formatNumber(ratio, digits)}×`;
}
const met = (target: string, ok: boolean): string => `${target} ${ok ? '✔' : '✘'}`;

function row(measure: string, value: string, baseline: string, ratio = '', target = ''): ResultRow {
  return { section: 'insights', measure, value, baseline, ratio, target };
}

function recallRows(ours: QualityReport, plain: QualityReport): ResultRow[] {
  const rows = [
    row(
      'recall: material bursts ≥ 3× lasting ≥ 5 min',
      recallText(ours.targetRecall),
      recallText(plain.targetRecall),
      ratioText(ours.targetRecall.recall, plain.targetRecall.recall),
      met('≥ 95%', ours.targetRecall.recall >= 0.95),
    ),
    row(
      'recall: all material incidents',
      recallText(ours.recall),
      recallText(plain.recall),
      ratioText(ours.recall.recall, plain.recall.recall),
      met('≥ plain z-score', ours.recall.recall >= plain.recall.recall),
    ),
  ];
  for (const [kind, name] of Object.entries(KIND_NAMES) as [IncidentKind, string][]) {
    const [mine, theirs] = [ours.recallByKind[kind], plain.recallByKind[kind]];
    rows.push(
      row(
        `recall: material ${name}`,
        recallText(mine),
        recallText(theirs),
        ratioText(mine.recall, theirs.recall),
      ),
    );
  }
  return rows;
}

function alarmRows(ours: QualityReport, plain: QualityReport): ResultRow[] {
  const alarms = (report: QualityReport): string => {
    const { total, ignored, repeats } = report.alarms;
    return `${formatNumber(total)} (${formatNumber(ignored)} ignored, ${formatNumber(repeats)} repeats)`;
  };
  const precision = (report: QualityReport): string =>
    `${percent(report.precision)} (${formatNumber(report.alarms.true)} true / ${formatNumber(report.alarms.false)} false)`;
  const betterPrecision = ours.precision > plain.precision && ours.recall.recall >= plain.recall.recall;
  return [
    row(
      'alarms (immaterial incidents ignored)',
      alarms(ours),
      alarms(plain),
      ratioText(ours.alarms.total, plain.alarms.total),
    ),
    row(
      'precision',
      precision(ours),
      precision(plain),
      ratioText(ours.precision, plain.precision),
      met('> plain z-score at ≥ its recall', betterPrecision),
    ),
    row(
      'false alarms per series per month',
      formatNumber(ours.falseAlarmsPerSeriesMonth, 2),
      formatNumber(plain.falseAlarmsPerSeriesMonth, 2),
      ratioText(ours.falseAlarmsPerSeriesMonth, plain.falseAlarmsPerSeriesMonth),
      met('< 1', ours.falseAlarmsPerSeriesMonth < 1),
    ),
  ];
}

function delayRows(ours: QualityReport, plain: QualityReport): ResultRow[] {
  const delay = (figures: QualityReport['burstDelay']): string =>
    `${formatNumber(figures.median)} / ${formatNumber(figures.p95)} min (${figures.count})`;
  return [
    row(
      'detection delay, material bursts: median / p95',
      delay(ours.burstDelay),
      delay(plain.burstDelay),
      ratioText(ours.burstDelay.median, plain.burstDelay.median),
      met('median ≤ 2 min', ours.burstDelay.median <= 2),
    ),
    row(
      'detection delay, all material incidents: median / p95',
      delay(ours.incidentDelay),
      delay(plain.incidentDelay),
      ratioText(ours.incidentDelay.median, plain.incidentDelay.median),
    ),
    row(
      'µs per minute-evaluation',
      formatNumber(ours.microsPerEvaluation, 2),
      formatNumber(plain.microsPerEvaluation, 2),
      ratioText(ours.microsPerEvaluation, plain.microsPerEvaluation),
    ),
  ];
}

/** Side-by-side counts of misses or false alarms per category, for whoever tunes the detector. */
function breakdownRows<T>(
  label: string,
  ours: readonly T[],
  plain: readonly T[],
  category: (item: T) => string | undefined,
): ResultRow[] {
  const tagged = (items: readonly T[]): string[] =>
    items.map(category).filter((name): name is string => name !== undefined);
  const mine = countBy(tagged(ours), (name) => name);
  const theirs = countBy(tagged(plain), (name) => name);
  const names = [...new Set([...mine.keys(), ...theirs.keys()])].sort();
  return names.map((name) => ({
    section: 'insights detail',
    measure: `${label}: ${name}`,
    value: formatNumber(mine.get(name) ?? 0),
    baseline: formatNumber(theirs.get(name) ?? 0),
    ratio: '',
    target: '',
  }));
}

function missRows(ours: QualityReport, plain: QualityReport): ResultRow[] {
  const rows = (label: string, category: (miss: MissedIncident) => string | undefined): ResultRow[] =>
    breakdownRows(label, ours.missed, plain.missed, category);
  return [
    ...rows('missed', (miss) => KIND_NAMES[miss.kind]),
    ...rows('missed', (miss) => (miss.incidentCount < 10 ? 'count < 10/min during the incident' : undefined)),
    ...rows('missed', (miss) => (miss.weekend ? 'started on a weekend (UTC)' : undefined)),
    ...rows('missed', (miss) =>
      miss.kind === 'burst' && miss.magnitude < 2.5 ? 'bursts below 2.5×' : undefined,
    ),
  ];
}

function falseAlarmRows(ours: QualityReport, plain: QualityReport): ResultRow[] {
  const rows = (label: string, category: (alarm: FalseAlarm) => string): ResultRow[] =>
    breakdownRows(label, ours.falseAlarms, plain.falseAlarms, category);
  return [
    ...rows('false alarms', (alarm) => alarm.cause),
    ...rows('false alarms, base rate', (alarm) => volumeBucket(alarm.baseRate)),
    ...rows('false alarms', (alarm) => (alarm.type === 'ApiCallRateInsight' ? 'call rate' : 'error rate')),
  ];
}

export function insightQualityRows(
  options: InsightsBenchOptions = insightsBenchOptions(),
  log: (message: string) => void = () => undefined,
): ResultRow[] {
  const { seriesCount, days, seed } = options;
  log(`insights: generating ${seriesCount} series × ${days} days of synthetic traffic (seed ${seed})…`);
  const dataSet = generateTraffic({ seed, seriesCount, days });
  log('insights: running crumbtrail and the plain z-score over it…');
  const { crumbtrail, plainZScore } = compareDetectors(dataSet);
  const summary = row(
    `data set: ${seriesCount} series × ${days} days (seed ${seed}), counted from day ${HISTORY_DAYS}`,
    `${crumbtrail.materialIncidents} material incidents`,
    `${crumbtrail.immaterialIncidents} immaterial, ${allBenignChanges(dataSet).length} benign changes`,
  );
  return [
    summary,
    ...recallRows(crumbtrail, plainZScore),
    ...alarmRows(crumbtrail, plainZScore),
    ...delayRows(crumbtrail, plainZScore),
    ...missRows(crumbtrail, plainZScore),
    ...falseAlarmRows(crumbtrail, plainZScore),
  ];
}

const isMainModule =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMainModule) {
  const rows = insightQualityRows(insightsBenchOptions(), (message) =>
    process.stderr.write(`[bench] ${message}\n`),
  );
  console.log('');
  printTable(rows);
}

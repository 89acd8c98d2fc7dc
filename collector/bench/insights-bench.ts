/*
 * The Insights section of `npm run bench`: crumbtrail's detector and two baselines (a plain rolling
 * z-score and a seasonal-naive ratio) over the same labelled synthetic traffic (issue 13: negative
 * binomial counts, seasonality, holidays, cron jobs, level shifts, bursty and quiet APIs, drops),
 * per traffic class and overall; the detector with each of its mechanisms switched off in turn;
 * and what an evaluation costs on a series with hundreds of past insights. Part of `npm run
 * bench`, and runnable alone: `npx tsx collector/bench/insights-bench.ts`.
 *
 * BENCH_INSIGHT_SERIES (default 60) and BENCH_INSIGHT_DAYS (default 28) scale the data set.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { DEFAULT_DETECTOR_SETTINGS } from '../src/insights/insight-settings.js';
import { DEFAULT_MECHANISMS, SeriesDetector } from '../src/insights/series-detector.js';
import type { QualityComparison, QualityReport, RecallFigures } from './insights/quality.js';
import {
  ABLATIONS,
  baselinesAtFalseAlarms,
  bestBaselineRecall,
  compareDetectors,
  countBy,
  crumbtrailDetector,
  evaluateQuality,
} from './insights/quality.js';
import { Random } from './insights/random.js';
import type { SyntheticDataSet } from './insights/synthetic-traffic.js';
import {
  HISTORY_DAYS,
  MINUTES_PER_DAY,
  TRAFFIC_CLASSES,
  allBenignChanges,
  generateTraffic,
} from './insights/synthetic-traffic.js';
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

/** The targets, shared by the bench's ✔/✘ and the fast quality test. */
export const QUALITY_TARGETS = {
  falseAlarmsPerSeriesWeekPerClass: 0.5,
  falseAlarmsPerSeriesMonth: 1,
  burstDelayMinutes: 2,
  sustainedDelayMinutes: 10,
  microsPerEvaluation: 10,
} as const;

const percent = (share: number): string => (Number.isNaN(share) ? '—' : `${formatNumber(share * 100, 1)}%`);
const recallText = (figures: RecallFigures): string =>
  `${percent(figures.recall)} (${figures.detected}/${figures.incidents})`;
const met = (target: string, ok: boolean): string => `${target} ${ok ? '✔' : '✘'}`;
/** Recall can only be compared where there are incidents. */
const atLeast = (ours: number, best: number): boolean => Number.isNaN(ours) || ours >= best - 1e-9;

function row(section: string, measure: string, value: string, baseline: string, target = ''): ResultRow {
  return { section, measure, value, baseline, ratio: '', target };
}

function baselines(comparison: QualityComparison, text: (report: QualityReport) => string): string {
  return `${text(comparison.plainZScore)} / ${text(comparison.seasonalNaive)}`;
}

function classRows(comparison: QualityComparison): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const trafficClass of TRAFFIC_CLASSES) {
    const of = (report: QualityReport): QualityReport['byClass'][typeof trafficClass] =>
      report.byClass[trafficClass];
    const ours = of(comparison.crumbtrail);
    const best = bestBaselineRecall(comparison, trafficClass);
    rows.push(
      row(
        'insights',
        `${trafficClass} (${ours.series} series): recall, material incidents`,
        recallText(ours.recall),
        baselines(comparison, (report) => recallText(of(report).recall)),
        met('≥ best baseline', atLeast(ours.recall.recall, best)),
      ),
      row(
        'insights',
        `${trafficClass}: false alarms per series-week`,
        formatNumber(ours.falseAlarmsPerSeriesWeek, 2),
        baselines(comparison, (report) => formatNumber(of(report).falseAlarmsPerSeriesWeek, 2)),
        met(
          `≤ ${QUALITY_TARGETS.falseAlarmsPerSeriesWeekPerClass}`,
          ours.falseAlarmsPerSeriesWeek <= QUALITY_TARGETS.falseAlarmsPerSeriesWeekPerClass,
        ),
      ),
    );
  }
  return rows;
}

function overallRows(comparison: QualityComparison): ResultRow[] {
  const ours = comparison.crumbtrail;
  const delay = (figures: QualityReport['burstDelay']): string =>
    `${formatNumber(figures.median)} / ${formatNumber(figures.p95)} min (${figures.count})`;
  const best = bestBaselineRecall(comparison);
  const worstClass = Math.max(
    ...TRAFFIC_CLASSES.map((trafficClass) => ours.byClass[trafficClass].falseAlarmsPerSeriesWeek),
  );
  return [
    row(
      'insights',
      'overall: recall, material incidents (drops aside)',
      recallText(ours.recall),
      baselines(comparison, (report) => recallText(report.recall)),
      met('≥ best baseline', atLeast(ours.recall.recall, best)),
    ),
    row(
      'insights',
      'overall: recall, material bursts ≥ 3× lasting ≥ 5 min',
      recallText(ours.targetRecall),
      baselines(comparison, (report) => recallText(report.targetRecall)),
    ),
    row(
      'insights',
      'overall: recall by kind (bursts, error jumps, ramps, sustained)',
      (['burst', 'errorJump', 'ramp', 'sustained'] as const)
        .map((kind) => `${ours.recallByKind[kind].detected}/${ours.recallByKind[kind].incidents}`)
        .join(', '),
      baselines(comparison, (report) =>
        (['burst', 'errorJump', 'ramp', 'sustained'] as const)
          .map((kind) => `${report.recallByKind[kind].detected}`)
          .join(', '),
      ),
    ),
    row(
      'insights',
      'overall: false alarms per series-month',
      formatNumber(ours.falseAlarmsPerSeriesMonth, 2),
      baselines(comparison, (report) => formatNumber(report.falseAlarmsPerSeriesMonth, 1)),
      met(`< ${QUALITY_TARGETS.falseAlarmsPerSeriesMonth}`, ours.falseAlarmsPerSeriesMonth < 1),
    ),
    row(
      'insights',
      'overall: worst class, false alarms per series-week',
      formatNumber(worstClass, 2),
      '',
      met(`≤ ${QUALITY_TARGETS.falseAlarmsPerSeriesWeekPerClass}`, worstClass <= 0.5),
    ),
    row(
      'insights',
      'overall: precision (true / false alarms)',
      `${percent(ours.precision)} (${ours.alarms.true} / ${ours.alarms.false})`,
      baselines(comparison, (report) => percent(report.precision)),
    ),
    row(
      'insights',
      'delay, material bursts ≥ 3×: median / p95',
      delay(ours.burstDelay),
      baselines(comparison, (report) => formatNumber(report.burstDelay.median)),
      met(
        `median ≤ ${QUALITY_TARGETS.burstDelayMinutes} min`,
        ours.burstDelay.median <= QUALITY_TARGETS.burstDelayMinutes,
      ),
    ),
    row(
      'insights',
      'delay, sustained rises on quiet APIs: median / p95',
      delay(ours.sustainedDelay),
      baselines(comparison, (report) => formatNumber(report.sustainedDelay.median)),
      met(
        `median ≤ ${QUALITY_TARGETS.sustainedDelayMinutes} min`,
        ours.sustainedDelay.median <= QUALITY_TARGETS.sustainedDelayMinutes,
      ),
    ),
    row(
      'insights',
      'µs per minute-evaluation (one API, one insight type)',
      formatNumber(ours.microsPerEvaluation, 2),
      baselines(comparison, (report) => formatNumber(report.microsPerEvaluation, 2)),
    ),
  ];
}

/** Recall at equal false alarms: each baseline at the lowest threshold that alarms no more falsely. */
function equalFalseAlarmRows(dataSet: SyntheticDataSet, comparison: QualityComparison): ResultRow[] {
  const ours = comparison.crumbtrail;
  const tuned = baselinesAtFalseAlarms(dataSet, ours.alarms.false);
  const best = Math.max(...tuned.map(({ report }) => report.recall.recall));
  return [
    row(
      'insights',
      `recall at equal false alarms (baselines at ≤ ${ours.alarms.false} false alarms)`,
      recallText(ours.recall),
      tuned
        .map(
          ({ threshold, report }) =>
            `${recallText(report.recall)} at ${threshold} (${report.alarms.false} false)`,
        )
        .join(' / '),
      met('≥ best baseline', ours.recall.recall >= best),
    ),
  ];
}

/** The detector with drop detection on: drops are in its recall, its false alarms are its own. */
function dropRows(dataSet: SyntheticDataSet): ResultRow[] {
  const report = evaluateQuality(
    dataSet,
    crumbtrailDetector({ ...DEFAULT_DETECTOR_SETTINGS, detectDrops: true }, DEFAULT_MECHANISMS, 'drops'),
  );
  const drops = report.recallByKind.drop;
  return [
    row('insights drops', 'with detectDrops: recall, material drops', recallText(drops), ''),
    row(
      'insights drops',
      'with detectDrops: false alarms per series-week (all kinds)',
      formatNumber(report.falseAlarmsPerSeriesWeek, 2),
      '',
    ),
    row('insights drops', 'with detectDrops: recall, all material incidents', recallText(report.recall), ''),
  ];
}

function ablationRows(dataSet: SyntheticDataSet, log: (message: string) => void): ResultRow[] {
  return ABLATIONS.map(({ name, mechanisms }) => {
    log(`insights: ablation "${name}"…`);
    const report = evaluateQuality(dataSet, crumbtrailDetector(DEFAULT_DETECTOR_SETTINGS, mechanisms, name));
    const worst = Math.max(
      ...TRAFFIC_CLASSES.map((trafficClass) => report.byClass[trafficClass].falseAlarmsPerSeriesWeek),
    );
    return row(
      'insights ablation',
      name,
      `recall ${recallText(report.recall)}; false alarms ${report.alarms.false} (${formatNumber(report.falseAlarmsPerSeriesMonth, 2)}/series-month, worst class ${formatNumber(worst, 2)}/series-week)`,
      `sustained delay ${formatNumber(report.sustainedDelay.median)} min, bursts ${formatNumber(report.burstDelay.median)} min`,
    );
  });
}

/**
 * µs per evaluation on the last day of a series that has had a 5-minute burst every half hour for
 * a week (hundreds of insights in its baseline window), against the same last day of a series whose
 * bursts began that day: the same minutes to judge, with and without the history.
 */
const COST_RUNS = 5;

export function historyCost(days = 14): { withHistory: number; without: number; insights: number } {
  const minutes = days * MINUTES_PER_DAY;
  const lastDay = minutes - MINUTES_PER_DAY;
  const random = new Random(7);
  const flat = Int32Array.from({ length: minutes }, () => random.poisson(10));
  const burstsFrom = (from: number): Int32Array =>
    flat.map((calls, minute) => (minute >= from && minute % 30 < 5 ? calls * 10 : calls));
  const measure = (calls: Int32Array): { micros: number; insights: number } => {
    const detector = new SeriesDetector('ApiCallRateInsight', DEFAULT_DETECTOR_SETTINGS);
    const counts = { calls: (m: number) => calls[m] ?? 0, errors: () => 0 };
    let insights = 0;
    let elapsed = 0;
    for (let minute = 0; minute < minutes; minute++) {
      const started = performance.now();
      const { transition } = detector.evaluate(minute, 0, counts);
      if (minute >= lastDay) elapsed += performance.now() - started;
      if (transition?.state === 'Start') insights++;
    }
    return { micros: (elapsed * 1000) / MINUTES_PER_DAY, insights };
  };
  // Alternated and repeated, the fastest run of each: the machine is shared and a day is short.
  const history = burstsFrom(HISTORY_DAYS * MINUTES_PER_DAY);
  const fresh = burstsFrom(lastDay);
  let withHistory = Number.POSITIVE_INFINITY;
  let without = Number.POSITIVE_INFINITY;
  let insights = 0;
  for (let run = 0; run < COST_RUNS; run++) {
    const measured = measure(history);
    insights = measured.insights;
    withHistory = Math.min(withHistory, measured.micros);
    without = Math.min(without, measure(fresh).micros);
  }
  return { withHistory, without, insights };
}

function costRows(): ResultRow[] {
  const cost = historyCost();
  return [
    {
      section: 'insights cost',
      measure: `µs per evaluation, last day, after ${cost.insights} insights (vs none before it)`,
      value: formatNumber(cost.withHistory, 2),
      baseline: formatNumber(cost.without, 2),
      ratio: `${formatNumber(cost.withHistory / cost.without, 2)}×`,
      target: met(`≤ ${QUALITY_TARGETS.microsPerEvaluation} µs`, cost.withHistory <= 10),
    },
  ];
}

function falseAlarmRows(comparison: QualityComparison): ResultRow[] {
  const causes = countBy(
    comparison.crumbtrail.falseAlarms,
    (alarm) =>
      `${alarm.trafficClass}, ${alarm.type === 'ApiCallRateInsight' ? 'call rate' : 'error rate'}, ${alarm.cause}`,
  );
  return [...causes.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([cause, count]) => row('insights detail', `false alarms: ${cause}`, formatNumber(count), ''));
}

function missRows(comparison: QualityComparison): ResultRow[] {
  const misses = countBy(comparison.crumbtrail.missed, (miss) => {
    const small = miss.kind === 'burst' && miss.magnitude < 2.5 ? ' below 2.5×' : '';
    return `${miss.trafficClass}, ${miss.kind}${small}`;
  });
  return [...misses.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([what, count]) => row('insights detail', `missed: ${what}`, formatNumber(count), ''));
}

export function insightQualityRows(
  options: InsightsBenchOptions = insightsBenchOptions(),
  log: (message: string) => void = () => undefined,
): ResultRow[] {
  const { seriesCount, days, seed } = options;
  log(`insights: generating ${seriesCount} series × ${days} days of synthetic traffic (seed ${seed})…`);
  const dataSet = generateTraffic({ seed, seriesCount, days });
  log('insights: running crumbtrail, the plain z-score and the seasonal-naive ratio over it…');
  const comparison = compareDetectors(dataSet);
  const summary = row(
    'insights',
    `data set: ${seriesCount} series × ${days} days (seed ${seed}), counted from day ${HISTORY_DAYS}`,
    `${comparison.crumbtrail.materialIncidents} material incidents (drops aside)`,
    `${comparison.crumbtrail.immaterialIncidents} immaterial, ${allBenignChanges(dataSet).length} benign changes; baselines: plain z-score / seasonal naive`,
  );
  log('insights: baselines at crumbtrail’s false alarms…');
  const equal = equalFalseAlarmRows(dataSet, comparison);
  log('insights: drop detection…');
  const drops = dropRows(dataSet);
  const ablation = ablationRows(dataSet, log);
  log('insights: cost with hundreds of past insights…');
  return [
    summary,
    ...classRows(comparison),
    ...overallRows(comparison),
    ...equal,
    ...drops,
    ...ablation,
    ...costRows(),
    ...missRows(comparison),
    ...falseAlarmRows(comparison),
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

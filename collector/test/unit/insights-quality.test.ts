import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { QUALITY_TARGETS } from '../../bench/insights-bench.js';
import type { QualityComparison } from '../../bench/insights/quality.js';
import { baselinesAtFalseAlarms, compareDetectors } from '../../bench/insights/quality.js';
import type { SyntheticDataSet } from '../../bench/insights/synthetic-traffic.js';
import {
  MATERIAL_EXCESS_PER_MINUTE,
  MATERIAL_SUSTAINED_EXCESS,
  MINUTES_PER_DAY,
  Random,
  SUSTAINED_MINUTES,
  TRAFFIC_CLASSES,
  allIncidents,
  expectedRate,
  generateTraffic,
} from '../../bench/insights/synthetic-traffic.js';

/** The bench runs 60 series × 28 days; these smaller sets keep the test to seconds. */
const SMALL = { seed: 42, seriesCount: 20, days: 12 } as const;
/**
 * Three weeks, so that the holiday and the busy day are a part of the counted time, as in the
 * bench, not half of it; every class has at least five series.
 */
const QUALITY_SET = { seed: 42, seriesCount: 30, days: 21 } as const;
const SIX_HOURS = 6 * 60;
const BURSTY_SPACING = 90;

describe('synthetic traffic', () => {
  let dataSet: SyntheticDataSet;
  before(() => {
    dataSet = generateTraffic(SMALL);
  });

  test('the same seed gives the same data set, another seed a different one', () => {
    const again = generateTraffic(SMALL);
    assert.deepEqual(again, dataSet);
    const other = generateTraffic({ ...SMALL, seed: 43 });
    assert.notDeepEqual(other.series[0]!.calls, dataSet.series[0]!.calls);
  });

  test('Poisson draws have mean and variance λ, from tiny rates to large ones', () => {
    const random = new Random(7);
    const draws = 20_000;
    for (const lambda of [0.2, 3.5, 9.9, 10, 42, 800, 25_000]) {
      let total = 0;
      let squares = 0;
      for (let i = 0; i < draws; i++) {
        const value = random.poisson(lambda);
        total += value;
        squares += value * value;
      }
      const mean = total / draws;
      const variance = squares / draws - mean * mean;
      assert.ok(Math.abs(mean - lambda) < 5 * Math.sqrt(lambda / draws), `mean ${mean} for λ = ${lambda}`);
      assert.ok(Math.abs(variance / lambda - 1) < 0.1, `variance ${variance} for λ = ${lambda}`);
    }
  });

  test('negative-binomial draws have mean μ and variance μ + μ²/k', () => {
    const random = new Random(13);
    const draws = 40_000;
    for (const [mean, size] of [
      [0.5, 10],
      [8, 3],
      [200, 20],
    ] as const) {
      let total = 0;
      let squares = 0;
      for (let i = 0; i < draws; i++) {
        const value = random.negativeBinomial(mean, size);
        total += value;
        squares += value * value;
      }
      const average = total / draws;
      const variance = squares / draws - average * average;
      const expectedVariance = mean + (mean * mean) / size;
      assert.ok(Math.abs(average - mean) < 5 * Math.sqrt(expectedVariance / draws), `mean ${average}`);
      assert.ok(Math.abs(variance / expectedVariance - 1) < 0.1, `variance ${variance} for μ ${mean}`);
    }
  });

  test('binomial draws have mean n·p in every regime (trials, inversion, normal)', () => {
    const random = new Random(11);
    const draws = 20_000;
    for (const [n, p] of [
      [12, 0.3],
      [500, 0.01],
      [2_000, 0.2],
      [300, 0.9],
    ] as const) {
      let total = 0;
      for (let i = 0; i < draws; i++) total += random.binomial(n, p);
      const standardError = Math.sqrt((n * p * (1 - p)) / draws);
      assert.ok(Math.abs(total / draws - n * p) < 5 * standardError, `n = ${n}, p = ${p}`);
    }
  });

  test('calls follow the expected rate outside incidents, and vary more than Poisson', () => {
    let overdispersed = 0;
    for (const series of dataSet.series) {
      let observed = 0;
      let expected = 0;
      let squares = 0;
      for (let minute = dataSet.startMinute; minute < dataSet.endMinute; minute++) {
        const inIncident = series.incidents.some((i) => minute >= i.startMinute && minute < i.endMinute);
        if (inIncident) continue;
        const rate = expectedRate(series.profile, minute);
        const calls = series.calls[minute - dataSet.startMinute]!;
        observed += calls;
        expected += rate;
        squares += (calls - rate) ** 2;
      }
      // The slow drift (≤ 15%, mean one) moves a short series' total by up to ~15%.
      assert.ok(
        Math.abs(observed - expected) < 0.25 * expected + 5 * Math.sqrt(expected) + 1,
        `series ${series.index}`,
      );
      if (squares > 1.5 * expected) overdispersed++;
    }
    assert.ok(overdispersed >= dataSet.series.length / 2, `${overdispersed} series overdispersed`);
  });

  test('every traffic class is present, with its own kind of traffic', () => {
    const classes = new Set(dataSet.series.map((series) => series.profile.trafficClass));
    assert.deepEqual([...classes].sort(), [...TRAFFIC_CLASSES].sort());
    for (const series of dataSet.series) {
      const { profile } = series;
      if (profile.trafficClass === 'cron') assert.ok(profile.cronMinutes.length > 0);
      if (profile.trafficClass === 'shifting') assert.ok(profile.levelShifts.length > 0);
      if (profile.trafficClass === 'quiet') assert.ok(profile.baseRate >= 0.1 && profile.baseRate <= 2);
      assert.ok(series.benign.some((change) => change.kind === 'holiday'));
    }
    const kinds = new Set(allIncidents(dataSet).map((incident) => incident.kind));
    for (const kind of ['burst', 'sustained', 'drop'] as const) assert.ok(kinds.has(kind), kind);
  });

  test('a new API has no calls before it appears', () => {
    const newApis = dataSet.series.filter((series) => series.profile.appearanceMinute !== undefined);
    assert.ok(newApis.length > 0);
    for (const series of newApis) {
      const before = series.calls.subarray(0, series.firstMinute - dataSet.startMinute);
      assert.equal(
        before.reduce((sum, calls) => sum + calls, 0),
        0,
      );
    }
  });

  test('incidents fall after the history, never overlap, and keep apart from each other and from point changes', () => {
    const incidents = allIncidents(dataSet);
    assert.ok(incidents.length >= dataSet.series.length, `${incidents.length} incidents`);
    for (const series of dataSet.series) {
      // Bursty series have many true spikes, 90 minutes apart; every other class keeps 6 hours.
      const spacing = series.profile.trafficClass === 'bursty' ? BURSTY_SPACING : SIX_HOURS;
      const sorted = [...series.incidents].sort((a, b) => a.startMinute - b.startMinute);
      sorted.forEach((incident, i) => {
        assert.ok(incident.startMinute >= dataSet.startMinute + 8 * MINUTES_PER_DAY);
        assert.ok(incident.endMinute <= dataSet.endMinute - MINUTES_PER_DAY);
        assert.ok(incident.startMinute >= series.firstMinute + SIX_HOURS);
        const next = sorted[i + 1];
        if (next !== undefined) assert.ok(next.startMinute >= incident.endMinute + spacing);
        for (const change of series.benign) {
          if (change.kind === 'holiday' || change.kind === 'busyDay') {
            // Whole days: incidents keep off them.
            const clear =
              incident.endMinute <= change.minute || incident.startMinute >= change.minute + MINUTES_PER_DAY;
            assert.ok(clear, `series ${series.index}: a ${incident.kind} on a ${change.kind}`);
            continue;
          }
          const clear =
            change.minute <= incident.startMinute - spacing || change.minute >= incident.endMinute + spacing;
          assert.ok(clear, `series ${series.index}: ${change.kind} too close to a ${incident.kind}`);
        }
      });
    }
  });

  test('an incident is material when its expected excess reaches 5 a minute (3.5 for a lasting rise)', () => {
    for (const incident of allIncidents(dataSet)) {
      const lasting =
        incident.kind === 'sustained' && incident.endMinute - incident.startMinute >= SUSTAINED_MINUTES;
      const floor = lasting ? MATERIAL_SUSTAINED_EXCESS : MATERIAL_EXCESS_PER_MINUTE;
      if (incident.kind === 'sustained' && !lasting) assert.equal(incident.material, false);
      else assert.equal(incident.material, incident.excessPerMinute >= floor);
    }
  });
});

/*
 * Issue 13's targets on a smaller data set than the benchmark's (timings only in `npm run bench`):
 * false alarms per class and overall, delays, and recall against both baselines. Measured when
 * written: 5 false alarms (0.36 per series-month; at most 0.17 per series-week in a class), recall
 * 157/173, median delays 2 min (bursts ≥ 3×) and 3 min (sustained rises on quiet APIs). Recall is
 * compared at equal false alarms: at their defaults the baselines alarm ~200 times a series-week
 * and find 142 (plain z-score) and 168 (seasonal naive) partly by chance; held to crumbtrail's 5
 * false alarms they find 3 and 48. (The bench prints both comparisons.)
 */
describe('insights quality on a small synthetic data set', () => {
  let comparison: QualityComparison;
  let dataSet: SyntheticDataSet;
  before(() => {
    dataSet = generateTraffic(QUALITY_SET);
    comparison = compareDetectors(dataSet);
  });

  test('at most 0.5 false alarms per series-week in every traffic class', () => {
    for (const trafficClass of TRAFFIC_CLASSES) {
      const figures = comparison.crumbtrail.byClass[trafficClass];
      assert.ok(figures.series > 0, trafficClass);
      assert.ok(
        figures.falseAlarmsPerSeriesWeek <= QUALITY_TARGETS.falseAlarmsPerSeriesWeekPerClass,
        `${trafficClass}: ${figures.falseAlarms} false alarms in ${figures.seriesWeeks.toFixed(1)} series-weeks`,
      );
    }
  });

  test('fewer than 1 false alarm per series-month overall', () => {
    const { crumbtrail } = comparison;
    assert.ok(
      crumbtrail.falseAlarmsPerSeriesMonth < QUALITY_TARGETS.falseAlarmsPerSeriesMonth,
      `${crumbtrail.alarms.false} false alarms: ${JSON.stringify(crumbtrail.falseAlarms.slice(0, 3))}`,
    );
  });

  test('median delay ≤ 2 min on bursts ≥ 3×, ≤ 10 min on sustained rises on quiet APIs', () => {
    const { burstDelay, sustainedDelay } = comparison.crumbtrail;
    assert.ok(burstDelay.count > 0 && sustainedDelay.count > 0);
    assert.ok(burstDelay.median <= QUALITY_TARGETS.burstDelayMinutes, `${burstDelay.median} min`);
    assert.ok(sustainedDelay.median <= QUALITY_TARGETS.sustainedDelayMinutes, `${sustainedDelay.median} min`);
  });

  test('finds every material sustained rise on a quiet API, and more than the plain z-score overall', () => {
    const { crumbtrail, plainZScore } = comparison;
    const sustained = crumbtrail.recallByKind.sustained;
    assert.equal(sustained.detected, sustained.incidents);
    assert.ok(crumbtrail.recall.recall > plainZScore.recall.recall);
    assert.ok(crumbtrail.precision > 10 * plainZScore.precision);
  });

  test('recall on material incidents at least the best baseline’s at equal false alarms', () => {
    const { crumbtrail } = comparison;
    for (const tuned of baselinesAtFalseAlarms(dataSet, crumbtrail.alarms.false)) {
      assert.ok(
        crumbtrail.recall.recall >= tuned.report.recall.recall,
        `${tuned.name} at ${tuned.threshold}: ${tuned.report.recall.detected} against ${crumbtrail.recall.detected}`,
      );
    }
  });
});

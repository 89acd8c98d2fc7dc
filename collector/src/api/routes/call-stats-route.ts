/*
 * GET /api/v1/stats/calls — call counts per time bucket, for time-series panels: zero-filled
 * buckets of `step` seconds over [startTime, endTime], optionally one series per value of a
 * lookup field (`groupBy`), filtered like /events.
 */
import type { FastifyInstance } from 'fastify';
import type { CallCount, EventStore } from '../../store/event-store.js';
import { LOOKUP_FIELDS, isLookupField } from '../../store/event-store.js';
import { badParameter } from '../api-error.js';
import type { RawQuery } from '../query-params.js';
import {
  FILTER_PARAMETERS,
  parseFilter,
  parseInteger,
  rejectUnknownParameters,
  singleValue,
} from '../query-params.js';

/** Prometheus' limit on points per series: more is never drawn usefully. */
const MAX_BUCKETS = 11_000;
/** Points in one answer (series × buckets): ~20 MB of JSON, built in well under a second. */
const MAX_POINTS = 1_000_000;
const DEFAULT_RANGE_MS = 60 * 60 * 1000;
const DEFAULT_MAX_SERIES = 20;

interface Series {
  group?: string;
  points: [number, number][];
}

function buildSeries(counts: CallCount[], firstBucket: number, buckets: number, stepMs: number): Series[] {
  const byGroup = new Map<string | undefined, number[]>();
  for (const count of counts) {
    let values = byGroup.get(count.group);
    if (values === undefined) {
      values = new Array<number>(buckets).fill(0);
      byGroup.set(count.group, values);
    }
    const index = Math.round((count.bucketMs - firstBucket) / stepMs);
    if (index >= 0 && index < buckets) values[index] = (values[index] ?? 0) + count.count;
  }
  return [...byGroup.entries()].map(([group, values]) => {
    const series: Series = { points: values.map((value, i) => [firstBucket + i * stepMs, value]) };
    if (group !== undefined) series.group = group;
    return series;
  });
}

function total(series: Series): number {
  return series.points.reduce((sum, [, value]) => sum + value, 0);
}

export function registerCallStatsRoute(app: FastifyInstance, store: EventStore): void {
  app.get('/api/v1/stats/calls', async (request) => {
    const query = request.query as RawQuery;
    rejectUnknownParameters(query, [...FILTER_PARAMETERS, 'step', 'groupBy', 'maxSeries']);
    const filter = parseFilter(query);
    const endTimeMs = filter.endTimeMs ?? Date.now();
    const startTimeMs = filter.startTimeMs ?? endTimeMs - DEFAULT_RANGE_MS;
    if (startTimeMs > endTimeMs) throw badParameter('startTime', 'must not be after endTime');
    const stepSeconds = parseInteger('step', singleValue(query, 'step'), 1, 31 * 24 * 3600) ?? 60;
    const stepMs = stepSeconds * 1000;
    const firstBucket = Math.floor(startTimeMs / stepMs) * stepMs;
    const buckets = Math.floor(endTimeMs / stepMs) - firstBucket / stepMs + 1;
    if (buckets > MAX_BUCKETS) {
      throw badParameter(
        'step',
        `the range would have ${buckets} buckets; at most ${MAX_BUCKETS}: use a larger step`,
      );
    }
    const groupByName = singleValue(query, 'groupBy');
    if (groupByName !== undefined && !isLookupField(groupByName)) {
      throw badParameter('groupBy', `expected one of ${LOOKUP_FIELDS.join(', ')}`);
    }
    const maxSeries =
      parseInteger('maxSeries', singleValue(query, 'maxSeries'), 1, 1000) ?? DEFAULT_MAX_SERIES;
    // The work is bounded before it is done: every series is zero-filled to every bucket.
    const series = groupByName === undefined ? 1 : maxSeries;
    if (series * buckets > MAX_POINTS) {
      throw badParameter(
        'step',
        `${series} series × ${buckets} buckets is more than ${MAX_POINTS} points: use a larger step, a shorter range or a smaller maxSeries`,
      );
    }
    const counts = await store.callCounts(
      { ...filter, startTimeMs, endTimeMs },
      stepMs,
      groupByName === undefined ? undefined : { groupBy: groupByName, maxGroups: maxSeries },
    );
    // Busiest groups first (the store counted only the maxSeries busiest).
    const built = buildSeries(counts, firstBucket, buckets, stepMs).sort((a, b) => total(b) - total(a));
    return {
      startTime: startTimeMs,
      endTime: endTimeMs,
      step: stepSeconds,
      groupBy: groupByName ?? null,
      series: built,
    };
  });
}

/*
 * GET /api/v1/stats/calls → one time-series frame per group, labelled with the grouping field so
 * legends read "eventName=CreateUser".
 */
import { createDataFrame, type DataFrame, DataFrameType, FieldType } from '@grafana/data';
import type { LookupField } from '../types';

export interface CallRateResponse {
  step: number;
  groupBy: string | null;
  series: Array<{ group?: string; points: Array<[number, number]> }>;
}

/** Collector limit on buckets per series. */
export const MAX_BUCKETS = 11_000;
/** Collector limit on points (series × buckets) in one answer. */
export const MAX_POINTS = 1_000_000;

/**
 * Seconds per bucket: the panel's interval, rounded to whole seconds, widened so the range fits
 * the collector's bucket limit, and its points limit for that many series.
 */
export function stepSeconds(intervalMs: number, rangeMs: number, series = 1): number {
  const buckets = Math.min(MAX_BUCKETS, Math.floor(MAX_POINTS / Math.max(1, series)));
  const fromInterval = Math.max(1, Math.round(intervalMs / 1000));
  const fromLimit = Math.ceil(rangeMs / 1000 / (buckets - 2));
  return Math.max(fromInterval, fromLimit);
}

export function callRateFrames(refId: string, response: CallRateResponse, groupBy?: LookupField): DataFrame[] {
  return response.series.map((series) => {
    const labels = groupBy === undefined || series.group === undefined ? undefined : { [groupBy]: series.group };
    return createDataFrame({
      refId,
      name: series.group ?? 'calls',
      meta: { type: DataFrameType.TimeSeriesMulti },
      fields: [
        { name: 'time', type: FieldType.time, values: series.points.map(([time]) => time) },
        {
          name: 'calls',
          type: FieldType.number,
          values: series.points.map(([, count]) => count),
          labels,
          config: {
            displayNameFromDS: series.group ?? 'calls',
            unit: 'short',
            interval: response.step * 1000,
          },
        },
      ],
    });
  });
}

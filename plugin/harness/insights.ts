/*
 * The time range's insights, asked of the real datasource (its `insights` query), read as Grafana
 * reads an annotation frame: time → timeEnd regions with a title and a text. The page asks once and
 * both the chart (regions) and the list (texts) show the answer.
 */
import type { DataFrame } from '@grafana/data';
import { toDataQueryError } from '@grafana/runtime';
import { useEffect, useState } from 'react';
import { QueryType } from '../src/types';
import { datasource, request } from './harness-datasource';

export interface InsightRegion {
  startMs: number;
  endMs: number;
  title: string;
  text: string;
}

export type InsightsState =
  { state: 'loading' } | { state: 'done'; regions: InsightRegion[] } | { state: 'error'; message: string };

function values(frame: DataFrame, name: string): unknown[] {
  const field = frame.fields.find((candidate) => candidate.name === name);
  if (field === undefined) {
    throw new Error(`the insights frame has no ${name} field`);
  }
  return [...field.values];
}

/** The annotation fields of the insights frame, one region per row. */
export function insightRegions(frame: DataFrame): InsightRegion[] {
  const [starts, ends, titles, texts] = ['time', 'timeEnd', 'title', 'text'].map((name) => values(frame, name));
  return starts.map((start, row) => ({
    startMs: Number(start),
    endMs: Number(ends[row]),
    title: String(titles[row]),
    text: String(texts[row]),
  }));
}

export function useInsights(): InsightsState {
  const [insights, setInsights] = useState<InsightsState>({ state: 'loading' });
  useEffect(() => {
    datasource.query(request([{ refId: 'I', queryType: QueryType.Insights }], [])).then(
      (response) => {
        try {
          setInsights({ state: 'done', regions: insightRegions(response.data[0] as DataFrame) });
        } catch (failure) {
          setInsights({ state: 'error', message: String(failure) });
        }
      },
      (failure: unknown) =>
        setInsights({ state: 'error', message: toDataQueryError(failure).message ?? 'insights query failed' })
    );
  }, []);
  return insights;
}

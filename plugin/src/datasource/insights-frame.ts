/*
 * GET /api/v1/insights → one frame per query: a table of insights that is also an annotation
 * source (time → timeEnd regions with title, text and tags).
 */
import { createDataFrame, type DataFrame, FieldType } from '@grafana/data';
import type { InsightSummary } from '../shared/cloudtrail-record';

function formatAverage(insightType: string, value: number | null): string {
  if (value === null) {
    return 'n/a';
  }
  return insightType === 'ApiErrorRateInsight'
    ? `${(value * 100).toFixed(1)}% errors`
    : `${value.toFixed(1)} calls/min`;
}

function insightTitle(insight: InsightSummary): string {
  const kind = insight.insightType === 'ApiErrorRateInsight' ? 'Unusual error rate' : 'Unusual call rate';
  return `${kind}: ${insight.eventName}`;
}

function insightText(insight: InsightSummary): string {
  const averages = `baseline ${formatAverage(insight.insightType, insight.baselineAverage)}, observed ${formatAverage(
    insight.insightType,
    insight.insightAverage
  )}`;
  return `${insight.summary ?? insightTitle(insight)} (${averages}; ${insight.eventSource}, ${insight.state})`;
}

export function insightsFrame(refId: string, insights: InsightSummary[], nowMs: number): DataFrame {
  return createDataFrame({
    refId,
    name: 'insights',
    fields: [
      {
        name: 'time',
        type: FieldType.time,
        values: insights.map((insight) => Date.parse(insight.startTime)),
        config: { displayName: 'Start' },
      },
      {
        name: 'timeEnd',
        type: FieldType.time,
        // An active insight's region reaches "now".
        values: insights.map((insight) => (insight.endTime === null ? nowMs : Date.parse(insight.endTime))),
        config: { displayName: 'End' },
      },
      { name: 'title', type: FieldType.string, values: insights.map(insightTitle) },
      { name: 'text', type: FieldType.string, values: insights.map(insightText) },
      {
        name: 'tags',
        type: FieldType.other,
        values: insights.map((insight) => [insight.eventName, insight.insightType, insight.eventSource]),
      },
      { name: 'eventSource', type: FieldType.string, values: insights.map((insight) => insight.eventSource) },
      { name: 'eventName', type: FieldType.string, values: insights.map((insight) => insight.eventName) },
      { name: 'insightType', type: FieldType.string, values: insights.map((insight) => insight.insightType) },
      { name: 'state', type: FieldType.string, values: insights.map((insight) => insight.state) },
      {
        name: 'baselineAverage',
        type: FieldType.number,
        values: insights.map((insight) => insight.baselineAverage),
        config: { displayName: 'Baseline average', decimals: 2 },
      },
      {
        name: 'insightAverage',
        type: FieldType.number,
        values: insights.map((insight) => insight.insightAverage),
        config: { displayName: 'Insight average', decimals: 2 },
      },
      { name: 'sharedEventID', type: FieldType.string, values: insights.map((insight) => insight.sharedEventID) },
    ],
  });
}

/*
 * CloudTrail's insight attributions: for the caller (ARN, else name), the user agent and the error
 * code, the top values by average calls per minute during the insight and in the baseline, so
 * the first question ("who is doing this?") is answered in the insight itself.
 */
import type { InsightAttribution } from '../events/cloudtrail-record.js';
import type { AttributionCounts, EventStore } from '../store/event-store.js';
import { ATTRIBUTION_ATTRIBUTES } from '../store/event-store.js';
import type { InsightSubject } from './insight-event.js';
import { MINUTE_MS } from './insight-settings.js';

/** As CloudTrail: five values per attribute. */
const TOP_VALUES = 5;
/**
 * A busy API has millions of calls in a week; the newest 50,000 before the insight describe its
 * usual callers well enough, and bound the cost of an insight to one indexed range read.
 */
const MAX_BASELINE_EVENTS = 50_000;
const MAX_INSIGHT_EVENTS = 200_000;

export interface AttributionWindow {
  /** Minutes since the epoch: the insight's [start, end) and the baseline before it. */
  startMinute: number;
  endMinute: number;
  baselineMinutes: number;
}

function averages(counts: AttributionCounts, minutes: number): InsightAttribution['insight'][] {
  return ATTRIBUTION_ATTRIBUTES.map((attribute) =>
    counts.top[attribute].map(({ value, count }) => ({
      value,
      average: Number((count / Math.max(minutes, 1)).toPrecision(4)),
    })),
  );
}

/** A capped sample covers only the time from its oldest call: averages are over that, not the window. */
function coveredMinutes(
  counts: AttributionCounts,
  endMs: number,
  fullMinutes: number,
  maxEvents: number,
): number {
  return counts.events >= maxEvents && counts.oldestMs !== undefined
    ? (endMs - counts.oldestMs) / MINUTE_MS
    : fullMinutes;
}

export async function attributionsFor(
  store: EventStore,
  subject: InsightSubject,
  window: AttributionWindow,
  countsReadCalls: boolean,
): Promise<InsightAttribution[]> {
  const startMs = window.startMinute * MINUTE_MS;
  const common = {
    eventSource: subject.eventSource,
    eventName: subject.eventName,
    writeCallsOnly: subject.type === 'ApiCallRateInsight' && !countsReadCalls,
    errorsOnly: subject.type === 'ApiErrorRateInsight',
    top: TOP_VALUES,
  };
  const [insight, baseline] = await Promise.all([
    store.attributionCounts({
      ...common,
      fromMs: startMs,
      toMs: window.endMinute * MINUTE_MS,
      maxEvents: MAX_INSIGHT_EVENTS,
    }),
    store.attributionCounts({
      ...common,
      fromMs: startMs - window.baselineMinutes * MINUTE_MS,
      toMs: startMs,
      maxEvents: MAX_BASELINE_EVENTS,
    }),
  ]);
  const endMs = window.endMinute * MINUTE_MS;
  const insightAverages = averages(
    insight,
    coveredMinutes(insight, endMs, window.endMinute - window.startMinute, MAX_INSIGHT_EVENTS),
  );
  const baselineAverages = averages(
    baseline,
    coveredMinutes(baseline, startMs, window.baselineMinutes, MAX_BASELINE_EVENTS),
  );
  return ATTRIBUTION_ATTRIBUTES.map((attribute, index) => ({
    attribute,
    insight: insightAverages[index] ?? [],
    baseline: baselineAverages[index] ?? [],
  }));
}

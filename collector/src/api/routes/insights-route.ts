/*
 * GET /api/v1/insights — insights overlapping a time range, newest first, each with its Start and
 * (once over) End record: what a dashboard needs to draw Start→End regions and list insights.
 * The same events are also in /api/v1/events with eventCategory=Insight.
 */
import type { FastifyInstance } from 'fastify';
import { INSIGHT_TYPES, MINUTE_MS } from '../../insights/insight-settings.js';
import type { InsightHistoryItem } from '../../insights/insight-history.js';
import { readInsightHistory } from '../../insights/insight-history.js';
import type { EventStore } from '../../store/event-store.js';
import { badParameter } from '../api-error.js';
import type { RawQuery } from '../query-params.js';
import {
  listParameter,
  parseInteger,
  parseTime,
  rejectUnknownParameters,
  singleValue,
} from '../query-params.js';

const DEFAULT_MAX_RESULTS = 100;
const MAX_MAX_RESULTS = 1000;
const DEFAULT_RANGE_MS = 7 * 24 * 60 * MINUTE_MS;
const STATES = ['active', 'ended'] as const;

export interface InsightsRouteOptions {
  /** How far before the range an insight still overlapping it can have started. */
  maxInsightMinutes: number;
  now: () => number;
}

function view(item: InsightHistoryItem): Record<string, unknown> {
  const latest = item.end ?? item.start;
  const statistics = latest?.insightDetails.insightContext.statistics;
  return {
    sharedEventID: item.sharedEventID,
    eventSource: item.eventSource,
    eventName: item.eventName,
    insightType: item.insightType,
    state: item.state,
    startTime: new Date(item.startMinute * MINUTE_MS).toISOString(),
    endTime: item.endMinute === undefined ? null : new Date(item.endMinute * MINUTE_MS).toISOString(),
    baselineAverage: statistics?.baseline.average ?? null,
    insightAverage: statistics?.insight.average ?? null,
    summary: latest?.crumbtrail.insight.summary ?? null,
    start: item.start ?? null,
    end: item.end ?? null,
  };
}

export function registerInsightsRoute(
  app: FastifyInstance,
  store: EventStore,
  options: InsightsRouteOptions,
): void {
  app.get('/api/v1/insights', async (request) => {
    const query = request.query as RawQuery;
    rejectUnknownParameters(query, [
      'startTime',
      'endTime',
      'eventName',
      'eventSource',
      'insightType',
      'state',
      'maxResults',
    ]);
    const endMs = parseTime('endTime', singleValue(query, 'endTime')) ?? options.now();
    const startMs = parseTime('startTime', singleValue(query, 'startTime')) ?? endMs - DEFAULT_RANGE_MS;
    if (startMs > endMs) throw badParameter('startTime', 'must not be after endTime');
    const eventNames = listParameter(query, 'eventName');
    const eventSources = listParameter(query, 'eventSource');
    const types = listParameter(query, 'insightType', INSIGHT_TYPES);
    const states = listParameter(query, 'state', STATES);
    const limit =
      parseInteger('maxResults', singleValue(query, 'maxResults'), 1, MAX_MAX_RESULTS) ?? DEFAULT_MAX_RESULTS;
    const history = await readInsightHistory(store, {
      fromMs: startMs - options.maxInsightMinutes * MINUTE_MS,
      ...(eventNames === undefined ? {} : { eventNames }),
      ...(eventSources === undefined ? {} : { eventSources }),
    });
    const matching = history.filter(
      (item) =>
        item.startMinute * MINUTE_MS <= endMs &&
        (item.endMinute === undefined || item.endMinute * MINUTE_MS >= startMs) &&
        (types === undefined || types.includes(item.insightType)) &&
        (states === undefined || states.includes(item.state)),
    );
    return { insights: matching.slice(0, limit).map(view), truncated: matching.length > limit };
  });
}

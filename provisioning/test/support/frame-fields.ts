/*
 * The field names of the frames the crumbtrail datasource returns, per query type: what a panel's
 * overrides, transformations and `${__data.fields.…}` links may name. The events frame's names are
 * the plugin's own constant; the other two frame builders need a browser to import
 * (@grafana/data), so their names are listed here and checked against their source by a test.
 */
import { EventField } from '../../../plugin/src/shared/event-frame.js';
import { QueryType } from '../../../plugin/src/types.js';

/** plugin/src/datasource/insights-frame.ts */
export const INSIGHTS_FRAME_FIELDS = [
  'time',
  'timeEnd',
  'title',
  'text',
  'tags',
  'eventSource',
  'eventName',
  'insightType',
  'state',
  'baselineAverage',
  'insightAverage',
  'sharedEventID',
] as const;

/** plugin/src/datasource/call-rate-frames.ts: one frame per group, a time and a count field. */
export const CALL_RATE_FRAME_FIELDS = ['time', 'calls'] as const;

export const FRAME_SOURCES: Record<QueryType, string> = {
  [QueryType.Events]: 'plugin/src/datasource/events-frame.ts',
  [QueryType.Insights]: 'plugin/src/datasource/insights-frame.ts',
  [QueryType.CallRate]: 'plugin/src/datasource/call-rate-frames.ts',
};

export function frameFields(queryType: QueryType): readonly string[] {
  switch (queryType) {
    case QueryType.Events:
      return Object.values(EventField);
    case QueryType.Insights:
      return INSIGHTS_FRAME_FIELDS;
    case QueryType.CallRate:
      return CALL_RATE_FRAME_FIELDS;
  }
}

/*
 * Insights as pairs: a Start and (once it is over) an End sharing a sharedEventID. Read from the
 * stored insight events by the query API, and by the engine to rebuild its state after a restart.
 */
import type { InsightRecord } from '../events/cloudtrail-record.js';
import { EVENT_CATEGORY_INSIGHT, isInsightRecord } from '../events/cloudtrail-record.js';
import type { AuditRecord } from '../events/cloudtrail-record.js';
import type { EventStore } from '../store/event-store.js';
import type { InsightType } from './insight-settings.js';
import { MINUTE_MS } from './insight-settings.js';

export interface InsightHistoryItem {
  sharedEventID: string;
  eventSource: string;
  eventName: string;
  insightType: InsightType;
  state: 'active' | 'ended';
  /** Minutes since the epoch; the end is exclusive and absent while active. */
  startMinute: number;
  endMinute: number | undefined;
  start: InsightRecord | undefined;
  end: InsightRecord | undefined;
}

/** Insight records read per page while collecting a range. */
const PAGE_SIZE = 1000;
/** A bound on one read: far more insights than any range should hold. */
const MAX_INSIGHT_EVENTS = 100_000;

function minuteOf(record: InsightRecord): number {
  return Math.floor(Date.parse(record.eventTime) / MINUTE_MS);
}

export function pairInsightRecords(records: readonly InsightRecord[]): InsightHistoryItem[] {
  const items = new Map<string, InsightHistoryItem>();
  for (const record of records) {
    const details = record.insightDetails;
    let item = items.get(record.sharedEventID);
    if (item === undefined) {
      item = {
        sharedEventID: record.sharedEventID,
        eventSource: details.eventSource,
        eventName: details.eventName,
        insightType: details.insightType,
        state: 'active',
        startMinute: minuteOf(record),
        endMinute: undefined,
        start: undefined,
        end: undefined,
      };
      items.set(record.sharedEventID, item);
    }
    if (details.state === 'Start') {
      item.start = record;
      item.startMinute = minuteOf(record);
    } else {
      item.end = record;
      item.state = 'ended';
      item.endMinute = minuteOf(record);
      // An End read without its Start (outside the range read) still knows where it began.
      if (item.start === undefined)
        item.startMinute = item.endMinute - (details.insightContext.statistics.insightDuration ?? 0);
    }
  }
  return [...items.values()].sort((a, b) => b.startMinute - a.startMinute);
}

export interface InsightHistoryQuery {
  /** Epoch milliseconds: insight events from this time on are read. */
  fromMs: number;
  eventNames?: readonly string[];
  eventSources?: readonly string[];
}

/** Every insight event stored from `fromMs` on, paired. */
export async function readInsightHistory(
  store: EventStore,
  query: InsightHistoryQuery,
): Promise<InsightHistoryItem[]> {
  const records: InsightRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.lookup({
      filter: {
        startTimeMs: query.fromMs,
        fields: {
          eventCategory: [EVENT_CATEGORY_INSIGHT],
          ...(query.eventNames === undefined ? {} : { eventName: query.eventNames }),
          ...(query.eventSources === undefined ? {} : { eventSource: query.eventSources }),
        },
      },
      limit: PAGE_SIZE,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const text of page.records) {
      const record = JSON.parse(text) as AuditRecord;
      if (isInsightRecord(record)) records.push(record);
    }
    cursor = page.cursor;
  } while (cursor !== undefined && records.length < MAX_INSIGHT_EVENTS);
  return pairInsightRecords(records);
}

/*
 * "Download events": every event an events query matches, not only the page a panel shows,
 * fetched page by page from the collector (largest pages, through the data proxy) up to a cap,
 * reporting progress after each page and stopping when the user cancels.
 */
import type { AuditRecord } from '../shared/cloudtrail-record';
import type { CollectorClient, QueryParams } from './collector-client';
import { COLLECTOR_PAGE_SIZE } from './limits';

/** The most events one download holds: a browser builds the whole file in memory. */
export const MAX_EXPORT_EVENTS = 100_000;

export interface ExportOptions {
  /** At most this many events (at most MAX_EXPORT_EVENTS). */
  maxEvents?: number;
  /** Called after each page with the number of events so far. */
  onProgress?: (events: number) => void;
  signal?: AbortSignal;
}

export interface EventExport {
  records: AuditRecord[];
  /** More events match than the cap let in. */
  truncated: boolean;
}

interface EventsPage {
  events: AuditRecord[];
  nextToken?: string;
}

export class ExportCancelledError extends Error {
  override readonly name = 'ExportCancelledError';
  constructor() {
    super('download cancelled');
  }
}

/** Pages through GET /api/v1/events with `params` (time range, filters, text already expanded). */
export async function fetchAllEvents(
  client: CollectorClient,
  params: QueryParams,
  options: ExportOptions = {}
): Promise<EventExport> {
  const cap = Math.min(Math.max(1, options.maxEvents ?? MAX_EXPORT_EVENTS), MAX_EXPORT_EVENTS);
  const records: AuditRecord[] = [];
  let nextToken: string | undefined;
  do {
    if (options.signal?.aborted === true) {
      throw new ExportCancelledError();
    }
    const pageSize = Math.min(COLLECTOR_PAGE_SIZE, cap - records.length);
    const pageParams: QueryParams = [...params, ['maxResults', String(pageSize)]];
    if (nextToken !== undefined) {
      pageParams.push(['nextToken', nextToken]);
    }
    const page = await client.get<EventsPage>('/api/v1/events', pageParams);
    records.push(...page.events.slice(0, pageSize));
    nextToken = page.nextToken;
    options.onProgress?.(records.length);
    if (page.events.length === 0) {
      break;
    }
  } while (nextToken !== undefined && records.length < cap);
  return { records, truncated: nextToken !== undefined };
}

/*
 * GET /api/v1/events?format=csv|ndjson: every matching event (or the first maxResults), streamed
 * page by page from the store, so an export of millions of events holds one page in memory and
 * stops reading the store when the client goes away (the stream is pulled, not pushed).
 */
import type { CloudTrailRecord } from '../../events/cloudtrail-record.js';
import type { EventFilter, EventStore } from '../../store/event-store.js';
import { badParameter } from '../api-error.js';
import { csvHeaderLine, csvLines } from './event-csv.js';

export const EXPORT_FORMATS = ['json', 'csv', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The store pages an export reads: the largest lookup page. */
const EXPORT_PAGE_SIZE = 1000;

export function parseFormat(value: string | undefined): ExportFormat {
  if (value === undefined) return 'json';
  const format = EXPORT_FORMATS.find((candidate) => candidate === value);
  if (format === undefined) throw badParameter('format', `expected one of ${EXPORT_FORMATS.join(', ')}`);
  return format;
}

export const EXPORT_CONTENT_TYPES: Record<Exclude<ExportFormat, 'json'>, string> = {
  csv: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson',
};

/** The export's chunks: a header line for CSV, then one chunk per store page. */
export async function* exportChunks(
  store: EventStore,
  request: {
    filter: EventFilter;
    format: Exclude<ExportFormat, 'json'>;
    maxResults?: number;
    cursor?: string;
  },
): AsyncGenerator<string> {
  if (request.format === 'csv') yield csvHeaderLine();
  let remaining = request.maxResults ?? Number.POSITIVE_INFINITY;
  let cursor = request.cursor;
  while (remaining > 0) {
    const limit = Math.min(EXPORT_PAGE_SIZE, remaining);
    const page = await store.lookup(
      cursor === undefined ? { filter: request.filter, limit } : { filter: request.filter, limit, cursor },
    );
    const records = page.records.slice(0, limit);
    if (records.length > 0) {
      // NDJSON: the stored JSON text as it is, one record a line (stored JSON holds no raw newline).
      yield request.format === 'ndjson'
        ? `${records.join('\n')}\n`
        : csvLines(records.map((text) => JSON.parse(text) as CloudTrailRecord));
    }
    remaining -= records.length;
    cursor = page.cursor;
    if (cursor === undefined || records.length === 0) return;
  }
}

/*
 * GET /api/v1/events          — event history lookup (LookupEvents with combinable attributes);
 *                               with format=csv|ndjson, every matching event streamed (export)
 * GET /api/v1/events/:eventId — one record
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { EventStore, LookupPage, LookupRequest } from '../../store/event-store.js';
import { InvalidCursorError } from '../../store/event-store.js';
import { ApiError } from '../api-error.js';
import { EXPORT_CONTENT_TYPES, exportChunks, parseFormat } from '../export/events-export.js';
import type { PagingTokens } from '../paging-token.js';
import type { RawQuery } from '../query-params.js';
import {
  FILTER_PARAMETERS,
  parseFilter,
  parseInteger,
  rejectUnknownParameters,
  singleValue,
} from '../query-params.js';

const DEFAULT_MAX_RESULTS = 50;
/** Response chunks are about this large: few writes, and never one string of the whole page. */
const CHUNK_CHARS = 64 * 1024;

/**
 * The page as JSON, in chunks. Records are stored as JSON text: they are spliced in rather than
 * parsed and re-serialised, and streamed rather than joined into one string the size of the page.
 */
function* pageChunks(records: readonly string[], tokenJson: string): Generator<string> {
  let chunk = '{"events":[';
  for (const [index, record] of records.entries()) {
    if (index > 0) chunk += ',';
    chunk += record;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}]${tokenJson}}`;
}
const MAX_MAX_RESULTS = 1000;
/** An export's maxResults is a cap on the whole download, not a page size. */
const MAX_EXPORT_RESULTS = 100_000_000;

async function lookupOrBadToken(store: EventStore, request: LookupRequest): Promise<LookupPage> {
  try {
    return await store.lookup(request);
  } catch (error) {
    if (error instanceof InvalidCursorError) {
      throw new ApiError(400, 'invalid parameter "nextToken": not a token of this store');
    }
    throw error;
  }
}

export function registerEventRoutes(app: FastifyInstance, store: EventStore, tokens: PagingTokens): void {
  app.get('/api/v1/events', async (request, reply) => {
    const query = request.query as RawQuery;
    rejectUnknownParameters(query, [...FILTER_PARAMETERS, 'maxResults', 'nextToken', 'format']);
    const format = parseFormat(singleValue(query, 'format'));
    const filter = parseFilter(query);
    const nextToken = singleValue(query, 'nextToken');
    const cursor = nextToken === undefined ? undefined : tokens.redeem(nextToken, filter);
    if (format !== 'json') {
      // Once streaming, the status is sent: a token the store does not know must fail before.
      if (cursor !== undefined) await lookupOrBadToken(store, { filter, limit: 1, cursor });
      const maxResults = parseInteger('maxResults', singleValue(query, 'maxResults'), 1, MAX_EXPORT_RESULTS);
      const chunks = exportChunks(store, {
        filter,
        format,
        ...(maxResults === undefined ? {} : { maxResults }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      return reply
        .type(EXPORT_CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="crumbtrail-events.${format}"`)
        .send(Readable.from(chunks, { objectMode: false }));
    }
    const limit =
      parseInteger('maxResults', singleValue(query, 'maxResults'), 1, MAX_MAX_RESULTS) ?? DEFAULT_MAX_RESULTS;
    const page = await lookupOrBadToken(
      store,
      cursor === undefined ? { filter, limit } : { filter, limit, cursor },
    );
    const token =
      page.cursor === undefined ? '' : `,"nextToken":${JSON.stringify(tokens.issue(page.cursor, filter))}`;
    return reply
      .type('application/json')
      .send(Readable.from(pageChunks(page.records, token), { objectMode: false }));
  });

  app.get('/api/v1/events/:eventId', async (request, reply) => {
    const { eventId } = request.params as { eventId: string };
    rejectUnknownParameters(request.query as RawQuery, []);
    if (eventId.length > 128) throw new ApiError(400, 'invalid parameter "eventId": too long');
    const record = await store.getEvent(eventId);
    if (record === undefined) throw new ApiError(404, `no event with eventId "${eventId}"`);
    return reply.type('application/json').send(record);
  });
}

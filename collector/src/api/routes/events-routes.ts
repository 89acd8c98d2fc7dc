/*
 * GET /api/v1/events          — event history lookup (LookupEvents with combinable attributes)
 * GET /api/v1/events/:eventId — one record
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../../store/event-store.js';
import { InvalidCursorError } from '../../store/event-store.js';
import { ApiError } from '../api-error.js';
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

export function registerEventRoutes(app: FastifyInstance, store: EventStore, tokens: PagingTokens): void {
  app.get('/api/v1/events', async (request, reply) => {
    const query = request.query as RawQuery;
    rejectUnknownParameters(query, [...FILTER_PARAMETERS, 'maxResults', 'nextToken']);
    const filter = parseFilter(query);
    const limit =
      parseInteger('maxResults', singleValue(query, 'maxResults'), 1, MAX_MAX_RESULTS) ?? DEFAULT_MAX_RESULTS;
    const nextToken = singleValue(query, 'nextToken');
    const cursor = nextToken === undefined ? undefined : tokens.redeem(nextToken, filter);
    let page;
    try {
      page = await store.lookup(cursor === undefined ? { filter, limit } : { filter, limit, cursor });
    } catch (error) {
      if (error instanceof InvalidCursorError) {
        throw new ApiError(400, 'invalid parameter "nextToken": not a token of this store');
      }
      throw error;
    }
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

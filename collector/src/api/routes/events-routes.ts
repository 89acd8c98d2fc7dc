/*
 * GET /api/v1/events          — event history lookup (LookupEvents with combinable attributes)
 * GET /api/v1/events/:eventId — one record
 */
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
    // Records are stored as JSON text: splice them in rather than parse and re-serialise.
    const token =
      page.cursor === undefined ? '' : `,"nextToken":${JSON.stringify(tokens.issue(page.cursor, filter))}`;
    return reply.type('application/json').send(`{"events":[${page.records.join(',')}]${token}}`);
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

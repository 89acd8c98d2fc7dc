/*
 * GET /api/v1/values/:field — distinct values of a lookup field with their counts, in a time range
 * and under the other filters given (so Grafana variables can chain: users of one event source).
 */
import type { FastifyInstance } from 'fastify';
import type { EventStore } from '../../store/event-store.js';
import { LOOKUP_FIELDS, isLookupField } from '../../store/event-store.js';
import { ApiError } from '../api-error.js';
import type { RawQuery } from '../query-params.js';
import {
  FILTER_PARAMETERS,
  parseFilter,
  parseInteger,
  rejectUnknownParameters,
  singleValue,
} from '../query-params.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export function registerValuesRoute(app: FastifyInstance, store: EventStore): void {
  app.get('/api/v1/values/:field', async (request) => {
    const { field } = request.params as { field: string };
    if (!isLookupField(field)) {
      throw new ApiError(404, `unknown field "${field}": one of ${LOOKUP_FIELDS.join(', ')}`);
    }
    const query = request.query as RawQuery;
    rejectUnknownParameters(query, [...FILTER_PARAMETERS, 'limit']);
    const filter = parseFilter(query);
    const limit = parseInteger('limit', singleValue(query, 'limit'), 1, MAX_LIMIT) ?? DEFAULT_LIMIT;
    return { field, values: await store.distinctValues(field, filter, limit) };
  });
}

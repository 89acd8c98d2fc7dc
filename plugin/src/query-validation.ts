/*
 * Checks a saved query (dashboard JSON, provisioning, an old version of the plugin) against the
 * query model in types.ts, naming what is wrong. The datasource refuses an invalid query with
 * this message rather than sending the collector something it would reject less clearly, and the
 * provisioning tests check every dashboard query with it.
 */
import {
  type AuditQuery,
  INSIGHT_STATES,
  INSIGHT_TYPES,
  isLookupField,
  LOOKUP_FIELDS,
  MAX_MAX_RESULTS,
  QueryType,
} from './types';
import { MAX_EVENTS_PER_QUERY } from './datasource/limits';

const QUERY_TYPES: readonly string[] = Object.values(QueryType);
const KNOWN_KEYS = new Set([
  'refId',
  'hide',
  'key',
  'queryType',
  'datasource',
  'filters',
  'text',
  'maxResults',
  'groupBy',
  'maxSeries',
  'insightType',
  'insightState',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isWholeNumberIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * The problems of a saved query; empty when it is a valid AuditQuery. Unknown properties are
 * problems unless allowed (a typo such as "filter" would otherwise be silently ignored).
 */
export function queryProblems(value: unknown, options: { allowUnknownProperties?: boolean } = {}): string[] {
  if (!isRecord(value)) {
    return ['a query must be an object'];
  }
  const problems: string[] = [];
  for (const key of Object.keys(value)) {
    if (!KNOWN_KEYS.has(key) && options.allowUnknownProperties !== true) {
      problems.push(`unknown property "${key}"`);
    }
  }
  if (typeof value.refId !== 'string' || value.refId === '') {
    problems.push('refId must be a non-empty string');
  }
  if (value.queryType !== undefined && !QUERY_TYPES.includes(String(value.queryType))) {
    problems.push(`queryType must be one of ${QUERY_TYPES.join(', ')}`);
  }
  if (value.filters !== undefined) {
    if (!isRecord(value.filters)) {
      problems.push('filters must be an object of field → values');
    } else {
      for (const [field, values] of Object.entries(value.filters)) {
        if (!isLookupField(field)) {
          problems.push(`filters.${field}: not a lookup field (one of ${LOOKUP_FIELDS.join(', ')})`);
        } else if (!Array.isArray(values) || !values.every((item) => typeof item === 'string' && item !== '')) {
          problems.push(`filters.${field} must be a list of non-empty strings`);
        }
      }
    }
  }
  if (value.text !== undefined && typeof value.text !== 'string') {
    problems.push('text must be a string');
  }
  if (value.maxResults !== undefined && !isWholeNumberIn(value.maxResults, 1, MAX_EVENTS_PER_QUERY)) {
    problems.push(`maxResults must be a whole number from 1 to ${MAX_EVENTS_PER_QUERY}`);
  }
  if (value.groupBy !== undefined && (typeof value.groupBy !== 'string' || !isLookupField(value.groupBy))) {
    problems.push(`groupBy must be one of ${LOOKUP_FIELDS.join(', ')}`);
  }
  if (value.maxSeries !== undefined && !isWholeNumberIn(value.maxSeries, 1, MAX_MAX_RESULTS)) {
    problems.push(`maxSeries must be a whole number from 1 to ${MAX_MAX_RESULTS}`);
  }
  if (value.insightType !== undefined && !(INSIGHT_TYPES as readonly unknown[]).includes(value.insightType)) {
    problems.push(`insightType must be one of ${INSIGHT_TYPES.join(', ')}`);
  }
  if (value.insightState !== undefined && !(INSIGHT_STATES as readonly unknown[]).includes(value.insightState)) {
    problems.push(`insightState must be one of ${INSIGHT_STATES.join(', ')}`);
  }
  return problems;
}

export function isAuditQuery(value: unknown): value is AuditQuery {
  return queryProblems(value).length === 0;
}

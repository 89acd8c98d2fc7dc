/*
 * Checks a saved template-variable query of the crumbtrail datasource against AuditVariableQuery:
 * the plugin validates panel queries (queryProblems) but takes variable queries as they come.
 */
import { queryProblems } from '../../../plugin/src/query-validation.js';
import { type AuditVariableQuery, isLookupField, MAX_MAX_RESULTS } from '../../../plugin/src/types.js';
import { isObject } from './json-shapes.js';

/** The properties a saved variable query may have: AuditVariableQuery's, as DataQuery adds none we use. */
const VARIABLE_QUERY_KEYS: ReadonlySet<string> = new Set([
  'refId',
  'field',
  'filters',
  'limit',
] satisfies Array<keyof AuditVariableQuery>);

export function variableQueryProblems(value: unknown): string[] {
  if (!isObject(value)) return ['a variable query must be an object {refId, field, filters}'];
  const problems = Object.keys(value)
    .filter((key) => !VARIABLE_QUERY_KEYS.has(key))
    .map((key) => `unknown property "${key}"`);
  if (typeof value.refId !== 'string' || value.refId === '')
    problems.push('refId must be a non-empty string');
  if (typeof value.field !== 'string' || !isLookupField(value.field)) {
    problems.push(`field must be a lookup field, not ${JSON.stringify(value.field)}`);
  }
  if (value.filters !== undefined) {
    // The filters are the same model as a panel query's: let the plugin's own validation judge them.
    problems.push(...queryProblems({ refId: 'variable', filters: value.filters }));
  }
  const limit = value.limit;
  if (
    limit !== undefined &&
    !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_MAX_RESULTS)
  ) {
    problems.push(`limit must be a whole number from 1 to ${String(MAX_MAX_RESULTS)}`);
  }
  return problems;
}

/*
 * Query-string parameters of the lookup API → EventFilter. Every parameter is checked, and a bad
 * one gets a 400 that names it; unknown parameters are refused too, so a typo ("EventName") never
 * silently widens a lookup to everything.
 */
import type { EventFilter, LookupField } from '../store/event-store.js';
import { LOOKUP_FIELDS } from '../store/event-store.js';
import { badParameter } from './api-error.js';

/** The parsed query string: one string, or several for a repeated parameter. */
export type RawQuery = Record<string, string | string[] | undefined>;

const MAX_VALUE_LENGTH = 1024;
const MAX_VALUES_PER_FIELD = 100;
const MAX_TEXT_LENGTH = 256;
const EVENT_CATEGORIES = ['Management', 'Data', 'NetworkActivity', 'Insight'] as const;

export const FILTER_PARAMETERS: readonly string[] = ['startTime', 'endTime', 'q', ...LOOKUP_FIELDS];

export function valuesOf(query: RawQuery, name: string): string[] {
  const raw = query[name];
  if (raw === undefined) return [];
  return Array.isArray(raw) ? raw : [raw];
}

/** The single value of a parameter; a repeated one is an error. */
export function singleValue(query: RawQuery, name: string): string | undefined {
  const values = valuesOf(query, name);
  if (values.length > 1) throw badParameter(name, 'give it once');
  return values[0];
}

/** Refuses parameters not in `allowed`, suggesting the right spelling for a wrong case. */
export function rejectUnknownParameters(query: RawQuery, allowed: readonly string[]): void {
  for (const name of Object.keys(query)) {
    if (allowed.includes(name)) continue;
    const suggestion = allowed.find((known) => known.toLowerCase() === name.toLowerCase());
    throw badParameter(
      name,
      suggestion === undefined
        ? `unknown parameter (known: ${allowed.join(', ')})`
        : `did you mean "${suggestion}"?`,
    );
  }
}

/**
 * ISO-8601 (with a zone, or UTC assumed) or epoch milliseconds. A number of 11 digits or fewer is
 * refused rather than read as milliseconds in 1970: it is almost always epoch seconds or a year.
 */
export function parseTime(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d{12,15}$/.test(value)) return Number(value);
  if (/^\d{1,11}$/.test(value)) {
    throw badParameter(
      name,
      'a number must be epoch milliseconds (13 digits today); for seconds append "000"',
    );
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(value) && value.length > 10;
    const parsed = Date.parse(hasZone || value.length === 10 ? value : `${value}Z`);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw badParameter(name, 'expected an ISO-8601 time (2020-01-01T09:00:00Z) or epoch milliseconds');
}

export function parseInteger(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,10}$/.test(value)) throw badParameter(name, `expected an integer from ${min} to ${max}`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw badParameter(name, `expected an integer from ${min} to ${max}`);
  return parsed;
}

/**
 * The values of a repeatable parameter, each 1 to 1024 characters, at most 100 of them, and one of
 * `allowed` when given; undefined when the parameter is absent.
 */
export function listParameter(
  query: RawQuery,
  name: string,
  allowed?: readonly string[],
): string[] | undefined {
  const values = valuesOf(query, name);
  if (values.length === 0) return undefined;
  if (values.length > MAX_VALUES_PER_FIELD)
    throw badParameter(name, `at most ${MAX_VALUES_PER_FIELD} values`);
  for (const value of values) {
    if (value.length === 0 || value.length > MAX_VALUE_LENGTH) {
      throw badParameter(name, `values must be 1 to ${MAX_VALUE_LENGTH} characters`);
    }
    if (allowed !== undefined && !allowed.includes(value)) {
      throw badParameter(name, `expected one of ${allowed.join(', ')}`);
    }
  }
  return values;
}

function canonicalValue(field: LookupField, value: string): string {
  if (field === 'readOnly') {
    if (value !== 'true' && value !== 'false') throw badParameter(field, 'expected true or false');
  }
  if (field === 'eventCategory') {
    // CloudTrail writes EventCategory=insight in lookups and "Insight" in records: accept either.
    const category = EVENT_CATEGORIES.find((known) => known.toLowerCase() === value.toLowerCase());
    if (category === undefined) throw badParameter(field, `expected one of ${EVENT_CATEGORIES.join(', ')}`);
    return category;
  }
  return value;
}

/** The filter parameters of a request (time range, lookup fields, free text). */
export function parseFilter(query: RawQuery): EventFilter {
  const filter: EventFilter = { fields: {} };
  const startTimeMs = parseTime('startTime', singleValue(query, 'startTime'));
  const endTimeMs = parseTime('endTime', singleValue(query, 'endTime'));
  if (startTimeMs !== undefined && endTimeMs !== undefined && startTimeMs > endTimeMs) {
    throw badParameter('startTime', 'must not be after endTime');
  }
  if (startTimeMs !== undefined) filter.startTimeMs = startTimeMs;
  if (endTimeMs !== undefined) filter.endTimeMs = endTimeMs;
  for (const field of LOOKUP_FIELDS) {
    const values = listParameter(query, field);
    if (values === undefined) continue;
    filter.fields[field] = [...new Set(values.map((value) => canonicalValue(field, value)))];
  }
  const text = singleValue(query, 'q');
  if (text !== undefined) {
    if (text.length === 0 || text.length > MAX_TEXT_LENGTH) {
      throw badParameter('q', `free text must be 1 to ${MAX_TEXT_LENGTH} characters`);
    }
    filter.text = text;
  }
  return filter;
}

/*
 * EventFilter → SQL. Column names come from a fixed table below and every value is a bound
 * parameter: no text from a request ever becomes SQL.
 */
import { EVENT_CATEGORY_INSIGHT } from '../../events/cloudtrail-record.js';
import type { EventFilter, LookupField } from '../event-store.js';
import { TEXT_CANDIDATES, trigramQuery } from './text-index.js';

/** Columns of `events e` for the fields stored on the event row. */
const EVENT_COLUMNS: Readonly<Record<Exclude<LookupField, 'resourceType' | 'resourceName'>, string>> = {
  eventId: 'e.event_id',
  eventName: 'e.event_name',
  eventSource: 'e.event_source',
  username: 'e.username',
  readOnly: 'e.read_only',
  accessKeyId: 'e.access_key_id',
  errorCode: 'e.error_code',
  sourceIPAddress: 'e.source_ip',
  eventCategory: 'e.event_category',
};

/** Columns of `event_resources r` for the resource fields. */
const RESOURCE_COLUMNS: Readonly<Record<'resourceType' | 'resourceName', string>> = {
  resourceType: 'r.resource_type',
  resourceName: 'r.resource_name',
};

export function isResourceField(field: LookupField): field is 'resourceType' | 'resourceName' {
  return field === 'resourceType' || field === 'resourceName';
}

/** The SQL column expression of a field (resource fields need `event_resources r` joined). */
export function columnOf(field: LookupField): string {
  return isResourceField(field) ? RESOURCE_COLUMNS[field] : EVENT_COLUMNS[field];
}

export type SqlValue = string | number;

export interface SqlCondition {
  /** Conditions ANDed, over `events e`; '1' when there are none. */
  where: string;
  params: SqlValue[];
}

/** Stored value of a field: readOnly is kept as 0/1. */
function storedValue(field: LookupField, value: string): SqlValue {
  return field === 'readOnly' ? (value === 'true' ? 1 : 0) : value;
}

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** Escapes LIKE wildcards so free text matches literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/**
 * The WHERE of a filter. `text: 'omit'` leaves the free text out, for a lookup that applies
 * it itself (freeTextLike, textIndexMatch).
 */
export function filterToSql(filter: EventFilter, text: 'match' | 'omit' = 'match'): SqlCondition {
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  if (filter.startTimeMs !== undefined) {
    conditions.push('e.event_time >= ?');
    params.push(filter.startTimeMs);
  }
  if (filter.endTimeMs !== undefined) {
    conditions.push('e.event_time <= ?');
    params.push(filter.endTimeMs);
  }
  const resourceConditions: string[] = [];
  const resourceParams: SqlValue[] = [];
  for (const [name, values] of Object.entries(filter.fields) as [LookupField, readonly string[]][]) {
    if (values.length === 0) continue;
    const list = placeholders(values.length);
    if (isResourceField(name)) {
      resourceConditions.push(`${columnOf(name)} IN (${list})`);
      resourceParams.push(...values);
      continue;
    }
    conditions.push(`${columnOf(name)} IN (${list})`);
    params.push(...values.map((value) => storedValue(name, value)));
    if (name === 'eventCategory' && values.length === 1 && values[0] === EVENT_CATEGORY_INSIGHT) {
      // The same condition as a literal (our constant, not request text): SQLite only uses the
      // partial insights index when the query repeats the index's WHERE term.
      conditions.push(`e.event_category = '${EVENT_CATEGORY_INSIGHT}'`);
    }
  }
  if (resourceConditions.length > 0) {
    // One sub-select, so resourceType and resourceName must hold for the same resource ("the User
    // named Mary", not "a User and something named Mary"). It drives from the resource index; the
    // time bounds keep it to the range.
    if (filter.startTimeMs !== undefined) {
      resourceConditions.push('r.event_time >= ?');
      resourceParams.push(filter.startTimeMs);
    }
    if (filter.endTimeMs !== undefined) {
      resourceConditions.push('r.event_time <= ?');
      resourceParams.push(filter.endTimeMs);
    }
    conditions.push(
      `e.seq IN (SELECT r.seq FROM event_resources r WHERE ${resourceConditions.join(' AND ')})`,
    );
    params.push(...resourceParams);
  }
  if (filter.fields.eventCategory === undefined || filter.fields.eventCategory.length === 0) {
    conditions.push('e.event_category <> ?');
    params.push(EVENT_CATEGORY_INSIGHT);
  }
  if (text === 'match') {
    const match = textMatchToSql(filter);
    if (match !== undefined) {
      conditions.push(match.where);
      params.push(...match.params);
    }
  }
  return { where: conditions.length === 0 ? '1' : conditions.join(' AND '), params };
}

/** Records are stored as JSON text: the text is looked for as JSON writes it (a quote as \", …). */
function jsonTerm(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The condition that decides free-text matching (undefined without free text). */
export function freeTextLike(filter: EventFilter): SqlCondition | undefined {
  if (filter.text === undefined || filter.text.length === 0) return undefined;
  return { where: "e.record LIKE ? ESCAPE '\\'", params: [likePattern(jsonTerm(filter.text))] };
}

/** The trigram index's MATCH expression for the filter's free text, when it can use the index. */
export function textIndexMatch(filter: EventFilter): string | undefined {
  return filter.text === undefined || filter.text.length === 0
    ? undefined
    : trigramQuery(jsonTerm(filter.text));
}

/**
 * The free-text condition alone (undefined without free text). The LIKE decides what matches;
 * the index only limits which events it is tried on (text-index.ts).
 */
function textMatchToSql(filter: EventFilter): SqlCondition | undefined {
  const like = freeTextLike(filter);
  const trigrams = textIndexMatch(filter);
  if (like === undefined || trigrams === undefined) return like;
  return {
    where: `e.seq IN (${TEXT_CANDIDATES}) AND ${like.where}`,
    params: [trigrams, ...like.params],
  };
}

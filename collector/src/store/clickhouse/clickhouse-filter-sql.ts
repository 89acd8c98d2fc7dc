/*
 * EventFilter → a ClickHouse WHERE clause over the events table. Column names come from the fixed
 * table below; every value of the request becomes a literal through sql-literal.ts, so a value can
 * change what the query compares, never its shape.
 */
import { EVENT_CATEGORY_INSIGHT } from '../../events/cloudtrail-record.js';
import type { EventFilter, LookupField } from '../event-store.js';
import { sqlInteger, sqlString, sqlStringList } from './sql-literal.js';

type RowField = Exclude<LookupField, 'resourceType' | 'resourceName'>;

/** Columns of events for the fields stored on the row. */
const EVENT_COLUMNS: Readonly<Record<RowField, string>> = {
  eventId: 'event_id',
  eventName: 'event_name',
  eventSource: 'event_source',
  username: 'username',
  readOnly: 'read_only',
  accessKeyId: 'access_key_id',
  errorCode: 'error_code',
  sourceIPAddress: 'source_ip',
  eventCategory: 'event_category',
};

/** The parallel arrays resources are kept in ('' stands for a resource without a type or name). */
export const RESOURCE_ARRAYS: Readonly<Record<'resourceType' | 'resourceName', string>> = {
  resourceType: 'resource_types',
  resourceName: 'resource_names',
};

export function isResourceField(field: LookupField): field is 'resourceType' | 'resourceName' {
  return field === 'resourceType' || field === 'resourceName';
}

export function columnOf(field: RowField): string {
  return EVENT_COLUMNS[field];
}

/** readOnly is stored as 0/1: any value but "true" means false, as in the SQLite engine. */
function readOnlyList(values: readonly string[]): string {
  return `(${[...new Set(values.map((value) => (value === 'true' ? 1 : 0)))].map(sqlInteger).join(', ')})`;
}

/** The text as the stored JSON writes it (a quote as \", a tab as \t…), for a substring match. */
export function jsonTextNeedle(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/**
 * `plain` runs everywhere (18.16 too). `indexed` is the form the skip indexes of current servers
 * answer (26.2+, clickhouse-schema.ts): free text as a LIKE on the lowered record (text index), and
 * a resource-name filter also as hasAny() on the names (bloom filter). The matches are the same,
 * except for letters the two functions fold differently (final sigma, dotted İ, titlecase digraphs
 * such as ǅ; checked on 26.7), which only the LIKE finds.
 */
export type QueryForm = 'plain' | 'indexed';

/** A LIKE pattern matching `text` anywhere: its wildcards and the escape character taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

export function filterToClickHouse(filter: EventFilter, queryForm: QueryForm = 'plain'): string {
  const conditions: string[] = [];
  if (filter.startTimeMs !== undefined) conditions.push(`event_time_ms >= ${sqlInteger(filter.startTimeMs)}`);
  if (filter.endTimeMs !== undefined) conditions.push(`event_time_ms <= ${sqlInteger(filter.endTimeMs)}`);
  const resourceTerms: { variable: string; array: string; values: readonly string[] }[] = [];
  for (const [name, values] of Object.entries(filter.fields) as [LookupField, readonly string[]][]) {
    if (values.length === 0) continue;
    if (isResourceField(name)) {
      resourceTerms.push({
        variable: name === 'resourceType' ? 't' : 'n',
        array: RESOURCE_ARRAYS[name],
        values,
      });
    } else if (name === 'readOnly') {
      conditions.push(`read_only IN ${readOnlyList(values)}`);
    } else {
      conditions.push(`${columnOf(name)} IN ${sqlStringList(values)}`);
    }
  }
  if (resourceTerms.length > 0) {
    // One lambda over the arrays side by side: type and name must hold for the same resource.
    const variables = resourceTerms.map((term) => term.variable).join(', ');
    const test = resourceTerms
      .map((term) => `${term.variable} IN ${sqlStringList(term.values)}`)
      .join(' AND ');
    conditions.push(
      `arrayExists((${variables}) -> ${test}, ${resourceTerms.map((term) => term.array).join(', ')})`,
    );
    const names = resourceTerms.find((term) => term.array === RESOURCE_ARRAYS.resourceName);
    // Implied by the arrayExists above; a bloom filter can answer it, a lambda it cannot.
    if (queryForm === 'indexed' && names !== undefined) {
      conditions.push(`hasAny(${names.array}, [${names.values.map(sqlString).join(', ')}])`);
    }
  }
  if (filter.fields.eventCategory === undefined || filter.fields.eventCategory.length === 0) {
    conditions.push(`event_category != ${sqlString(EVENT_CATEGORY_INSIGHT)}`);
  }
  if (filter.text !== undefined && filter.text.length > 0) {
    const needle = jsonTextNeedle(filter.text);
    conditions.push(
      queryForm === 'indexed'
        ? `lowerUTF8(record) LIKE lowerUTF8(${sqlString(containsPattern(needle))})`
        : `positionCaseInsensitiveUTF8(record, ${sqlString(needle)}) > 0`,
    );
  }
  return conditions.length === 0 ? '1' : conditions.join(' AND ');
}

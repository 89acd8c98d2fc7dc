/*
 * Events as CSV, like the CloudTrail console's "Download events": one row per event with the
 * lookup attributes and the fields investigators sort by; the full record is in the JSON export.
 * The event-history panel's CSV export has the same columns (plugin/src/shared/event-csv.ts; a
 * plugin test compares the two against a real collector).
 *
 * Cells come from the audited callers (user names, user agents), so a cell that a spreadsheet
 * would run as a formula (=, +, -, @, tab, carriage return first) is escaped with a leading quote
 * by csv-stringify's escape_formulas.
 */
import { stringify } from 'csv-stringify/sync';
import type { CloudTrailRecord } from '../../events/cloudtrail-record.js';
import { resourceNameOf, usernameOf } from '../../cli/event-table.js';

export const EVENT_CSV_HEADERS = [
  'Event ID',
  'Event time',
  'Event source',
  'Event name',
  'User name',
  'AWS access key',
  'Source IP address',
  'User agent',
  'AWS region',
  'Read only',
  'Error code',
  'Error message',
  'Resource type',
  'Resource name',
  'Event category',
  'Request ID',
] as const;

/** Several resources share one cell, in order, so type i and name i still line up. */
function listCell(values: readonly (string | undefined)[]): string {
  return values.every((value) => value === undefined) ? '' : values.map((value) => value ?? '').join(', ');
}

/**
 * A cell from a record field read as stored JSON, whatever its declared type: insight records
 * have no readOnly nor eventName of their own, and a missing field is an empty cell.
 */
function cell(value: unknown): string {
  if (typeof value === 'string') return value;
  return typeof value === 'boolean' ? String(value) : '';
}

export function eventCsvRow(record: CloudTrailRecord): string[] {
  const resources = record.resources ?? [];
  return [
    record.eventID,
    record.eventTime,
    record.eventSource,
    record.eventName,
    usernameOf(record),
    record.userIdentity.accessKeyId,
    record.sourceIPAddress,
    record.userAgent,
    record.awsRegion,
    record.readOnly,
    record.errorCode,
    record.errorMessage,
    listCell(resources.map((resource) => resource.type)),
    listCell(resources.map(resourceNameOf)),
    record.eventCategory,
    record.requestID,
  ].map(cell);
}

const OPTIONS = { escape_formulas: true, record_delimiter: 'windows' } as const;

export function csvHeaderLine(): string {
  return stringify([[...EVENT_CSV_HEADERS]], OPTIONS);
}

export function csvLines(records: readonly CloudTrailRecord[]): string {
  return records.length === 0 ? '' : stringify(records.map(eventCsvRow), OPTIONS);
}

/** A whole CSV document: the header line, then one line per event. */
export function formatEventCsv(records: readonly CloudTrailRecord[]): string {
  return csvHeaderLine() + csvLines(records);
}

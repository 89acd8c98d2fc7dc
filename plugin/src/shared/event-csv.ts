/*
 * Events as CSV for the panel's "Download events": the same columns, cells and escaping as the
 * collector's GET /api/v1/events?format=csv (collector/src/api/export/event-csv.ts), so a file
 * downloaded from Grafana and one from curl or `crumbtrail lookup-events --output csv` read the
 * same (a plugin test compares them against a real collector). Cells a spreadsheet would run as
 * formulas are escaped by csv-stringify's escape_formulas: audit data comes from the callers.
 */
import { stringify } from 'csv-stringify/browser/esm/sync';
import type { AuditRecord } from './cloudtrail-record';

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
function listCell(values: ReadonlyArray<string | undefined>): string {
  return values.every((value) => value === undefined) ? '' : values.map((value) => value ?? '').join(', ');
}

function cell(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'boolean' ? String(value) : '';
}

export function eventCsvRow(record: AuditRecord): string[] {
  const resources = record.resources ?? [];
  const identity = record.userIdentity ?? {};
  return [
    record.eventID,
    record.eventTime,
    record.eventSource,
    record.eventName,
    // What the Username lookup attribute matches: the user name, else the principal id.
    identity.userName ?? identity.principalId,
    identity.accessKeyId,
    record.sourceIPAddress,
    record.userAgent,
    record.awsRegion,
    record.readOnly,
    record.errorCode,
    record.errorMessage,
    listCell(resources.map((resource) => resource.type)),
    listCell(resources.map((resource) => resource.name ?? resource.ARN)),
    record.eventCategory,
    record.requestID,
  ].map(cell);
}

export function formatEventCsv(records: readonly AuditRecord[]): string {
  return stringify([[...EVENT_CSV_HEADERS], ...records.map(eventCsvRow)], {
    escape_formulas: true,
    record_delimiter: 'windows',
  });
}

/** CloudTrail's log file shape, which tools that read CloudTrail JSON accept. */
export function formatEventJson(records: readonly AuditRecord[]): string {
  return `${JSON.stringify({ Records: records }, null, 2)}\n`;
}

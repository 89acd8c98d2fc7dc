/*
 * `--output table`: one line per event in aligned columns, for people reading a terminal.
 */
import type { CloudTrailRecord } from '../events/cloudtrail-record.js';

const COLUMN_GAP = '  ';

/**
 * Audit data comes from the audited callers: a user name holding a newline or an escape sequence
 * must not break the layout or drive the terminal. Control, format (e.g. bidi overrides) and
 * line-separator characters are shown as \u escapes instead.
 */
export function printableCell(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (char) => {
    const code = char.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const graphemes = new Intl.Segmenter();

/** Width in user-perceived characters: close enough for aligned columns without a width table. */
function widthOf(text: string): number {
  // Plain ASCII, by far the usual case, needs no segmenting.
  return /^[\x20-\x7e]*$/.test(text) ? text.length : [...graphemes.segment(text)].length;
}

function padCell(text: string, width: number): string {
  return text + ' '.repeat(width - widthOf(text));
}

/** Aligned columns under a header and a dashed rule; trailing blanks trimmed from every line. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => headers.map((_, column) => printableCell(row[column] ?? '')));
  // A reduce, not Math.max(...cells): a spread of many thousand rows overflows the call stack.
  const widths = headers.map((header, column) =>
    cells.reduce((widest, row) => Math.max(widest, widthOf(row[column] ?? '')), widthOf(header)),
  );
  const line = (row: readonly string[]): string =>
    row
      .map((cell, column) => padCell(cell, widths[column] ?? 0))
      .join(COLUMN_GAP)
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width));
  return [line(headers), line(rule), ...cells.map(line)].map((text) => `${text}\n`).join('');
}

/** What the Username lookup attribute matches: userName, else principalId (as the store indexes it). */
export function usernameOf(record: CloudTrailRecord): string | undefined {
  return record.userIdentity.userName ?? record.userIdentity.principalId;
}

/** What the ResourceName lookup attribute matches: the name, else the ARN (as the store indexes it). */
export function resourceNameOf(
  resource: NonNullable<CloudTrailRecord['resources']>[number],
): string | undefined {
  return resource.name ?? resource.ARN;
}

export const EVENT_TABLE_HEADERS = [
  'Event time',
  'User name',
  'Event name',
  'Resource type',
  'Resource name',
  'Error code',
] as const;

/** Several resources share one cell, in order, so type i and name i still line up. */
function listCell(values: readonly (string | undefined)[]): string {
  return values.every((value) => value === undefined) ? '' : values.map((value) => value ?? '').join(', ');
}

function eventRow(record: CloudTrailRecord): string[] {
  const resources = record.resources ?? [];
  return [
    record.eventTime,
    usernameOf(record) ?? '',
    record.eventName,
    listCell(resources.map((resource) => resource.type)),
    listCell(resources.map(resourceNameOf)),
    record.errorCode ?? '',
  ];
}

export function formatEventTable(records: readonly CloudTrailRecord[]): string {
  return formatTable(EVENT_TABLE_HEADERS, records.map(eventRow));
}

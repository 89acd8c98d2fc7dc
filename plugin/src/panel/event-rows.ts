/*
 * Events frames → the panel's rows: merged across queries, newest first. Pure, so the rules
 * (which frames count, how severities read, how rows merge) are tested without rendering.
 *
 * Lenient on purpose: the panel may sit on a query of another datasource version, a transformed
 * frame or a frame from a file, so a missing field leaves its cells empty instead of failing.
 */
import type { DataFrame, Field, LinkModel } from '@grafana/data';
import { EVENTS_FRAME_MARKER, EventField, SEVERITY_ERROR, SEVERITY_INSIGHT } from '../shared/event-frame';
import { COLUMN_FIELDS, EVENT_COLUMNS, type EventColumn } from './types';

export type RowSeverity = 'error' | 'insight' | 'info';

export interface EventRow {
  /** Unique among the rows: the event ID, else the row's frame and position. */
  key: string;
  /** Event time in epoch milliseconds; undefined when the frame has none. */
  time?: number;
  severity: RowSeverity;
  /** Text of each column the row has a value for; the event time is formatted at render time. */
  values: Partial<Record<EventColumn, string>>;
  /** One line naming the event, for accessible names: "John CreateUser User/Mary". */
  summary: string;
  /** The full CloudTrail record as JSON text. */
  record?: string;
  /**
   * The data links of the row's event id and trace id ("Show this event", "Open trace"), made
   * when the row is expanded: Grafana gives panel fields a getLinks that interpolates the row.
   */
  links: () => Array<LinkModel<Field>>;
}

/** Fields whose data links the expanded row offers, in this order. */
const LINKED_FIELDS = [EventField.Id, EventField.TraceId];

/** Frames the datasource marks as events, or that look like them (a record or timestamp field). */
export function isEventsFrame(frame: DataFrame): boolean {
  if (frame.meta?.custom?.marker === EVENTS_FRAME_MARKER) {
    return true;
  }
  return frame.fields.some((field) => field.name === EventField.Record || field.name === EventField.Timestamp);
}

function text(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') {
    return undefined;
  }
  return typeof value === 'string' ? value : String(value);
}

function epochMs(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) ? value : undefined;
  }
  if (typeof value === 'string' || value instanceof Date) {
    const parsed = value instanceof Date ? value.getTime() : Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

/** The datasource's severity field; without it, what the other fields tell. */
function severityOf(severity: string | undefined, values: EventRow['values']): RowSeverity {
  if (severity !== undefined) {
    if (severity === SEVERITY_ERROR) {
      return 'error';
    }
    return severity === SEVERITY_INSIGHT ? 'insight' : 'info';
  }
  if (values.eventCategory === 'Insight') {
    return 'insight';
  }
  return values.errorCode === undefined ? 'info' : 'error';
}

function summaryOf(body: string | undefined, values: EventRow['values']): string {
  if (body !== undefined) {
    return body;
  }
  const resource = [values.resourceType, values.resourceName].filter((part) => part !== undefined).join('/');
  const parts = [values.username, values.eventName, resource === '' ? undefined : resource];
  const line = parts.filter((part) => part !== undefined).join(' ');
  return line === '' ? (values.id ?? 'event') : line;
}

function frameRows(frame: DataFrame, frameIndex: number): EventRow[] {
  const byName = new Map<string, Field>(frame.fields.map((field) => [field.name, field]));
  const valueAt = (name: string, row: number): unknown => byName.get(name)?.values[row];
  const columns = EVENT_COLUMNS.filter((column) => column !== 'eventTime' && byName.has(COLUMN_FIELDS[column]));

  const rows: EventRow[] = [];
  for (let row = 0; row < frame.length; row++) {
    const values: EventRow['values'] = {};
    for (const column of columns) {
      const value = text(valueAt(COLUMN_FIELDS[column], row));
      if (value !== undefined) {
        values[column] = value;
      }
    }
    const severity = severityOf(text(valueAt(EventField.Severity, row)), values);
    const record = text(valueAt(EventField.Record, row));
    rows.push({
      key: values.id ?? `frame ${frameIndex} row ${row}`,
      time: epochMs(valueAt(EventField.Timestamp, row)),
      severity,
      values,
      summary: summaryOf(text(valueAt(EventField.Body, row)), values),
      record,
      links: () =>
        LINKED_FIELDS.flatMap((name) => {
          const field = byName.get(name);
          return field?.getLinks === undefined || text(field.values[row]) === undefined
            ? []
            : field.getLinks({ valueRowIndex: row });
        }),
    });
  }
  return rows;
}

/** Newest first; rows without a time last. Array sort is stable, so ties keep query order. */
function newestFirst(a: EventRow, b: EventRow): number {
  if (a.time === undefined || b.time === undefined) {
    return (a.time === undefined ? 1 : 0) - (b.time === undefined ? 1 : 0);
  }
  return b.time - a.time;
}

/**
 * The rows of all events frames, newest first. Queries that overlap (say, "errors" and "John's
 * calls") return the same event twice; an event ID appears once.
 */
export function eventRows(frames: DataFrame[]): EventRow[] {
  const seen = new Set<string>();
  const rows: EventRow[] = [];
  frames.forEach((frame, frameIndex) => {
    if (!isEventsFrame(frame)) {
      return;
    }
    for (const row of frameRows(frame, frameIndex)) {
      if (!seen.has(row.key)) {
        seen.add(row.key);
        rows.push(row);
      }
    }
  });
  return rows.sort(newestFirst);
}

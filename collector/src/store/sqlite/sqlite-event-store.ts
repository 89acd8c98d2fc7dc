/*
 * The embedded default engine: one SQLite file (better-sqlite3) in WAL mode. Writes go to a
 * writer thread (its own connection, on the second core); reads use a connection on the main
 * thread, which WAL lets run while the writer commits.
 *
 * Durability: a batch is one transaction; with WAL and synchronous=NORMAL a committed transaction
 * is in the WAL file before insert() resolves, so a crash of the collector process (kill -9) loses
 * nothing acknowledged. An OS crash or power loss can lose the last commits unless
 * synchronous=FULL is chosen (--sqlite-synchronous full), at a throughput cost.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { StoredEvent } from '../../events/cloudtrail-record.js';
import type {
  CallCount,
  EventFilter,
  EventStore,
  InsertOutcome,
  LookupField,
  LookupPage,
  LookupRequest,
  ValueCount,
} from '../event-store.js';
import { InvalidCursorError } from '../event-store.js';
import { toEventRow } from './event-row.js';
import { columnOf, filterToSql, isResourceField } from './filter-sql.js';
import type { SqlValue } from './filter-sql.js';
import { openDatabase } from './sqlite-database.js';
import type { SqliteOpenOptions } from './sqlite-database.js';
import { SqliteWriter } from './sqlite-writer.js';
import { WriterClient } from './writer-client.js';

export interface SqliteStoreOptions extends SqliteOpenOptions {
  /** Insert on a worker thread (default), or inline on the caller's thread. */
  writerThread?: boolean;
}

/** Prepared statements are reused by SQL text; lookups produce a bounded set of shapes. */
const STATEMENT_CACHE_LIMIT = 256;

interface RecordRow {
  seq: number;
  event_time: number;
  record: string;
}

/** Either writer runs the same SQL; the thread only moves it off the ingest thread. */
interface Writer {
  insert(rows: ReturnType<typeof toEventRow>[]): Promise<InsertOutcome>;
  deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number>;
  close(): Promise<void>;
}

function inlineWriter(options: SqliteOpenOptions, readerDb: Database.Database): Writer {
  // An in-memory database exists per connection: its writer must share the reader's.
  const writer = new SqliteWriter(options.path === ':memory:' ? readerDb : openDatabase(options));
  return {
    insert: (rows) => Promise.resolve(writer.insert(rows)),
    deleteOlderThan: (cutoffMs, maxEvents) => Promise.resolve(writer.deleteOlderThan(cutoffMs, maxEvents)),
    close: () => {
      if (options.path !== ':memory:') writer.close();
      return Promise.resolve();
    },
  };
}

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly writer: Writer;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.db = openDatabase(options);
    // Refresh planner statistics so multi-attribute lookups pick the most selective index.
    this.db.pragma('analysis_limit = 1000');
    this.db.pragma('optimize = 0x10002');
    const useThread = (options.writerThread ?? true) && options.path !== ':memory:';
    this.writer = useThread ? new WriterClient(options) : inlineWriter(options, this.db);
  }

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      if (this.statements.size >= STATEMENT_CACHE_LIMIT) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  insert(events: readonly StoredEvent[]): Promise<InsertOutcome> {
    return this.writer.insert(events.map(toEventRow));
  }

  lookup(request: LookupRequest): Promise<LookupPage> {
    const { where, params } = filterToSql(request.filter);
    const conditions = [where];
    const values: SqlValue[] = [...params];
    if (request.cursor !== undefined) {
      const position = parseCursor(request.cursor);
      // A promise-returning method reports a bad cursor through the promise, not by throwing.
      if (position === undefined) return Promise.reject(new InvalidCursorError('not a cursor of this store'));
      conditions.push('(e.event_time, e.seq) < (?, ?)');
      values.push(...position);
    }
    const rows = this.statement(
      `SELECT e.seq, e.event_time, e.record FROM events e WHERE ${conditions.join(' AND ')}
       ORDER BY e.event_time DESC, e.seq DESC LIMIT ?`,
    ).all(...values, request.limit + 1) as RecordRow[];
    const page: LookupPage = { records: rows.slice(0, request.limit).map((row) => row.record) };
    const last = rows[request.limit - 1];
    if (rows.length > request.limit && last !== undefined) page.cursor = `${last.event_time}:${last.seq}`;
    return Promise.resolve(page);
  }

  getEvent(eventId: string): Promise<string | undefined> {
    const row = this.statement('SELECT record FROM events WHERE event_id = ?').get(eventId) as
      { record: string } | undefined;
    return Promise.resolve(row?.record);
  }

  distinctValues(field: LookupField, filter: EventFilter, limit: number): Promise<ValueCount[]> {
    const { where, params } = filterToSql(filter);
    const column = columnOf(field);
    const from = isResourceField(field) ? 'event_resources r JOIN events e ON e.seq = r.seq' : 'events e';
    const rows = this.statement(
      `SELECT ${column} AS value, COUNT(*) AS count FROM ${from}
       WHERE ${where} AND ${column} IS NOT NULL
       GROUP BY ${column} ORDER BY count DESC, value LIMIT ?`,
    ).all(...params, limit) as { value: string | number; count: number }[];
    return Promise.resolve(
      rows.map((row) => ({
        value: field === 'readOnly' ? String(row.value === 1) : String(row.value),
        count: row.count,
      })),
    );
  }

  callCounts(filter: EventFilter, stepMs: number, groupBy?: LookupField): Promise<CallCount[]> {
    const { where, params } = filterToSql(filter);
    const step = Math.max(1, Math.trunc(stepMs));
    const bucket = `(e.event_time / ${step}) * ${step}`;
    if (groupBy === undefined) {
      const rows = this.statement(
        `SELECT ${bucket} AS bucket, COUNT(*) AS count FROM events e WHERE ${where} GROUP BY bucket ORDER BY bucket`,
      ).all(...params) as { bucket: number; count: number }[];
      return Promise.resolve(rows.map((row) => ({ bucketMs: row.bucket, count: row.count })));
    }
    const column = columnOf(groupBy);
    const from = isResourceField(groupBy)
      ? 'events e LEFT JOIN event_resources r ON r.seq = e.seq'
      : 'events e';
    const rows = this.statement(
      `SELECT ${bucket} AS bucket, ${column} AS grp, COUNT(*) AS count FROM ${from} WHERE ${where}
       GROUP BY bucket, grp ORDER BY bucket`,
    ).all(...params) as { bucket: number; grp: string | number | null; count: number }[];
    return Promise.resolve(
      rows.map((row) => ({
        bucketMs: row.bucket,
        group: row.grp === null ? '' : groupBy === 'readOnly' ? String(row.grp === 1) : String(row.grp),
        count: row.count,
      })),
    );
  }

  deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number> {
    return this.writer.deleteOlderThan(cutoffMs, maxEvents);
  }

  secret(name: string): Promise<Buffer> {
    const read = this.statement('SELECT value FROM store_meta WHERE name = ?');
    const existing = read.get(name) as { value: Buffer } | undefined;
    if (existing !== undefined) return Promise.resolve(existing.value);
    this.statement('INSERT OR IGNORE INTO store_meta (name, value) VALUES (?, ?)').run(name, randomBytes(32));
    return Promise.resolve((read.get(name) as { value: Buffer }).value);
  }

  ping(): Promise<void> {
    this.statement('SELECT 1').get();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.writer.close();
    if (this.db.open) {
      this.db.pragma('optimize');
      this.db.close();
    }
  }
}

function parseCursor(cursor: string): [number, number] | undefined {
  const match = /^(-?\d{1,16}):(\d{1,16})$/.exec(cursor);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2])];
}

/*
 * The embedded default engine: one SQLite file (better-sqlite3) in WAL mode.
 *
 * Durability: a batch is one transaction; with WAL and synchronous=NORMAL a committed transaction
 * is in the WAL file before insert() resolves, so a crash of the collector process (kill -9) loses
 * nothing acknowledged. An OS crash or power loss can lose the last commits unless
 * synchronous=FULL is chosen (--sqlite-synchronous full), at a throughput cost.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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
import { columnOf, filterToSql, isResourceField } from './filter-sql.js';
import type { SqlValue } from './filter-sql.js';
import { migrate } from './schema.js';

export interface SqliteStoreOptions {
  /** File path, or ':memory:' for throwaway stores in tests. */
  path: string;
  /** NORMAL survives a process crash; FULL also survives power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Page cache in MiB: the indexes' hot pages should fit. */
  cacheMiB?: number;
}

/** Prepared statements are reused by SQL text; lookups produce a bounded set of shapes. */
const STATEMENT_CACHE_LIMIT = 256;

interface RecordRow {
  seq: number;
  event_time: number;
  record: string;
}

export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insertEvent: Database.Statement;
  private readonly insertResource: Database.Statement;
  private readonly insertBatch: (events: readonly StoredEvent[]) => InsertOutcome;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.pragma(`cache_size = -${(options.cacheMiB ?? 64) * 1024}`);
    // Fewer, larger checkpoints: measured ~25% more insert throughput than the 1000-page default.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.pragma('busy_timeout = 5000');
    migrate(this.db);
    // Refresh planner statistics so multi-attribute lookups pick the most selective index.
    this.db.pragma('analysis_limit = 1000');
    this.db.pragma('optimize = 0x10002');

    this.insertEvent = this.db.prepare(
      `INSERT OR IGNORE INTO events (event_id, event_time, event_name, event_source, username, access_key_id,
         read_only, error_code, source_ip, event_category, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertResource = this.db.prepare(
      `INSERT INTO event_resources (seq, position, event_time, resource_type, resource_name) VALUES (?, ?, ?, ?, ?)`,
    );
    this.insertBatch = this.db.transaction((events: readonly StoredEvent[]) => {
      let inserted = 0;
      for (const event of events) {
        const { record } = event;
        const result = this.insertEvent.run(
          record.eventID,
          event.eventTimeMs,
          record.eventName,
          record.eventSource,
          event.username ?? null,
          record.userIdentity.accessKeyId ?? null,
          record.readOnly ? 1 : 0,
          record.errorCode ?? null,
          record.sourceIPAddress ?? null,
          record.eventCategory,
          JSON.stringify(record),
        );
        if (result.changes === 0) continue;
        inserted++;
        record.resources?.forEach((resource, position) => {
          this.insertResource.run(
            result.lastInsertRowid,
            position,
            event.eventTimeMs,
            resource.type ?? null,
            resource.name ?? resource.ARN ?? null,
          );
        });
      }
      return { inserted, duplicates: events.length - inserted };
    });
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
    return Promise.resolve(this.insertBatch(events));
  }

  lookup(request: LookupRequest): Promise<LookupPage> {
    const { where, params } = filterToSql(request.filter);
    const conditions = [where];
    const values: SqlValue[] = [...params];
    if (request.cursor !== undefined) {
      const [time, seq] = parseCursor(request.cursor);
      conditions.push('(e.event_time, e.seq) < (?, ?)');
      values.push(time, seq);
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
      | { record: string }
      | undefined;
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
    const bucket = `(e.event_time / ${Math.trunc(stepMs)}) * ${Math.trunc(stepMs)}`;
    if (groupBy === undefined) {
      const rows = this.statement(
        `SELECT ${bucket} AS bucket, COUNT(*) AS count FROM events e WHERE ${where} GROUP BY bucket ORDER BY bucket`,
      ).all(...params) as { bucket: number; count: number }[];
      return Promise.resolve(rows.map((row) => ({ bucketMs: row.bucket, count: row.count })));
    }
    const column = columnOf(groupBy);
    const from = isResourceField(groupBy) ? 'events e LEFT JOIN event_resources r ON r.seq = e.seq' : 'events e';
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
    const remove = this.db.transaction(() => {
      const doomed = this.statement('SELECT seq FROM events WHERE event_time < ? ORDER BY event_time LIMIT ?')
        .pluck()
        .all(cutoffMs, maxEvents) as number[];
      const deleteEvent = this.statement('DELETE FROM events WHERE seq = ?');
      const deleteResources = this.statement('DELETE FROM event_resources WHERE seq = ?');
      for (const seq of doomed) {
        deleteEvent.run(seq);
        deleteResources.run(seq);
      }
      return doomed.length;
    });
    return Promise.resolve(remove());
  }

  secret(name: string): Promise<Buffer> {
    const read = this.statement('SELECT value FROM store_meta WHERE name = ?').pluck();
    const existing = read.get(name) as Buffer | undefined;
    if (existing !== undefined) return Promise.resolve(existing);
    this.statement('INSERT OR IGNORE INTO store_meta (name, value) VALUES (?, ?)').run(name, randomBytes(32));
    return Promise.resolve(read.get(name) as Buffer);
  }

  ping(): Promise<void> {
    this.statement('SELECT 1').get();
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (this.db.open) {
      this.db.pragma('optimize');
      this.db.close();
    }
    return Promise.resolve();
  }
}

function parseCursor(cursor: string): [number, number] {
  const match = /^(-?\d{1,16}):(\d{1,16})$/.exec(cursor);
  if (match === null) throw new InvalidCursorError('not a cursor of this store');
  return [Number(match[1]), Number(match[2])];
}

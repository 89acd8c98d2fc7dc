/*
 * The embedded default engine: one SQLite file (better-sqlite3) in WAL mode. Writes go to a
 * writer thread and lookups to a reader thread, each with its own connection (WAL lets readers
 * run while the writer commits), so the main thread stays free to receive exports and answer lookups.
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
  ApiSeries,
  AttributionCounts,
  AttributionQuery,
  CallCount,
  CommittedRecord,
  EventFilter,
  EventStore,
  InsertOutcome,
  LookupField,
  LookupPage,
  LookupRequest,
  MinuteCount,
  MinuteRange,
  ValueCount,
} from '../event-store.js';
import { InvalidCursorError } from '../event-store.js';
import { EVENT_CATEGORY_INSIGHT } from '../../events/cloudtrail-record.js';
import { toEventRow } from '../event-row.js';
import { packRows, unpackRows } from '../packed-rows.js';
import type { PackedRows } from '../packed-rows.js';
import type { BoundedRows, TextBudget } from './bounded-rows.js';
import { readRows } from './bounded-rows.js';
import { columnOf, filterToSql, freeTextLike, isResourceField, textIndexMatch } from './filter-sql.js';
import type { SqlCondition, SqlValue } from './filter-sql.js';
import { openDatabase } from './sqlite-database.js';
import type { SqliteOpenOptions } from './sqlite-database.js';
import { SqliteThreadClient } from './sqlite-thread-client.js';
import { SqliteWriter } from './sqlite-writer.js';
import { StatementCache } from './statement-cache.js';
import { TEXT_CANDIDATES, TEXT_INDEX_HIGH_WATER, TEXT_INDEX_STEP_ROWS } from './text-index.js';
import type { TextIndexing } from './sqlite-thread-protocol.js';

export interface SqliteStoreOptions extends SqliteOpenOptions {
  /** Run writes and lookups on worker threads (default), or inline on the caller's thread. */
  threads?: boolean;
  /** A lookup running longer is stopped (threads only). */
  queryTimeoutMs?: number;
  /** The free-text index is filled when the writer is idle (default), or only by indexText (tests). */
  textIndexing?: TextIndexing;
}

/**
 * A free-text lookup first tries the newest events that pass the other filters: a common term
 * fills its page there, cheaper than reading the index's long candidate lists. Only what that
 * window leaves unanswered goes to the trigram index.
 */
const RECENT_TEXT_SCAN_ROWS = 4096;

const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/**
 * Record text in one lookup page: with records of ~2 KB a full page of 1000 is ~2 MB; records
 * near CloudTrail's 256 KB cap end the page early instead of making replies of hundreds of MB.
 */
const PAGE_TEXT_CHARS = 8 * 1024 * 1024;

interface RecordRow {
  seq: number;
  event_time: number;
  record: string;
}

/** Where the SQL runs: on worker threads, or inline on one connection (tests, ':memory:'). */
interface SqlRunner {
  insert(batches: readonly PackedRows[]): Promise<InsertOutcome>;
  deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number>;
  query(sql: string, params: SqlValue[]): Promise<unknown[]>;
  /** A query whose rows stop once the budget's column has summed to its limit. */
  boundedQuery(sql: string, params: SqlValue[], budget: TextBudget): Promise<BoundedRows>;
  /** One write statement, ordered after the writes before it. */
  run(sql: string, params: SqlValue[]): Promise<void>;
  indexText(maxRows: number): Promise<number>;
  close(): Promise<void>;
}

function threadRunner(options: SqliteStoreOptions): SqlRunner {
  const textIndexing = options.textIndexing ?? 'background';
  const writer = new SqliteThreadClient({ open: options, role: 'writer', textIndexing });
  const reader = new SqliteThreadClient({ open: options, role: 'reader', textIndexing });
  const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  return {
    insert: async (batches) =>
      (await writer.call({ op: 'insert', batches })).outcome ?? { inserted: 0, duplicates: 0 },
    deleteOlderThan: async (cutoffMs, maxEvents) =>
      (await writer.call({ op: 'deleteOlderThan', cutoffMs, maxEvents })).deleted ?? 0,
    query: async (sql, params) => (await reader.call({ op: 'query', sql, params }, timeoutMs)).rows ?? [],
    boundedQuery: async (sql, params, budget) => {
      const reply = await reader.call({ op: 'query', sql, params, budget }, timeoutMs);
      return { rows: reply.rows ?? [], stoppedEarly: reply.stoppedEarly ?? false };
    },
    run: async (sql, params) => {
      await writer.call({ op: 'run', sql, params });
    },
    indexText: async (maxRows) => (await writer.call({ op: 'indexText', maxRows })).indexed ?? 0,
    close: async () => {
      await Promise.all([writer.close(), reader.close()]);
    },
  };
}

function inlineRunner(db: Database.Database, textIndexing: TextIndexing): SqlRunner {
  const writer = new SqliteWriter(db);
  const statements = new StatementCache(db);
  return {
    // Inline there is no idle time to wait for: the index is brought up to date with each insert.
    insert: (batches) => {
      const outcome = writer.insert(batches.flatMap(unpackRows));
      if (textIndexing === 'background') while (writer.textIndexer.indexNext(TEXT_INDEX_STEP_ROWS) > 0);
      return Promise.resolve(outcome);
    },
    deleteOlderThan: (cutoffMs, maxEvents) => Promise.resolve(writer.deleteOlderThan(cutoffMs, maxEvents)),
    query: (sql, params) => Promise.resolve(statements.get(sql).all(...params)),
    boundedQuery: (sql, params, budget) => Promise.resolve(readRows(statements.get(sql), params, budget)),
    run: (sql, params) => {
      statements.get(sql).run(...params);
      return Promise.resolve();
    },
    indexText: (maxRows) => Promise.resolve(writer.textIndexer.indexNext(maxRows)),
    close: () => Promise.resolve(),
  };
}

export class SqliteEventStore implements EventStore {
  /** Main-thread connection: schema, store secrets and health checks. */
  private readonly db: Database.Database;
  private readonly statements: StatementCache;
  private readonly runner: SqlRunner;

  constructor(options: SqliteStoreOptions) {
    this.db = openDatabase(options);
    // Refresh planner statistics so multi-attribute lookups pick the most selective index.
    this.db.pragma('analysis_limit = 1000');
    this.db.pragma('optimize = 0x10002');
    this.statements = new StatementCache(this.db);
    // An in-memory database exists per connection: it cannot be shared with threads.
    const useThreads = (options.threads ?? true) && options.path !== ':memory:';
    this.runner = useThreads
      ? threadRunner(options)
      : inlineRunner(this.db, options.textIndexing ?? 'background');
  }

  insert(events: readonly StoredEvent[]): Promise<InsertOutcome> {
    return this.runner.insert([packRows(events.map(toEventRow))]);
  }

  insertPacked(batches: readonly PackedRows[]): Promise<InsertOutcome> {
    return this.runner.insert(batches);
  }

  async lookup(request: LookupRequest): Promise<LookupPage> {
    const trigrams = textIndexMatch(request.filter);
    const like = freeTextLike(request.filter);
    const { where, params } = filterToSql(request.filter, trigrams === undefined ? 'match' : 'omit');
    const conditions = [where];
    const values: SqlValue[] = [...params];
    if (request.cursor !== undefined) {
      const position = parseCursor(request.cursor);
      if (position === undefined) throw new InvalidCursorError('not a cursor of this store');
      conditions.push('(e.event_time, e.seq) < (?, ?)');
      values.push(...position);
    }
    const filtered: SqlCondition = { where: conditions.join(' AND '), params: values };
    const found =
      trigrams === undefined || like === undefined
        ? await this.newestRecords(
            `SELECT e.seq, e.event_time, e.record FROM events e WHERE ${filtered.where}`,
            filtered.params,
            request.limit + 1,
            PAGE_TEXT_CHARS,
          )
        : await this.textLookup(filtered, like, trigrams, request.limit + 1);
    const rows = found.rows;
    // A page ends at the limit, or earlier when its records reach the page's size budget.
    const size = found.stoppedEarly ? rows.length : Math.min(rows.length, request.limit);
    const page: LookupPage = { records: rows.slice(0, size).map((row) => row.record) };
    const last = rows[size - 1];
    if ((found.stoppedEarly || rows.length > request.limit) && last !== undefined) {
      page.cursor = `${last.event_time}:${last.seq}`;
    }
    return page;
  }

  /** The newest rows of a query over `e`, at most `count`, stopping once their records reach maxChars. */
  private async newestRecords(
    from: string,
    params: SqlValue[],
    count: number,
    maxChars: number,
  ): Promise<{ rows: RecordRow[]; stoppedEarly: boolean }> {
    const { rows, stoppedEarly } = await this.runner.boundedQuery(
      `${from} ORDER BY e.event_time DESC, e.seq DESC LIMIT ?`,
      [...params, count],
      { column: 'record', maxChars },
    );
    return { rows: rows as RecordRow[], stoppedEarly };
  }

  /**
   * Free text in two steps: the LIKE over the newest RECENT_TEXT_SCAN_ROWS events that pass the
   * other filters, then, for what that leaves unanswered, the LIKE over the older ones the trigram
   * index (or the not yet indexed tail) names as candidates.
   */
  private async textLookup(
    filtered: SqlCondition,
    like: SqlCondition,
    trigrams: string,
    count: number,
  ): Promise<{ rows: RecordRow[]; stoppedEarly: boolean }> {
    const recent = await this.newestRecords(
      `SELECT * FROM (SELECT e.seq, e.event_time, e.record FROM events e WHERE ${filtered.where}
         ORDER BY e.event_time DESC, e.seq DESC LIMIT ${RECENT_TEXT_SCAN_ROWS}) e WHERE ${like.where}`,
      [...filtered.params, ...like.params],
      count,
      PAGE_TEXT_CHARS,
    );
    if (recent.stoppedEarly || recent.rows.length >= count) return recent;
    const edge = (await this.runner.query(
      `SELECT e.event_time, e.seq FROM events e WHERE ${filtered.where}
       ORDER BY e.event_time DESC, e.seq DESC LIMIT 1 OFFSET ${RECENT_TEXT_SCAN_ROWS - 1}`,
      filtered.params,
    )) as { event_time: number; seq: number }[];
    const oldestScanned = edge[0];
    // Fewer events than the window pass the other filters: the scan saw them all.
    if (oldestScanned === undefined) return recent;
    const used = recent.rows.reduce((chars, row) => chars + row.record.length, 0);
    const older = await this.newestRecords(
      `SELECT e.seq, e.event_time, e.record FROM (${TEXT_CANDIDATES}) candidate
       CROSS JOIN events e ON e.seq = candidate.seq
       WHERE ${filtered.where} AND (e.event_time, e.seq) < (?, ?) AND ${like.where}`,
      [trigrams, ...filtered.params, oldestScanned.event_time, oldestScanned.seq, ...like.params],
      count - recent.rows.length,
      Math.max(1, PAGE_TEXT_CHARS - used),
    );
    return { rows: [...recent.rows, ...older.rows], stoppedEarly: older.stoppedEarly };
  }

  async textIndexBacklog(): Promise<number> {
    const rows = (await this.runner.query(
      `SELECT count(*) AS n FROM events
       WHERE seq > coalesce((SELECT CAST(value AS INTEGER) FROM store_meta WHERE name = ?), 0)`,
      [TEXT_INDEX_HIGH_WATER],
    )) as { n: number }[];
    return rows[0]?.n ?? 0;
  }

  /** Indexes up to maxRows events not yet in the free-text index now; returns how many. */
  indexText(maxRows: number): Promise<number> {
    return this.runner.indexText(maxRows);
  }

  async getEvent(eventId: string): Promise<string | undefined> {
    const rows = (await this.runner.query('SELECT record FROM events WHERE event_id = ?', [eventId])) as {
      record: string;
    }[];
    return rows[0]?.record;
  }

  async committedRecords(afterSeq: number, limit: number, throughSeq?: number): Promise<CommittedRecord[]> {
    return (await this.runner.query(
      `SELECT seq, event_id AS eventId, event_time AS eventTimeMs, record FROM events
       WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
      [Math.trunc(afterSeq), Math.trunc(throughSeq ?? Number.MAX_SAFE_INTEGER), Math.trunc(limit)],
    )) as CommittedRecord[];
  }

  async distinctValues(field: LookupField, filter: EventFilter, limit: number): Promise<ValueCount[]> {
    const { where, params } = filterToSql(filter);
    const column = columnOf(field);
    const from = isResourceField(field) ? 'event_resources r JOIN events e ON e.seq = r.seq' : 'events e';
    const rows = (await this.runner.query(
      `SELECT ${column} AS value, COUNT(*) AS count FROM ${from}
       WHERE ${where} AND ${column} IS NOT NULL
       GROUP BY ${column} ORDER BY count DESC, value LIMIT ?`,
      [...params, limit],
    )) as { value: string | number; count: number }[];
    return rows.map((row) => ({
      value: field === 'readOnly' ? String(row.value === 1) : String(row.value),
      count: row.count,
    }));
  }

  async callCounts(
    filter: EventFilter,
    stepMs: number,
    grouping?: { groupBy: LookupField; maxGroups: number },
  ): Promise<CallCount[]> {
    const { where, params } = filterToSql(filter);
    const step = Math.max(1, Math.trunc(stepMs));
    const bucket = `(e.event_time / ${step}) * ${step}`;
    if (grouping === undefined) {
      const rows = (await this.runner.query(
        `SELECT ${bucket} AS bucket, COUNT(*) AS count FROM events e WHERE ${where} GROUP BY bucket ORDER BY bucket`,
        params,
      )) as { bucket: number; count: number }[];
      return rows.map((row) => ({ bucketMs: row.bucket, count: row.count }));
    }
    const { groupBy, maxGroups } = grouping;
    // Events without a value form the '' group.
    const group = `IFNULL(${columnOf(groupBy)}, '')`;
    const from = isResourceField(groupBy)
      ? 'events e LEFT JOIN event_resources r ON r.seq = e.seq'
      : 'events e';
    // The busiest groups first, then buckets for those alone: grouping by a field with a value
    // per event (eventId) must not produce a row for every event.
    const rows = (await this.runner.query(
      `WITH top AS (SELECT ${group} AS grp FROM ${from} WHERE ${where}
         GROUP BY grp ORDER BY COUNT(*) DESC, grp LIMIT ?)
       SELECT ${bucket} AS bucket, ${group} AS grp, COUNT(*) AS count FROM ${from}
       WHERE ${where} AND ${group} IN (SELECT grp FROM top)
       GROUP BY bucket, grp ORDER BY bucket`,
      [...params, Math.trunc(maxGroups), ...params],
    )) as { bucket: number; grp: string | number; count: number }[];
    return rows.map((row) => ({
      bucketMs: row.bucket,
      group: groupBy === 'readOnly' && row.grp !== '' ? String(row.grp === 1) : String(row.grp),
      count: row.count,
    }));
  }

  async apiSeries(): Promise<ApiSeries[]> {
    return (await this.runner.query(
      'SELECT event_source AS eventSource, event_name AS eventName, first_minute AS firstMinute FROM api_series',
      [],
    )) as ApiSeries[];
  }

  async minuteCounts(ranges: readonly MinuteRange[]): Promise<MinuteCount[]> {
    if (ranges.length === 0) return [];
    const select = `SELECT minute, event_source AS eventSource, event_name AS eventName,
      write_calls AS writeCalls, read_calls AS readCalls, errors FROM minute_counts WHERE minute BETWEEN ? AND ?`;
    return (await this.runner.query(
      ranges.map(() => select).join(' UNION ALL '),
      ranges.flatMap((range) => [Math.trunc(range.from), Math.trunc(range.to)]),
    )) as MinuteCount[];
  }

  async attributionCounts(query: AttributionQuery): Promise<AttributionCounts> {
    // One pass over the API's newest calls in the range (its (name, time) index), then a small
    // GROUP BY per attribute over that sample. CloudTrail attributes calls to the caller's ARN;
    // crumbtrail callers often have only a name, so the ARN falls back to it.
    const conditions = [
      'event_name = ?',
      'event_source = ?',
      'event_time >= ?',
      'event_time < ?',
      `event_category != '${EVENT_CATEGORY_INSIGHT}'`,
    ];
    if (query.writeCallsOnly) conditions.push('read_only = 0');
    if (query.errorsOnly) conditions.push('error_code IS NOT NULL');
    const top = (attribute: string, expression: string): string =>
      `SELECT * FROM (SELECT '${attribute}' AS attribute, ${expression} AS value, COUNT(*) AS count
         FROM sample WHERE value IS NOT NULL GROUP BY value ORDER BY count DESC, value LIMIT ${Math.trunc(query.top)})`;
    const rows = (await this.runner.query(
      `WITH sample AS MATERIALIZED (
         SELECT event_time, username, error_code, record FROM events WHERE ${conditions.join(' AND ')}
         ORDER BY event_time DESC LIMIT ?)
       SELECT 'sample' AS attribute, MIN(event_time) AS value, COUNT(*) AS count FROM sample
       UNION ALL ${top('userIdentityArn', "COALESCE(json_extract(record, '$.userIdentity.arn'), username)")}
       UNION ALL ${top('userAgent', "json_extract(record, '$.userAgent')")}
       UNION ALL ${top('errorCode', 'error_code')}`,
      [query.eventName, query.eventSource, query.fromMs, query.toMs, Math.trunc(query.maxEvents)],
    )) as { attribute: string; value: string | number | null; count: number }[];
    const counts: AttributionCounts = {
      events: 0,
      oldestMs: undefined,
      top: { userIdentityArn: [], userAgent: [], errorCode: [] },
    };
    for (const row of rows) {
      if (row.attribute === 'sample') {
        counts.events = row.count;
        counts.oldestMs = typeof row.value === 'number' ? row.value : undefined;
      } else if (row.attribute in counts.top && row.value !== null) {
        counts.top[row.attribute as keyof AttributionCounts['top']].push({
          value: String(row.value),
          count: row.count,
        });
      }
    }
    return counts;
  }

  async readState(name: string): Promise<string | undefined> {
    const rows = (await this.runner.query('SELECT value FROM store_meta WHERE name = ?', [
      `state:${name}`,
    ])) as { value: string | Buffer }[];
    const value = rows[0]?.value;
    return value === undefined ? undefined : String(value);
  }

  writeState(name: string, value: string): Promise<void> {
    return this.runner.run(
      'INSERT INTO store_meta (name, value) VALUES (?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
      [`state:${name}`, value],
    );
  }

  deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number> {
    return this.runner.deleteOlderThan(cutoffMs, maxEvents);
  }

  secret(name: string): Promise<Buffer> {
    const read = this.statements.get('SELECT value FROM store_meta WHERE name = ?');
    const existing = read.get(name) as { value: Buffer } | undefined;
    if (existing !== undefined) return Promise.resolve(existing.value);
    this.statements
      .get('INSERT OR IGNORE INTO store_meta (name, value) VALUES (?, ?)')
      .run(name, randomBytes(32));
    return Promise.resolve((read.get(name) as { value: Buffer }).value);
  }

  async ping(): Promise<void> {
    await this.runner.query('SELECT 1', []);
  }

  async close(): Promise<void> {
    await this.runner.close();
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

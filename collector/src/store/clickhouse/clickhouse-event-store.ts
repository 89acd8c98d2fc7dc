/*
 * The scale-out engine: events in ClickHouse (schema: clickhouse-schema.ts), written and read by
 * any number of stateless collectors. SQL is the subset ClickHouse 18.16 (Debian's) and current
 * releases both run, with every value a literal from sql-literal.ts (18.16 has no parameters).
 *
 * Durability: insert() resolves only after ClickHouse answered the INSERT (synchronous inserts;
 * insert_distributed_sync on a cluster so the shards have the rows; insert_quorum when configured),
 * so the receiver's 2xx means ClickHouse has the events. A server that is down or slow fails the
 * commit with EngineUnavailableError, the exporter gets 503 + Retry-After and retries; a retried
 * event keeps its deterministic id and is stored once (checked before insert, collapsed by
 * ReplacingMergeTree when two collectors race). Reads fold copies (FINAL, or grouping by event),
 * so no lookup sees a copy twice.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { ClickHouseClientConfigOptions } from '@clickhouse/client';
import type { StoredEvent } from '../../events/cloudtrail-record.js';
import { EVENT_CATEGORY_INSIGHT } from '../../events/cloudtrail-record.js';
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
import type { EventRow } from '../event-row.js';
import { toEventRow } from '../event-row.js';
import type { PackedRows } from '../packed-rows.js';
import { unpackRows } from '../packed-rows.js';
import { storeErrorOf } from './clickhouse-errors.js';
import { columnOf, filterToClickHouse, isResourceField, RESOURCE_ARRAYS } from './clickhouse-filter-sql.js';
import type { QueryForm } from './clickhouse-filter-sql.js';
import { migrateClickHouse } from './clickhouse-migrate.js';
import {
  checkIdentifier,
  partitionedTables,
  searchIndexDdl,
  supportsTextIndex,
  TEXT_INDEX_MIN_TERM,
} from './clickhouse-schema.js';
import type { SchemaTarget } from './clickhouse-schema.js';
import { CommitSequence } from './commit-sequence.js';
import { ClickHouseLease } from './clickhouse-lease.js';
import type { LeaseOptions } from './clickhouse-lease.js';
import { sqlInteger, sqlString, sqlStringList, wellFormed } from './sql-literal.js';
import { LookupWindows, TimeExtent } from './time-windows.js';
import type { TimeWindow } from './time-windows.js';

export interface ClickHouseStoreOptions {
  /** http(s)://host:8123 of a server (or of a load balancer in front of a cluster). */
  url?: string;
  username?: string;
  password?: string;
  database: string;
  /** A cluster name from the servers' remote_servers: Replicated + Distributed tables. */
  cluster?: string;
  /** insert_quorum for replicated setups: the insert is acknowledged once this many replicas have it. */
  insertQuorum?: number;
  /** A read running longer is stopped by the server (503, narrow it). */
  queryTimeoutMs?: number;
  /** A request without an answer for this long fails as EngineUnavailableError. */
  requestTimeoutMs?: number;
  /** With several collectors: how far behind the clock committedRecords reads (see commit-sequence.ts). */
  commitSettleMs?: number;
  /**
   * On servers with text indexes (26.2+), add one for free text (default true). Off: free text
   * scans, and an index added before is left in place (drop it with ALTER TABLE … DROP INDEX).
   */
  textIndex?: boolean;
  /** A ready connection instead of HTTP (the tests' embedded chdb engine); the caller closes it. */
  connection?: ClickHouseClientConfigOptions['connection'];
  now?: () => number;
}

/** Record text in one lookup page (as the SQLite engine): a page of huge records ends early. */
const PAGE_TEXT_CHARS = 8 * 1024 * 1024;
/** Ids per duplicate check query, well under 18.16's 256 KiB max_query_size. */
const IDS_PER_CHECK = 2000;
/** Above insert latency plus clock skew between collectors (secret()). */
const SECRET_SETTLE_MS = 2000;
/** keep_first = this − seq: ReplacingMergeTree keeps the highest, i.e. the first commit of an id. */
const KEEP_FIRST_BASE = Number.MAX_SAFE_INTEGER;

/** How long the store may take at open to learn where its events begin and end. */
const EXTENT_SECONDS = 5;

/** A UUIDv7 eventID starts with its event time in ms (event-id.ts): a point lookup on the sort key. */
const V7_ID = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Row = Record<string, unknown>;

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function nullableText(value: string | null): string | null {
  return value === null ? null : wellFormed(value);
}

/** The JSONEachRow object a row is inserted as (exported for the benchmark's direct-insert baseline). */
export function insertRow(row: EventRow, seq: number): Row {
  return {
    event_time_ms: row.eventTimeMs,
    event_id: row.eventId,
    seq,
    keep_first: KEEP_FIRST_BASE - seq,
    event_name: wellFormed(row.eventName),
    event_source: wellFormed(row.eventSource),
    username: nullableText(row.username),
    access_key_id: nullableText(row.accessKeyId),
    read_only: row.readOnly,
    error_code: nullableText(row.errorCode),
    source_ip: nullableText(row.sourceIp),
    event_category: row.eventCategory,
    user_arn: nullableText(row.userArn ?? null),
    user_agent: nullableText(row.userAgent ?? null),
    resource_types: row.resources.map(([type]) => wellFormed(type ?? '')),
    resource_names: row.resources.map(([, name]) => wellFormed(name ?? '')),
    record: row.record,
  };
}

/** Group value of a field, '' when the event has none (resource fields: one row per resource). */
function groupExpression(field: LookupField): string {
  if (isResourceField(field)) {
    const array = RESOURCE_ARRAYS[field];
    return `arrayJoin(if(empty(${array}), [''], ${array}))`;
  }
  if (field === 'readOnly') return 'toString(read_only)';
  return `ifNull(${columnOf(field)}, '')`;
}

export class ClickHouseEventStore implements EventStore {
  private readonly client: ClickHouseClient;
  private readonly target: SchemaTarget;
  private readonly sequence: CommitSequence;
  private readonly insertSettings: ClickHouseSettings;
  private readonly readSettings: ClickHouseSettings;
  private readonly now: () => number;
  private stateVersion = 0;
  /** Newest/oldest event times seen: where lookups start their windows (hints, see time-windows.ts). */
  private readonly extent = new TimeExtent();
  /** The query form the server's indexes answer: set once its version is known. */
  private queryForm: QueryForm = 'plain';
  /** Free text is answered by a text index here (26.2+, not turned off). */
  private textIndexed = false;
  private closed = false;
  private readonly ownsConnection: boolean;
  private readonly wantsTextIndex: boolean;

  private constructor(options: ClickHouseStoreOptions) {
    this.target = {
      database: checkIdentifier('database', options.database),
      ...(options.cluster === undefined ? {} : { cluster: checkIdentifier('cluster', options.cluster) }),
    };
    this.now = options.now ?? Date.now;
    this.ownsConnection = options.connection === undefined;
    this.wantsTextIndex = options.textIndex ?? true;
    this.sequence = new CommitSequence(this.now, options.commitSettleMs ?? 0);
    this.client = createClient({
      ...(options.url === undefined ? {} : { url: options.url }),
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(options.connection === undefined ? {} : { connection: options.connection }),
      request_timeout: options.requestTimeoutMs ?? 30_000,
      // 18.16 sends 64-bit integers as JSON strings unless told otherwise; say it for every version.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
    });
    this.insertSettings = {
      ...(options.cluster === undefined ? {} : { insert_distributed_sync: 1 }),
      ...(options.insertQuorum === undefined ? {} : { insert_quorum: String(options.insertQuorum) }),
    };
    this.readSettings = {
      max_execution_time: Math.max(1, Math.ceil((options.queryTimeoutMs ?? 30_000) / 1000)),
    };
  }

  /** Connects and brings the schema to the current version (creating it when missing). */
  static async open(options: ClickHouseStoreOptions): Promise<ClickHouseEventStore> {
    const store = new ClickHouseEventStore(options);
    try {
      await store.guard(() => migrateClickHouse(store.client, store.target));
      await store.guard(() => store.ensureSearchIndexes());
      await store.readTimeExtent();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** On servers with text indexes (26.2+): the skip indexes, and queries in the form they answer. */
  private async ensureSearchIndexes(): Promise<void> {
    const result = await this.client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' });
    const [row] = await result.json<{ version?: string }>();
    if (!supportsTextIndex(row?.version ?? '')) return;
    const options = { textIndex: this.wantsTextIndex };
    // On a cluster the ALTER goes to every server (ON CLUSTER), and what this one has says nothing
    // of the others: there it is always sent.
    const ddl =
      this.target.cluster === undefined
        ? searchIndexDdl(this.target, options, await this.skipIndexNames())
        : searchIndexDdl(this.target, options);
    if (ddl !== undefined) await this.client.command({ query: ddl });
    this.queryForm = 'indexed';
    this.textIndexed = this.wantsTextIndex;
  }

  /** The skip indexes the (single server's) events table has. */
  private async skipIndexNames(): Promise<Set<string>> {
    const result = await this.client.query({
      query: `SELECT name FROM system.data_skipping_indices
              WHERE database = ${sqlString(this.target.database)} AND table = 'events'`,
      format: 'JSONEachRow',
    });
    return new Set((await result.json<{ name: string }>()).map((index) => index.name));
  }

  /**
   * Where the stored events begin and end, for the lookups' windows. It reads the time column once
   * (~10 ms per million events on 18.16); a store that cannot answer in time starts without hints.
   */
  private async readTimeExtent(): Promise<void> {
    try {
      const result = await this.client.query({
        query: `SELECT count() AS n, min(event_time_ms) AS oldest, max(event_time_ms) AS newest FROM ${this.table('events')}`,
        format: 'JSONEachRow',
        clickhouse_settings: { max_execution_time: EXTENT_SECONDS },
      });
      const row = (await result.json<Row>())[0];
      const empty = row === undefined || num(row.n) === 0;
      this.extent.readTable(empty ? undefined : num(row.newest), empty ? undefined : num(row.oldest));
    } catch {
      // Hints only: lookups are complete without them, they just start from the clock.
    }
  }

  private table(name: string): string {
    return `${this.target.database}.${name}`;
  }

  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeErrorOf(error);
    }
  }

  private rows(query: string): Promise<Row[]> {
    return this.guard(async () => {
      const result = await this.client.query({
        query,
        format: 'JSONEachRow',
        clickhouse_settings: this.readSettings,
      });
      return result.json<Row>();
    });
  }

  insert(events: readonly StoredEvent[]): Promise<InsertOutcome> {
    return this.insertRows(events.map(toEventRow));
  }

  insertPacked(batches: readonly PackedRows[]): Promise<InsertOutcome> {
    return this.insertRows(batches.flatMap(unpackRows));
  }

  private async insertRows(rows: readonly EventRow[]): Promise<InsertOutcome> {
    if (rows.length === 0) return { inserted: 0, duplicates: 0 };
    const fresh = new Map<string, EventRow>();
    for (const row of rows) if (!fresh.has(row.eventId)) fresh.set(row.eventId, row);
    for (const id of await this.storedIds([...fresh.values()])) fresh.delete(id);
    if (fresh.size === 0) return { inserted: 0, duplicates: rows.length };
    const reservation = this.sequence.reserve(fresh.size);
    try {
      let seq = reservation.first;
      const values = [...fresh.values()].map((row) => insertRow(row, seq++));
      await this.guard(() =>
        this.client.insert({
          table: this.table('events'),
          values,
          format: 'JSONEachRow',
          clickhouse_settings: this.insertSettings,
        }),
      );
    } finally {
      reservation.release();
    }
    this.extent.inserted([...fresh.values()].map((row) => row.eventTimeMs));
    return { inserted: fresh.size, duplicates: rows.length - fresh.size };
  }

  /** Which of these events are stored already (a retried export), looked up within their time span. */
  private async storedIds(rows: readonly EventRow[]): Promise<string[]> {
    const found: string[] = [];
    for (let start = 0; start < rows.length; start += IDS_PER_CHECK) {
      const chunk = rows.slice(start, start + IDS_PER_CHECK);
      const times = chunk.map((row) => row.eventTimeMs);
      const stored = await this.rows(
        `SELECT DISTINCT event_id FROM ${this.table('events')}
         WHERE event_time_ms >= ${sqlInteger(Math.min(...times))} AND event_time_ms <= ${sqlInteger(Math.max(...times))}
           AND event_id IN ${sqlStringList(chunk.map((row) => row.eventId))}`,
      );
      found.push(...stored.map((row) => String(row.event_id)));
    }
    return found;
  }

  async lookup(request: LookupRequest): Promise<LookupPage> {
    const conditions = [filterToClickHouse(request.filter, this.queryForm)];
    let upperMs = request.filter.endTimeMs;
    if (request.cursor !== undefined) {
      const position = parseCursor(request.cursor);
      if (position === undefined) throw new InvalidCursorError('not a cursor of this store');
      conditions.push(`(event_time_ms, seq) < (${sqlInteger(position[0])}, ${sqlInteger(position[1])})`);
      upperMs = Math.min(upperMs ?? Infinity, position[0]);
    }
    const want = Math.trunc(request.limit) + 1;
    const keys: Row[] = [];
    // Newest first, window by window (time-windows.ts): a page of recent events reads only them.
    const windows = new LookupWindows(
      {
        ...(request.filter.startTimeMs === undefined ? {} : { lowerMs: request.filter.startTimeMs }),
        ...(upperMs === undefined ? {} : { upperMs }),
        hints: this.extent.hints(),
        nowMs: this.now(),
        indexed: this.textIndexed && usesTextIndex(request.filter.text),
      },
      want,
    );
    let window = windows.next(0);
    while (window !== undefined) {
      const conditionsInWindow = [...conditions, ...windowConditions(window)];
      keys.push(...(await this.pageKeys(conditionsInWindow, want - keys.length)));
      if (keys.length >= want) break;
      window = windows.next(keys.length);
    }
    this.extent.found(keys.map((key) => num(key.event_time_ms)));
    const records = await this.recordsByKey(keys.slice(0, request.limit));
    const found = keys.map((key) => ({
      time: num(key.event_time_ms),
      seq: num(key.first_seq),
      record: records.get(String(key.event_id)) ?? '',
    }));
    // A page ends at the limit, or earlier when its records reach the page's size budget.
    let size = 0;
    let chars = 0;
    let stoppedEarly = false;
    for (const row of found.slice(0, request.limit)) {
      const length = row.record.length;
      if (size > 0 && chars + length > PAGE_TEXT_CHARS) {
        stoppedEarly = true;
        break;
      }
      chars += length;
      size++;
    }
    const page: LookupPage = { records: found.slice(0, size).map((row) => row.record) };
    const last = found[size - 1];
    if ((stoppedEarly || found.length > request.limit) && last !== undefined) {
      page.cursor = `${last.time}:${last.seq}`;
    }
    return page;
  }

  /**
   * The newest `limit` events' keys where `conditions` hold. Two steps per page: these keys (small
   * columns, each event once), then the records by primary key; reading the record column for
   * every match is what costs (measured on 18.16 at 300k events: 416 ms in one step, ~50 ms in two).
   */
  private pageKeys(conditions: readonly string[], limit: number): Promise<Row[]> {
    // Copies of an event (a retry through two collectors) are folded by grouping the matches, not
    // by FINAL: 18.16 applies a filter after FINAL has merged every row in range, so FINAL costs
    // the range while grouping costs the matches (at 1M events, a rare resource name: 282 ms with
    // FINAL, 70 ms grouped; a one-minute window: the same). An event's position is its first
    // copy's seq, the row FINAL would keep.
    return this.rows(
      `SELECT event_time_ms, event_id, min(seq) AS first_seq FROM ${this.table('events')}
       WHERE ${conditions.join(' AND ')} GROUP BY event_time_ms, event_id
       ORDER BY event_time_ms DESC, first_seq DESC LIMIT ${sqlInteger(limit)}`,
    );
  }

  /** The records of these events, by event id (any stored copy: copies of an event are alike). */
  private async recordsByKey(keys: readonly Row[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const times = [...new Set(keys.map((key) => sqlInteger(num(key.event_time_ms))))];
    const rows = await this.rows(
      `SELECT event_id, record FROM ${this.table('events')}
       WHERE event_time_ms IN (${times.join(', ')}) AND event_id IN ${sqlStringList(keys.map((key) => String(key.event_id)))}
       LIMIT 1 BY event_id`,
    );
    return new Map(rows.map((row) => [String(row.event_id), String(row.record)]));
  }

  async getEvent(eventId: string): Promise<string | undefined> {
    const time = V7_ID.exec(eventId);
    const at =
      time === null ? '' : ` AND event_time_ms = ${sqlInteger(parseInt(`${time[1]}${time[2]}`, 16))}`;
    const rows = await this.rows(
      `SELECT record FROM ${this.table('events')} FINAL WHERE event_id = ${sqlString(eventId)}${at} LIMIT 1`,
    );
    const record = rows[0]?.record;
    return typeof record === 'string' ? record : undefined;
  }

  async committedRecords(afterSeq: number, limit: number, throughSeq?: number): Promise<CommittedRecord[]> {
    const through = Math.min(
      Math.trunc(throughSeq ?? Number.MAX_SAFE_INTEGER),
      this.sequence.visibleThrough(),
    );
    const rows = await this.rows(
      `SELECT seq, event_id, event_time_ms, record FROM ${this.table('events')} FINAL
       WHERE seq > ${sqlInteger(Math.max(0, Math.trunc(afterSeq)))} AND seq <= ${sqlInteger(Math.max(0, through))}
       ORDER BY seq LIMIT ${sqlInteger(Math.trunc(limit))}`,
    );
    return rows.map((row) => ({
      seq: num(row.seq),
      eventId: String(row.event_id),
      eventTimeMs: num(row.event_time_ms),
      record: String(row.record),
    }));
  }

  async distinctValues(field: LookupField, filter: EventFilter, limit: number): Promise<ValueCount[]> {
    const where = filterToClickHouse(filter, this.queryForm);
    const inner = isResourceField(field)
      ? `SELECT arrayJoin(${RESOURCE_ARRAYS[field]}) AS value FROM ${this.table('events')} FINAL WHERE ${where}`
      : `SELECT ${field === 'readOnly' ? 'toString(read_only)' : columnOf(field)} AS value FROM ${this.table('events')} FINAL WHERE ${where}`;
    const rows = await this.rows(
      `SELECT value, count() AS n FROM (${inner})
       WHERE isNotNull(value) AND value != ''
       GROUP BY value ORDER BY n DESC, value LIMIT ${sqlInteger(Math.trunc(limit))}`,
    );
    return rows.map((row) => ({
      value: field === 'readOnly' ? String(String(row.value) === '1') : String(row.value),
      count: num(row.n),
    }));
  }

  async callCounts(
    filter: EventFilter,
    stepMs: number,
    grouping?: { groupBy: LookupField; maxGroups: number },
  ): Promise<CallCount[]> {
    const where = filterToClickHouse(filter, this.queryForm);
    const step = sqlInteger(Math.max(1, Math.trunc(stepMs)));
    const bucket = `intDiv(event_time_ms, ${step}) * ${step}`;
    const events = `${this.table('events')} FINAL`;
    if (grouping === undefined) {
      const rows = await this.rows(
        `SELECT ${bucket} AS bucket, count() AS n FROM ${events} WHERE ${where} GROUP BY bucket ORDER BY bucket`,
      );
      return rows.map((row) => ({ bucketMs: num(row.bucket), count: num(row.n) }));
    }
    const group = groupExpression(grouping.groupBy);
    // The busiest groups first, then buckets for those alone (a group per event stays bounded).
    const rows = await this.rows(
      `SELECT bucket, grp, count() AS n FROM (SELECT ${bucket} AS bucket, ${group} AS grp FROM ${events} WHERE ${where})
       WHERE grp IN (SELECT grp FROM (SELECT ${group} AS grp, count() AS c FROM ${events} WHERE ${where}
         GROUP BY grp ORDER BY c DESC, grp LIMIT ${sqlInteger(Math.trunc(grouping.maxGroups))}))
       GROUP BY bucket, grp ORDER BY bucket`,
    );
    return rows.map((row) => ({
      bucketMs: num(row.bucket),
      group:
        grouping.groupBy === 'readOnly' && row.grp !== '' ? String(String(row.grp) === '1') : String(row.grp),
      count: num(row.n),
    }));
  }

  async apiSeries(): Promise<ApiSeries[]> {
    const rows = await this.rows(
      `SELECT event_source, event_name, min(minute) AS first_minute FROM ${this.table('minute_counts')}
       GROUP BY event_source, event_name`,
    );
    return rows.map((row) => ({
      eventSource: String(row.event_source),
      eventName: String(row.event_name),
      firstMinute: num(row.first_minute),
    }));
  }

  async minuteCounts(ranges: readonly MinuteRange[]): Promise<MinuteCount[]> {
    if (ranges.length === 0) return [];
    // Summed at read time: SummingMergeTree adds rows up only when it merges parts.
    const select = (range: MinuteRange): string =>
      `SELECT minute, event_source, event_name, sum(write_calls) AS w, sum(read_calls) AS r, sum(errors) AS e
       FROM ${this.table('minute_counts')}
       WHERE minute >= ${sqlInteger(Math.trunc(range.from))} AND minute <= ${sqlInteger(Math.trunc(range.to))}
       GROUP BY minute, event_source, event_name`;
    const rows = await this.rows(`SELECT * FROM (${ranges.map(select).join(' UNION ALL ')})`);
    return rows.map((row) => ({
      minute: num(row.minute),
      eventSource: String(row.event_source),
      eventName: String(row.event_name),
      writeCalls: num(row.w),
      readCalls: num(row.r),
      errors: num(row.e),
    }));
  }

  async attributionCounts(query: AttributionQuery): Promise<AttributionCounts> {
    const conditions = [
      `event_name = ${sqlString(query.eventName)}`,
      `event_source = ${sqlString(query.eventSource)}`,
      `event_time_ms >= ${sqlInteger(Math.trunc(query.fromMs))}`,
      `event_time_ms < ${sqlInteger(Math.trunc(query.toMs))}`,
      `event_category != ${sqlString(EVENT_CATEGORY_INSIGHT)}`,
    ];
    if (query.writeCallsOnly) conditions.push('read_only = 0');
    if (query.errorsOnly) conditions.push('isNotNull(error_code)');
    // The API's newest calls in the range, then a small GROUP BY per attribute over that sample.
    const sample = `SELECT event_time_ms, ifNull(user_arn, username) AS arn, user_agent, error_code
      FROM ${this.table('events')} FINAL WHERE ${conditions.join(' AND ')}
      ORDER BY event_time_ms DESC LIMIT ${sqlInteger(Math.trunc(query.maxEvents))}`;
    const top = async (column: string): Promise<ValueCount[]> =>
      (
        await this.rows(
          `SELECT ${column} AS value, count() AS n FROM (${sample}) WHERE isNotNull(value)
           GROUP BY value ORDER BY n DESC, value LIMIT ${sqlInteger(Math.trunc(query.top))}`,
        )
      ).map((row) => ({ value: String(row.value), count: num(row.n) }));
    const [summary, userIdentityArn, userAgent, errorCode] = await Promise.all([
      this.rows(`SELECT count() AS n, min(event_time_ms) AS oldest FROM (${sample})`),
      top('arn'),
      top('user_agent'),
      top('error_code'),
    ]);
    const events = num(summary[0]?.n ?? 0);
    return {
      events,
      oldestMs: events === 0 ? undefined : num(summary[0]?.oldest),
      top: { userIdentityArn, userAgent, errorCode },
    };
  }

  async readState(name: string): Promise<string | undefined> {
    const rows = await this.rows(
      `SELECT argMax(value, version) AS value, count() AS n FROM ${this.table('store_state')}
       WHERE name = ${sqlString(name)}`,
    );
    return num(rows[0]?.n ?? 0) === 0 ? undefined : String(rows[0]?.value);
  }

  async writeState(name: string, value: string): Promise<void> {
    // The latest write wins (argMax on read); versions rise within a process and follow the clock across them.
    this.stateVersion = Math.max(this.stateVersion + 1, this.now() * 1000);
    await this.guard(() =>
      this.client.insert({
        table: this.table('store_state'),
        values: [{ name, value: wellFormed(value), version: this.stateVersion }],
        format: 'JSONEachRow',
        clickhouse_settings: this.insertSettings,
      }),
    );
  }

  /**
   * Every collector must agree on a secret without transactions: each inserts a candidate when it
   * finds none, and all take the oldest candidate (ties by value), read once it is older than
   * SECRET_SETTLE_MS. A candidate lands within that of its timestamp (it is taken just before the
   * insert), so by then every candidate older than the one read is visible, and collectors that
   * start the very first time together agree (with clocks within SECRET_SETTLE_MS of each other).
   */
  async secret(name: string): Promise<Buffer> {
    const oldest = async (): Promise<{ value: Buffer; createdMs: number } | undefined> => {
      const rows = await this.rows(
        `SELECT value, created_ms FROM ${this.table('store_secrets')} WHERE name = ${sqlString(name)}
         ORDER BY created_ms, value LIMIT 1`,
      );
      const row = rows[0];
      return row === undefined
        ? undefined
        : { value: Buffer.from(String(row.value), 'hex'), createdMs: num(row.created_ms) };
    };
    let found = await oldest();
    if (found === undefined) {
      await this.guard(() =>
        this.client.insert({
          table: this.table('store_secrets'),
          values: [{ name, value: randomBytes(32).toString('hex'), created_ms: this.now() }],
          format: 'JSONEachRow',
          clickhouse_settings: this.insertSettings,
        }),
      );
      found = await oldest();
      if (found === undefined) throw new Error(`the secret ${name} was written but cannot be read back`);
    }
    const settlesInMs = found.createdMs + SECRET_SETTLE_MS - this.now();
    if (settlesInMs <= 0) return found.value;
    await new Promise((resolveSettle) => setTimeout(resolveSettle, settlesInMs));
    return (await oldest())?.value ?? found.value;
  }

  /**
   * Retention drops whole months (18.16 has no TTL, and a DROP PARTITION costs nothing however
   * many rows it holds): a month goes once all of it is older than the cutoff, so events live
   * between the retention period and a month longer. maxEvents does not apply: a month goes at once.
   */
  async deleteOlderThan(cutoffMs: number, _maxEvents?: number): Promise<number> {
    const cutoff = new Date(cutoffMs);
    const monthStart = Date.UTC(cutoff.getUTCFullYear(), cutoff.getUTCMonth(), 1);
    const months = await this.rows(
      `SELECT toYYYYMM(toDateTime(intDiv(event_time_ms, 1000), 'UTC')) AS month, count() AS n
       FROM ${this.table('events')} WHERE event_time_ms < ${sqlInteger(monthStart)} GROUP BY month ORDER BY month`,
    );
    const tables = partitionedTables(this.target);
    let deleted = 0;
    for (const row of months) {
      const month = sqlInteger(num(row.month));
      for (const table of [tables.events, tables.minuteCounts]) {
        await this.guard(() =>
          this.client.command({ query: `ALTER TABLE ${table}${tables.onCluster} DROP PARTITION ${month}` }),
        );
      }
      deleted += num(row.n);
    }
    return deleted;
  }

  /** A lease on a job among the collectors sharing this database (clickhouse-lease.ts). */
  lease(name: string, holder: string, options: LeaseOptions): ClickHouseLease {
    return new ClickHouseLease(
      {
        rows: (query) => this.rows(query),
        insert: (table, values) =>
          this.guard(async () => {
            await this.client.insert({
              table,
              values,
              format: 'JSONEachRow',
              clickhouse_settings: this.insertSettings,
            });
          }),
      },
      this.table('leases'),
      name,
      holder,
      options,
    );
  }

  async ping(): Promise<void> {
    await this.rows('SELECT 1 AS ok');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A connection passed in (shared by several stores) stays open for its owner to close.
    if (this.ownsConnection) await this.client.close();
  }
}

/** Whether the text index can answer free text `text` (a shorter term has no n-gram in it). */
function usesTextIndex(text: string | undefined): boolean {
  if (text === undefined) return false;
  let characters = 0;
  for (const _ of text) if (++characters >= TEXT_INDEX_MIN_TERM) return true;
  return false;
}

function windowConditions(window: TimeWindow): string[] {
  return [
    ...(window.fromMs === undefined ? [] : [`event_time_ms >= ${sqlInteger(window.fromMs)}`]),
    ...(window.toMs === undefined ? [] : [`event_time_ms < ${sqlInteger(window.toMs)}`]),
  ];
}

function parseCursor(cursor: string): [number, number] | undefined {
  const match = /^(-?\d{1,16}):(\d{1,16})$/.exec(cursor);
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2])];
}

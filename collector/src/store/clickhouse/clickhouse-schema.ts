/*
 * The ClickHouse schema, as DDL the collector applies itself (versioned, idempotent) or prints for
 * a DBA (`crumbtrail-collector --print-clickhouse-ddl`). Every statement runs on ClickHouse 18.16
 * (Debian's) and on current releases: no TTL, no skip indexes, no codecs, no LowCardinality; the
 * exception, skip indexes for lookups and free text, are added only on 26.2+ (searchIndexDdl).
 *
 * - events: one row per audit event. ReplacingMergeTree keyed (ORDER BY) on (event time, event id):
 *   the id is deterministic and an event's time never changes, so a retried export, even through
 *   another collector, collapses into one row; reads use FINAL. keep_first makes the merge keep
 *   the FIRST copy (highest keep_first = lowest commit seq), so a commit sequence a trail has
 *   delivered never reappears later under a new number. Partitioned by month of the event time:
 *   retention drops whole partitions (18.16 has no TTL). The record is stored as sent.
 * - minute_counts: per-minute, per-API call counts for Insights, filled by a materialized view
 *   from every insert into events, in the same INSERT; SummingMergeTree, so the rows of several
 *   collectors (and several inserts) add up.
 * - store_state / store_secrets: small named values (Insights progress, the paging-token key).
 * - leases (version 2): heartbeats that elect one collector for a job (clickhouse-lease.ts).
 *
 * With a cluster name, the tables are ReplicatedMergeTree ones (`<name>_local`, on every replica,
 * ZooKeeper path per shard) created ON CLUSTER, and `<name>` is a Distributed table over them,
 * sharded by event id (a retried event lands on the shard that has it, so FINAL still sees both
 * copies); the collector reads and writes only the Distributed names.
 */

export interface SchemaTarget {
  database: string;
  /** A cluster from the servers' remote_servers: replicated tables plus Distributed ones. */
  cluster?: string;
}

export const CLICKHOUSE_SCHEMA_VERSION = 2;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Database and cluster names go into DDL as identifiers: only plain names are accepted. */
export function checkIdentifier(kind: string, name: string): string {
  if (!NAME.test(name))
    throw new Error(`${kind} "${name}": letters, digits and _ only, not starting with a digit`);
  return name;
}

interface TableSpec {
  name: string;
  columns: string;
  /** MergeTree family engine name without the Replicated prefix, and its arguments. */
  engine: string;
  engineArgs: string[];
  partitionBy?: string;
  orderBy: string;
  /** Sharding key of the Distributed table (cluster only). */
  shardBy: string;
  /** MergeTree settings, fixed when the table is created. */
  settings?: string;
}

const EVENTS: TableSpec = {
  name: 'events',
  columns: `
  event_time_ms  Int64,
  event_id       String,
  seq            UInt64,
  keep_first     UInt64,
  event_name     String,
  event_source   String,
  username       Nullable(String),
  access_key_id  Nullable(String),
  read_only      UInt8,
  error_code     Nullable(String),
  source_ip      Nullable(String),
  event_category String,
  user_arn       Nullable(String),
  user_agent     Nullable(String),
  resource_types Array(String),
  resource_names Array(String),
  record         String`,
  engine: 'ReplacingMergeTree',
  engineArgs: ['keep_first'],
  partitionBy: "toYYYYMM(toDateTime(intDiv(event_time_ms, 1000), 'UTC'))",
  orderBy: '(event_time_ms, event_id)',
  shardBy: 'cityHash64(event_id)',
  // Granules of 1,024 rows, not 8,192: a record is ~2 KB, and ClickHouse reads whole granules, so a
  // lookup fetching one record, or a term whose matches are spread thin, decompresses 2 MB of
  // records per row it wants rather than 10-16 MB. On 26.7 at 10M events a rare free-text term went
  // from 67 / 86 to 45 / 56 ms p50 / p95, and on 18.16 at 1M scans of free text and rare values
  // took 0.4-0.65× the time; no lookup got slower, for 5× the marks (8× on 18.16, which has no
  // adaptive granules; BENCHMARKS.md). A row count, not index_granularity_bytes, which 18.16 lacks.
  // A table's granularity is fixed when it is created: databases made before keep theirs.
  settings: 'index_granularity = 1024',
};

const MINUTE_COUNTS: TableSpec = {
  name: 'minute_counts',
  columns: `
  minute       Int64,
  event_source String,
  event_name   String,
  write_calls  UInt64,
  read_calls   UInt64,
  errors       UInt64`,
  engine: 'SummingMergeTree',
  engineArgs: [],
  partitionBy: "toYYYYMM(toDateTime(minute * 60, 'UTC'))",
  orderBy: '(minute, event_source, event_name)',
  shardBy: 'cityHash64(event_source, event_name)',
};

const STORE_STATE: TableSpec = {
  name: 'store_state',
  columns: `
  name    String,
  value   String,
  version UInt64`,
  engine: 'ReplacingMergeTree',
  engineArgs: ['version'],
  orderBy: 'name',
  shardBy: 'cityHash64(name)',
};

const STORE_SECRETS: TableSpec = {
  name: 'store_secrets',
  columns: `
  name       String,
  value      String,
  created_ms Int64`,
  engine: 'MergeTree',
  engineArgs: [],
  orderBy: '(name, created_ms, value)',
  shardBy: 'cityHash64(name)',
};

/** Heartbeats of leases (clickhouse-lease.ts): who holds a job among several collectors, by term. */
const LEASES: TableSpec = {
  name: 'leases',
  columns: `
  name   String,
  term   UInt64,
  holder String,
  at_ms  Int64`,
  engine: 'MergeTree',
  engineArgs: [],
  orderBy: '(name, term, at_ms, holder)',
  shardBy: 'cityHash64(name)',
};

const SCHEMA_MIGRATIONS: TableSpec = {
  name: 'schema_migrations',
  columns: `
  version    UInt32,
  applied_ms Int64`,
  engine: 'MergeTree',
  engineArgs: [],
  orderBy: 'version',
  shardBy: 'version',
};

/** The table each is stored in: itself, or `<name>_local` under a Distributed `<name>`. */
function storedTable(target: SchemaTarget, name: string): string {
  return target.cluster === undefined ? `${target.database}.${name}` : `${target.database}.${name}_local`;
}

function onCluster(target: SchemaTarget): string {
  return target.cluster === undefined ? '' : ` ON CLUSTER ${target.cluster}`;
}

function engineOf(target: SchemaTarget, spec: TableSpec): string {
  if (target.cluster === undefined) {
    return `${spec.engine}${spec.engineArgs.length > 0 ? `(${spec.engineArgs.join(', ')})` : ''}`;
  }
  // {shard} and {replica} come from each server's <macros>.
  const path = `'/clickhouse/tables/{shard}/${target.database}/${spec.name}_local'`;
  return `Replicated${spec.engine}(${[path, "'{replica}'", ...spec.engineArgs].join(', ')})`;
}

function createTable(target: SchemaTarget, spec: TableSpec): string[] {
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${storedTable(target, spec.name)}${onCluster(target)} (${spec.columns}
) ENGINE = ${engineOf(target, spec)}${spec.partitionBy === undefined ? '' : `\nPARTITION BY ${spec.partitionBy}`}
ORDER BY ${spec.orderBy}${spec.settings === undefined ? '' : `\nSETTINGS ${spec.settings}`}`,
  ];
  if (target.cluster !== undefined) {
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${target.database}.${spec.name}${onCluster(target)} AS ${storedTable(target, spec.name)}
ENGINE = Distributed(${target.cluster}, ${target.database}, ${spec.name}_local, ${spec.shardBy})`,
    );
  }
  return statements;
}

/** Insight events are not API calls: they are not counted. */
function minuteCountsView(target: SchemaTarget): string {
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${target.database}.minute_counts_mv${onCluster(target)}
TO ${storedTable(target, 'minute_counts')} AS
SELECT intDiv(event_time_ms, 60000) AS minute, event_source, event_name,
  toUInt64(sum(read_only = 0)) AS write_calls, toUInt64(sum(read_only = 1)) AS read_calls,
  toUInt64(sum(isNotNull(error_code))) AS errors
FROM ${storedTable(target, 'events')}
WHERE event_category != 'Insight'
GROUP BY minute, event_source, event_name`;
}

/** The bookkeeping table, created before any migration runs. */
export function migrationsTableDdl(target: SchemaTarget): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${target.database}${onCluster(target)}`,
    ...createTable(target, SCHEMA_MIGRATIONS),
  ];
}

/** Migrations by version: each statement idempotent, so two collectors starting at once are safe. */
export function migrations(target: SchemaTarget): Map<number, string[]> {
  return new Map([
    [
      1,
      [
        ...createTable(target, EVENTS),
        ...createTable(target, MINUTE_COUNTS),
        minuteCountsView(target),
        ...createTable(target, STORE_STATE),
        ...createTable(target, STORE_SECRETS),
      ],
    ],
    // Version 2: leases, so one collector of several runs a job (Insights) at a time.
    [2, createTable(target, LEASES)],
  ]);
}

/** Text indexes are generally available from ClickHouse 26.2 (version() as the server reports it). */
export function supportsTextIndex(version: string): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  const major = Number(match[1]);
  return major > 26 || (major === 26 && Number(match[2]) >= 2);
}

/**
 * Bloom filters on the columns a lookup asks one rare value of ("everything this key, address,
 * user or resource did"): a granule without the value is skipped (at 1M events on 26.7 a resource
 * name 108 → 29 ms; small, ~1 B/event). Values in nearly every granule gain nothing.
 */
const LOOKUP_BLOOM_FILTERS: readonly [name: string, column: string][] = [
  ['lookup_username', 'username'],
  ['lookup_access_key_id', 'access_key_id'],
  ['lookup_source_ip', 'source_ip'],
  ['lookup_resource_names', 'resource_names'],
];

/**
 * Free text's index: the 4-grams of the lowered record (ClickHouse's ngrams tokenizer), so a LIKE on
 * `lowerUTF8(record)` reads only the granules holding every 4-gram of the needle. Four, not three:
 * a term's trigrams are each in most records far sooner than its 4-grams (at 10M events on 26.7, a
 * rare request-id prefix read 2.6M rows through trigrams, 40k through 4-grams: 398 → 38 ms p50),
 * for a fifth more index and about half the index build rate. Terms of fewer than
 * TEXT_INDEX_MIN_TERM characters have no 4-gram: they are answered by a scan.
 */
export const TEXT_INDEX_NAME = 'record_4grams';
export const TEXT_INDEX_MIN_TERM = 4;
/** The trigram index of earlier versions, replaced by the one above where it exists. */
const SUPERSEDED_TEXT_INDEX = 'record_text';

/**
 * The skip indexes of servers that have text indexes (26.2+), which 18.16 has none of: the bloom
 * filters above and, unless `textIndex: false`, free text's (about as large as the table; at 1M
 * events on 26.7 an absent term 20 ms instead of a ~0.4 s scan). Not a numbered migration: it
 * depends on the server, which may be upgraded under an existing database. Parts written before it
 * are scanned until merged, or at once after `ALTER TABLE … MATERIALIZE INDEX <name>`.
 *
 * With the indexes the table has (`existing`), only what is missing, and undefined when nothing is:
 * even a no-op ALTER of a MergeTree table waits for the merges running on it, and a merge of large
 * parts rebuilds their text index for minutes (a collector opening a 100M-event table on 26.7 had
 * not started after 8 minutes). Without `existing` (a DBA's script), every clause, IF [NOT] EXISTS.
 */
export function searchIndexDdl(target: SchemaTarget, options: { textIndex: boolean }): string;
export function searchIndexDdl(
  target: SchemaTarget,
  options: { textIndex: boolean },
  existing: ReadonlySet<string>,
): string | undefined;
export function searchIndexDdl(
  target: SchemaTarget,
  options: { textIndex: boolean },
  existing?: ReadonlySet<string>,
): string | undefined {
  const missing = (name: string): boolean => existing === undefined || !existing.has(name);
  const clauses = LOOKUP_BLOOM_FILTERS.filter(([name]) => missing(name)).map(
    ([name, column]) => `ADD INDEX IF NOT EXISTS ${name} ${column} TYPE bloom_filter GRANULARITY 1`,
  );
  if (options.textIndex) {
    if (existing === undefined || existing.has(SUPERSEDED_TEXT_INDEX)) {
      clauses.push(`DROP INDEX IF EXISTS ${SUPERSEDED_TEXT_INDEX}`);
    }
    if (missing(TEXT_INDEX_NAME)) {
      clauses.push(
        `ADD INDEX IF NOT EXISTS ${TEXT_INDEX_NAME} lowerUTF8(record) TYPE text(tokenizer = ngrams(${TEXT_INDEX_MIN_TERM}))`,
      );
    }
  }
  if (clauses.length === 0) return undefined;
  return `ALTER TABLE ${storedTable(target, 'events')}${onCluster(target)}\n${clauses.join(',\n')}`;
}

/** Every statement, in order, for a DBA to run (the collector then finds the schema current). */
export function fullDdl(target: SchemaTarget): string {
  const statements = [...migrationsTableDdl(target), ...[...migrations(target).values()].flat()];
  statements.push(
    `INSERT INTO ${target.database}.schema_migrations (version, applied_ms) VALUES (${CLICKHOUSE_SCHEMA_VERSION}, 0)`,
  );
  // Commented out, so the whole text runs on any version; the collector adds them itself on 26.2+.
  const skipIndexes = searchIndexDdl(target, { textIndex: true })
    .split('\n')
    .map((line) => `-- ${line}`)
    .join('\n');
  return `${statements.map((statement) => `${statement};`).join('\n\n')}\n\n-- ClickHouse 26.2 or newer: skip indexes for lookups and free text (the collector adds them when it starts there).\n${skipIndexes};\n`;
}

/** The table retention drops partitions of (the local one on a cluster). */
export function partitionedTables(target: SchemaTarget): {
  events: string;
  minuteCounts: string;
  onCluster: string;
} {
  return {
    events: storedTable(target, 'events'),
    minuteCounts: storedTable(target, 'minute_counts'),
    onCluster: onCluster(target),
  };
}

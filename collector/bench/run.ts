/*
 * `npm run bench`: ingest throughput (HTTP vs in-process limit), visibility latency, lookup
 * latency at 1M events, peak memory, Insights detection quality. Every figure is printed beside a
 * baseline measured in the same run, as a ratio, because these machines are shared and noisy:
 * compare ratios, not runs.
 *
 * BENCH_SPANS (default 102,400) and BENCH_LOOKUP_EVENTS (default 1,000,000) scale the run;
 * BENCH_INSIGHT_SERIES (default 60) and BENCH_INSIGHT_DAYS (default 28) scale the Insights data set;
 * BENCH_TRAIL_EVENTS (default 200,000) the trail delivery and validation run;
 * BENCH_CLICKHOUSE_EVENTS (default 1,000,000) the ClickHouse lookup store, BENCH_CHDB_EVENTS
 * (default 1,000,000) the embedded current ClickHouse one (BENCH_CHDB_COMPARE_FILL=0 skips filling
 * the same events again without the text index, for large runs; BENCH_CHDB_GENERATED, a divisor of
 * BENCH_CHDB_EVENTS, generates only that many through the store and copies them inside ClickHouse,
 * for 100M: scaled-copies.ts).
 * BENCH_LOOKUP_RUNS (default 40) the timed runs per lookup case in every lookup section.
 * BENCH_SECTIONS=clickhouse,lookup (a comma-separated subset of SECTIONS) runs only those sections.
 */
import {
  httpSpansPerSecond,
  inProcessSpansPerSecond,
  prepareBatches,
  visibilityLatency,
} from './ingest-bench.js';
import type { Encoding } from './ingest-bench.js';
import { measureDecoding } from './decode-bench.js';
import { fillStore, measureLookups, removeStore } from './lookup-bench.js';
import type { LookupResult } from './lookup-bench.js';
import {
  FILL_ROWS_PER_INSERT,
  measureClickHouseIngest,
  measureClickHouseLookups,
  withClickHouseServer,
} from './clickhouse-bench.js';
import { measureChdb } from './chdb-bench.js';
import { insightQualityRows, insightsBenchOptions } from './insights-bench.js';
import { measureTrail } from './trail-bench.js';
import type { ResultRow } from './statistics.js';
import { formatNumber, printTable } from './statistics.js';

const spans = Number(process.env.BENCH_SPANS ?? 102_400);
const lookupEvents = Number(process.env.BENCH_LOOKUP_EVENTS ?? 1_000_000);
const trailEvents = Number(process.env.BENCH_TRAIL_EVENTS ?? 200_000);
const clickhouseEvents = Number(process.env.BENCH_CLICKHOUSE_EVENTS ?? 1_000_000);
const chdbEvents = Number(process.env.BENCH_CHDB_EVENTS ?? 1_000_000);
const chdbGenerated = Number(process.env.BENCH_CHDB_GENERATED ?? chdbEvents);
/** Timed runs per lookup case (after 3 warm-up runs). */
const lookupRuns = Number(process.env.BENCH_LOOKUP_RUNS ?? 40);
const SECTIONS = [
  'decode',
  'ingest',
  'visibility',
  'lookup',
  'trail',
  'insights',
  'clickhouse',
  'chdb',
] as const;
type Section = (typeof SECTIONS)[number];
const selected = new Set(
  (process.env.BENCH_SECTIONS ?? SECTIONS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0),
);
for (const name of selected) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`BENCH_SECTIONS: unknown section ${name} (sections: ${SECTIONS.join(', ')})`);
}
const runs = (section: Section): boolean => selected.has(section);
const rows: ResultRow[] = [];
const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

/** The export requests, made once for the sections that send them. */
function prepare(): ReturnType<typeof prepareBatches> {
  log(`preparing ${formatNumber(spans)} spans in 512-span export requests…`);
  return prepareBatches(spans, 1);
}
const batches = runs('decode') || runs('ingest') || runs('clickhouse') ? prepare() : undefined;

function lookupRow(section: string, result: LookupResult, roundTripP50Ms: number, target: string): ResultRow {
  return {
    section,
    measure: `${result.name}: p50 / p95 (${result.returned} rows)`,
    value: `${formatNumber(result.p50Ms, 1)} / ${formatNumber(result.p95Ms, 1)} ms`,
    baseline: `${formatNumber(roundTripP50Ms, 2)} ms /healthz`,
    ratio: `${formatNumber(result.p95Ms / roundTripP50Ms, 1)}×`,
    target,
  };
}

if (runs('decode') && batches !== undefined) {
  const decoding = measureDecoding(batches);
  for (const [encoding, micros] of [
    ['protobuf', decoding.protobufMicros],
    ['JSON', decoding.jsonMicros],
  ] as const) {
    rows.push({
      section: 'decode',
      measure: `${encoding} decode, µs/span`,
      value: formatNumber(micros, 2),
      baseline: `${formatNumber(decoding.jsonParseOnlyMicros, 2)} JSON.parse only`,
      ratio: `${formatNumber(micros / decoding.jsonParseOnlyMicros, 2)}×`,
      target: '',
    });
  }
}

if (runs('ingest') && batches !== undefined) {
  const TARGETS: Record<Encoding, string> = {
    protobuf: '≥ 30,000/s and ≥ 50%',
    json: '≥ 20,000/s and ≥ 50%',
  };
  for (const encoding of ['protobuf', 'json'] as const) {
    log(`ingest ${encoding}: in-process limit…`);
    const limit = inProcessSpansPerSecond(spans, 1, encoding);
    log(`ingest ${encoding}: over HTTP…`);
    const http = await httpSpansPerSecond(batches, encoding);
    log(`ingest ${encoding}: over HTTP, decoded on the main thread…`);
    const mainThread = await httpSpansPerSecond(batches, encoding, 0);
    rows.push({
      section: 'ingest',
      measure: `${encoding} spans/s over HTTP (${http.retries} retries)`,
      value: formatNumber(http.spansPerSecond),
      baseline: `${formatNumber(limit)} in-process`,
      ratio: `${formatNumber((http.spansPerSecond / limit) * 100)}%`,
      target: TARGETS[encoding],
    });
    rows.push({
      section: 'ingest',
      measure: `${encoding} spans/s over HTTP, ingest threads vs main thread`,
      value: formatNumber(http.spansPerSecond),
      baseline: `${formatNumber(mainThread.spansPerSecond)} --ingest-threads 0`,
      ratio: `${formatNumber(http.spansPerSecond / mainThread.spansPerSecond, 2)}×`,
      target: '',
    });
    for (const [name, value, onMain] of [
      ['p50', http.healthzBusyP50Ms, mainThread.healthzBusyP50Ms],
      ['p99', http.healthzBusyP99Ms, mainThread.healthzBusyP99Ms],
    ] as const) {
      rows.push({
        section: 'responsiveness',
        measure: `/healthz ${name} during ${encoding} ingest`,
        value: `${formatNumber(value, 1)} ms`,
        baseline: `${formatNumber(http.healthzIdleP50Ms, 2)} ms idle p50`,
        ratio: `${formatNumber(value / http.healthzIdleP50Ms, 1)}×`,
        target: '',
      });
      rows.push({
        section: 'responsiveness',
        measure: `/healthz ${name} during ${encoding} ingest, ingest threads vs main thread`,
        value: `${formatNumber(value, 1)} ms`,
        baseline: `${formatNumber(onMain, 1)} ms --ingest-threads 0`,
        ratio: `${formatNumber(value / onMain, 2)}×`,
        target: '',
      });
    }
    rows.push({
      section: 'memory',
      measure: `collector peak RSS (${encoding} ingest)`,
      value: `${formatNumber(http.peakRssMiB)} MiB`,
      baseline: '',
      ratio: '',
      target: '',
    });
  }
}

if (runs('visibility')) {
  log('visibility latency…');
  const visibility = await visibilityLatency(300);
  rows.push({
    section: 'visibility',
    measure: 'export → returned by /api/v1/events p50',
    value: `${formatNumber(visibility.p50Ms, 1)} ms`,
    baseline: `${formatNumber(visibility.roundTripP50Ms, 2)} ms /healthz`,
    ratio: `${formatNumber(visibility.p50Ms / visibility.roundTripP50Ms, 1)}×`,
    target: '',
  });
  rows.push({
    section: 'visibility',
    measure: 'export → returned by /api/v1/events p99',
    value: `${formatNumber(visibility.p99Ms, 1)} ms`,
    baseline: `${formatNumber(visibility.roundTripP50Ms, 2)} ms /healthz`,
    ratio: `${formatNumber(visibility.p99Ms / visibility.roundTripP50Ms, 1)}×`,
    target: '≤ 1,000 ms',
  });
}

/** SQLite's bytes per event in this run, for the ClickHouse section's comparison. */
let sqlite: { bytesPerEvent: number; events: number; withTextIndex: boolean } | undefined;
if (runs('lookup')) {
  log(`filling a store with ${formatNumber(lookupEvents)} events…`);
  const filled = await fillStore(lookupEvents);
  rows.push({
    section: 'store',
    measure: `bulk fill, ${formatNumber(lookupEvents)} events (map + insert)`,
    value: `${formatNumber(filled.eventsPerSecond)} events/s`,
    baseline: '',
    ratio: '',
    target: '',
  });
  rows.push({
    section: 'store',
    measure: 'free-text index build (writer, when idle)',
    value: `${formatNumber(filled.indexedPerSecond)} events/s`,
    baseline: `${formatNumber(filled.eventsPerSecond)} events/s fill`,
    ratio: `${formatNumber(filled.indexedPerSecond / filled.eventsPerSecond, 2)}×`,
    target: '',
  });
  rows.push({
    section: 'store',
    measure: 'database file size (with the free-text index)',
    value: `${formatNumber(filled.megabytes)} MiB`,
    baseline: `${formatNumber((filled.megabytes * 1024 * 1024) / lookupEvents)} B/event`,
    ratio: '',
    target: '',
  });
  log('lookups…');
  const lookups = await measureLookups(filled.path, lookupRuns);
  for (const result of lookups.results) {
    rows.push(
      lookupRow(
        `lookup @${formatNumber(lookupEvents / 1e6, 1)}M`,
        result,
        lookups.roundTripP50Ms,
        'p95 ≤ 50 ms',
      ),
    );
  }
  removeStore(filled.path);
  sqlite = {
    bytesPerEvent: (filled.megabytes * 1024 * 1024) / lookupEvents,
    events: lookupEvents,
    withTextIndex: true,
  };
}

if (runs('trail')) {
  log(`trail: delivering and validating ${formatNumber(trailEvents)} events…`);
  const trailStore = await fillStore(trailEvents, false);
  const trail = await measureTrail(trailStore.path, trailEvents);
  removeStore(trailStore.path);
  rows.push({
    section: 'trail',
    measure: `delivery into ${formatNumber(trail.logFiles)} log files + digest, events/s`,
    value: formatNumber(trail.deliveredPerSecond),
    baseline: `${formatNumber(trail.floorPerSecond)} read + gzip + hash only`,
    ratio: `${formatNumber((trail.deliveredPerSecond / trail.floorPerSecond) * 100)}%`,
    target: '',
  });
  rows.push({
    section: 'trail',
    measure: 'validate-logs --db, events/s',
    value: formatNumber(trail.validatedPerSecond),
    baseline: `${formatNumber(trail.deliveredPerSecond)} delivery`,
    ratio: `${formatNumber(trail.validatedPerSecond / trail.deliveredPerSecond, 2)}×`,
    target: '',
  });
  rows.push({
    section: 'trail',
    measure: 'archive size',
    value: `${formatNumber(trail.archiveBytesPerEvent)} B/event`,
    baseline: `${formatNumber((trailStore.megabytes * 1024 * 1024) / trailEvents)} B/event in SQLite`,
    ratio: `${formatNumber((trail.archiveBytesPerEvent / ((trailStore.megabytes * 1024 * 1024) / trailEvents)) * 100)}%`,
    target: '',
  });
}

if (runs('insights')) {
  rows.push(...insightQualityRows(insightsBenchOptions(), log));
}

if (runs('clickhouse') && batches !== undefined) rows.push(...(await clickHouseRows(batches)));

if (runs('chdb')) rows.push(...(await chdbRows()));

console.log('');
printTable(rows);

/**
 * The ClickHouse section. Its SQLite comparison is the lookup section's store when that ran;
 * otherwise a SQLite store of the same workload is filled here (at most BENCH_LOOKUP_EVENTS events:
 * SQLite's bytes per event do not depend on the count).
 */
async function clickHouseRows(requests: ReturnType<typeof prepareBatches>): Promise<ResultRow[]> {
  const section = 'clickhouse';
  const result: ResultRow[] = [];
  await withClickHouseServer(async (server) => {
    const ingest = await measureClickHouseIngest(server, requests, log);
    for (const http of ingest.http) {
      result.push({
        section,
        measure: `protobuf spans/s over HTTP, ${http.collectors} collector${http.collectors === 1 ? '' : 's'} (${http.retries} retries)`,
        value: formatNumber(http.spansPerSecond),
        baseline: `${formatNumber(ingest.directRowsPerSecond)} rows/s direct inserts`,
        ratio: `${formatNumber((http.spansPerSecond / ingest.directRowsPerSecond) * 100)}%`,
        target: '',
      });
    }
    log(`clickhouse: filling a database with ${formatNumber(clickhouseEvents)} events…`);
    const lookups = await measureClickHouseLookups(server, clickhouseEvents, lookupRuns, log);
    result.push({
      section,
      measure: `fill, ${formatNumber(clickhouseEvents)} events (map + insertPacked, ${formatNumber(FILL_ROWS_PER_INSERT)}-row inserts)`,
      value: `${formatNumber(lookups.fillRowsPerSecond)} rows/s (${formatNumber(lookups.fillSeconds, 1)} s)`,
      baseline: `${formatNumber(ingest.directRowsPerSecond)} rows/s direct inserts`,
      ratio: `${formatNumber((lookups.fillRowsPerSecond / ingest.directRowsPerSecond) * 100)}%`,
      target: '',
    });
    const at = `clickhouse lookup @${formatNumber(clickhouseEvents / 1e6, 1)}M, ${lookups.partsAtLookup} parts`;
    for (const lookup of lookups.results) result.push(lookupRow(at, lookup, lookups.roundTripP50Ms, ''));
    if (sqlite === undefined) {
      const events = Math.min(clickhouseEvents, lookupEvents);
      log(`clickhouse: filling a SQLite store with ${formatNumber(events)} events to compare sizes…`);
      // Without its free-text index (18.16 has none either), which would take minutes more to build.
      const filled = await fillStore(events, false);
      removeStore(filled.path);
      sqlite = { bytesPerEvent: (filled.megabytes * 1024 * 1024) / events, events, withTextIndex: false };
    }
    result.push({
      section,
      measure: 'on disk (events + minute counts, after OPTIMIZE FINAL)',
      value: `${formatNumber(lookups.bytesPerEvent)} B/event`,
      baseline: `${formatNumber(sqlite.bytesPerEvent)} B/event in SQLite (${formatNumber(sqlite.events)} events, ${sqlite.withTextIndex ? 'with' : 'without'} its text index)`,
      ratio: `${formatNumber((lookups.bytesPerEvent / sqlite.bytesPerEvent) * 100)}%`,
      target: '',
    });
  });
  return result;
}

/** Current ClickHouse (chdb 26.7): lookups in process, free text through the text index. */
async function chdbRows(): Promise<ResultRow[]> {
  const chdb = await measureChdb(
    chdbEvents,
    lookupRuns,
    process.env.BENCH_CHDB_COMPARE_FILL !== '0',
    log,
    chdbGenerated,
  );
  const section = `chdb ${chdb.version}`;
  const { copies } = chdb;
  const result: ResultRow[] = [
    {
      section,
      measure:
        copies === undefined
          ? `fill, ${formatNumber(chdbEvents)} events with the text index (${formatNumber(FILL_ROWS_PER_INSERT)}-row inserts)`
          : `fill, ${formatNumber(copies.factor)} copies of ${formatNumber(copies.generated)} events with the text index (INSERT … SELECT)`,
      value: `${formatNumber(chdb.indexedFillRowsPerSecond)} rows/s (${formatNumber(chdb.indexedFillSeconds, 1)} s)`,
      baseline:
        copies !== undefined
          ? `${formatNumber(copies.generatedRowsPerSecond)} rows/s generated through the store, without`
          : chdb.plainFillRowsPerSecond === undefined
            ? ''
            : `${formatNumber(chdb.plainFillRowsPerSecond)} rows/s without`,
      ratio:
        chdb.plainFillRowsPerSecond === undefined
          ? ''
          : `${formatNumber((chdb.indexedFillRowsPerSecond / chdb.plainFillRowsPerSecond) * 100)}%`,
      target: '',
    },
    {
      section,
      measure: 'on disk: events, and the text index (compressed)',
      value: `${formatNumber(chdb.dataBytesPerEvent)} + ${formatNumber(chdb.textIndexBytesPerEvent)} B/event`,
      baseline: '',
      ratio: `${formatNumber((chdb.textIndexBytesPerEvent / chdb.dataBytesPerEvent) * 100)}%`,
      target: '',
    },
    {
      section,
      measure: 'before the lookups: wait for background merges, then active parts',
      value: `${formatNumber(chdb.mergeWaitSeconds)} s, ${formatNumber(chdb.parts)} parts`,
      baseline: '',
      ratio: '',
      target: '',
    },
  ];
  const at = `chdb lookup @${formatNumber(chdbEvents / 1e6, 1)}M (in process)`;
  for (const lookup of chdb.results) {
    const scan = chdb.scanResults.find((candidate) => candidate.name === lookup.name);
    result.push({
      section: at,
      measure: `${lookup.name}: p50 / p95 (${lookup.returned} rows)`,
      value: `${formatNumber(lookup.p50Ms, 1)} / ${formatNumber(lookup.p95Ms, 1)} ms`,
      baseline: scan === undefined ? '' : `${formatNumber(scan.p95Ms, 1)} ms p95 by a scan`,
      ratio: scan === undefined ? '' : `${formatNumber(lookup.p95Ms / scan.p95Ms, 2)}×`,
      target: lookup.name.startsWith('free text') ? 'p95 ≤ 200 ms at 100M' : '',
    });
  }
  return result;
}

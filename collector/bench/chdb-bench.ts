/*
 * Current ClickHouse (26.7, embedded: npm `chdb`), for what 18.16 cannot do (issue 14): free text
 * through the text index the collector adds on 26.2+. The lookup workload's events are filled
 * through the store's insertPacked, then the lookup cases run in process (store.lookup: no HTTP,
 * no collector — chdb lives in the process that opens it). Baselines in the same run: the fill rate
 * of the same events into a database without the text index, and free text by a scan of that
 * database (so no BENCH_CHDB_COMPARE_FILL=0, no scan baseline). Beyond what the store fills in a
 * session (BENCH_CHDB_GENERATED below BENCH_CHDB_EVENTS), the generated events are copied inside
 * ClickHouse into the indexed database (scaled-copies.ts), without a scan baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';
import { parseFilter } from '../src/api/query-params.js';
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseStoreOptions } from '../src/store/clickhouse/clickhouse-event-store.js';
import { sqlString } from '../src/store/clickhouse/sql-literal.js';
import { toEventRow } from '../src/store/event-row.js';
import { packRows } from '../src/store/packed-rows.js';
import { FILL_ROWS_PER_INSERT } from './clickhouse-bench.js';
import type { LookupResult } from './lookup-bench.js';
import { LOOKUP_CASES, lookupEventBatches, queryOf } from './lookup-bench.js';
import { COPY_SETTINGS, copyStatement } from './scaled-copies.js';
import { percentile } from './statistics.js';

export interface ChdbResult {
  version: string;
  /**
   * Rows/s filling the text-indexed database (through the store, or by copies inside ClickHouse),
   * and the same events into one without the index.
   */
  indexedFillRowsPerSecond: number;
  indexedFillSeconds: number;
  plainFillRowsPerSecond: number | undefined;
  results: LookupResult[];
  /** The free-text cases on the same events without the text index (when that was filled). */
  scanResults: LookupResult[];
  dataBytesPerEvent: number;
  textIndexBytesPerEvent: number;
  /** When the indexed database was filled by copies: of how many generated events, at what rate. */
  copies?: { generated: number; factor: number; generatedRowsPerSecond: number };
  /** Active parts of the events table when the lookups ran, and the wait for merges before them. */
  parts: number;
  mergeWaitSeconds: number;
}

type Connection = ClickHouseStoreOptions['connection'];

/** `total` events of the lookup workload into `database` through the store; returns the seconds. */
export async function fill(
  connection: Connection,
  database: string,
  total: number,
  textIndex: boolean,
): Promise<number> {
  const store = await ClickHouseEventStore.open({ connection, database, textIndex });
  const started = performance.now();
  try {
    for (const events of lookupEventBatches(total, FILL_ROWS_PER_INSERT)) {
      await store.insertPacked([packRows(events.map(toEventRow))]);
    }
  } finally {
    await store.close();
  }
  return (performance.now() - started) / 1000;
}

/**
 * `total` events into `database` (text-indexed) as `total / generated` copies of `generated` events
 * filled through the store into a scratch database; returns the copies' seconds.
 */
async function fillByCopies(
  connection: Connection,
  client: ReturnType<typeof createClient>,
  database: string,
  total: number,
  generated: number,
  log: (message: string) => void,
): Promise<{ seconds: number; generatedRowsPerSecond: number }> {
  const factor = total / generated;
  const source = `${database}_source`;
  log(`chdb: generating ${generated} events…`);
  const generatedSeconds = await fill(connection, source, generated, false);
  const store = await ClickHouseEventStore.open({ connection, database });
  await store.close();
  const started = performance.now();
  for (let k = 0; k < factor; k++) {
    log(`chdb: copy ${k + 1} of ${factor} with the text index…`);
    await client.command({
      query: copyStatement(source, database, factor, k),
      clickhouse_settings: COPY_SETTINGS,
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await client.command({ query: `DROP DATABASE ${source}` });
  return { seconds, generatedRowsPerSecond: generated / generatedSeconds };
}

/** Longest wait for background merges before the lookups: past it they run beside the merges. */
const MERGE_WAIT_LIMIT_MS = 45 * 60 * 1000;

/**
 * Waits until no merge of `database` has run for three polls in a row (or the limit passes), so the
 * lookups time a settled table, as a day-old one is, not one sharing the two cores with merges of
 * freshly copied parts. Returns the seconds waited and the active parts then.
 */
async function settleMerges(
  client: ReturnType<typeof createClient>,
  database: string,
  log: (message: string) => void,
): Promise<{ seconds: number; parts: number }> {
  const started = performance.now();
  const count = async (query: string): Promise<number> => {
    const [row] = await (
      await client.query({ query, format: 'JSONEachRow' })
    ).json<{
      n: string | number;
    }>();
    return Number(row?.n ?? 0);
  };
  const parts = (): Promise<number> =>
    count(`SELECT count() AS n FROM system.parts
           WHERE active AND database = ${sqlString(database)} AND table = 'events'`);
  let idlePolls = 0;
  while (idlePolls < 3 && performance.now() - started < MERGE_WAIT_LIMIT_MS) {
    const merging = await count(
      `SELECT count() AS n FROM system.merges WHERE database = ${sqlString(database)}`,
    );
    idlePolls = merging === 0 ? idlePolls + 1 : 0;
    if (merging > 0) log(`chdb: ${merging} merges running, ${await parts()} parts…`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  return { seconds: (performance.now() - started) / 1000, parts: await parts() };
}

async function timeCases(
  store: ClickHouseEventStore,
  cases: typeof LOOKUP_CASES,
  runs: number,
): Promise<LookupResult[]> {
  const results: LookupResult[] = [];
  for (const lookup of cases) {
    const timings: number[] = [];
    let returned = 0;
    for (let run = 0; run < runs + 3; run++) {
      const filter = parseFilter(Object.fromEntries(new URLSearchParams(queryOf(lookup, run))));
      const started = performance.now();
      const page = await store.lookup({ filter, limit: 50 });
      if (run >= 3) timings.push(performance.now() - started);
      returned = page.records.length;
    }
    results.push({
      name: lookup.name,
      p50Ms: percentile(timings, 50),
      p95Ms: percentile(timings, 95),
      returned,
    });
  }
  return results;
}

export async function measureChdb(
  total: number,
  runs: number,
  compareFill: boolean,
  log: (message: string) => void,
  generated = total,
): Promise<ChdbResult> {
  const byCopies = generated < total;
  if (byCopies && total % generated !== 0)
    throw new Error(`chdb: ${total} events are not whole copies of ${generated}`);
  const dir = mkdtempSync(join(tmpdir(), 'crumbtrail-bench-chdb-'));
  const chdb = createChdbConnection({ path: dir });
  // The chdb connection is typed against @clickhouse/client-common's copy of the interface.
  const connection = chdb as unknown as Connection;
  // Copies of 10M rows with the index take minutes: past the client's default 30 s.
  const client = createClient({ connection, request_timeout: 3_600_000 });
  try {
    const [row] = await (
      await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
    ).json<{
      v: string;
    }>();
    let indexedSeconds: number;
    let copies: ChdbResult['copies'];
    if (byCopies) {
      const filled = await fillByCopies(connection, client, 'bench_indexed', total, generated, log);
      indexedSeconds = filled.seconds;
      copies = {
        generated,
        factor: total / generated,
        generatedRowsPerSecond: filled.generatedRowsPerSecond,
      };
    } else {
      log(`chdb: filling ${total} events with the text index…`);
      indexedSeconds = await fill(connection, 'bench_indexed', total, true);
    }
    let plainSeconds: number | undefined;
    if (compareFill && !byCopies) {
      log(`chdb: filling ${total} events without it…`);
      plainSeconds = await fill(connection, 'bench_plain', total, false);
    }
    const settled = await settleMerges(client, 'bench_indexed', log);
    log(`chdb: lookups over ${settled.parts} parts…`);
    const indexed = await ClickHouseEventStore.open({ connection, database: 'bench_indexed' });
    // 26.7 answers the indexed LIKE form from the text index even for a store opened with
    // textIndex:false, so a true scan needs a table that has no text index at all.
    const scanning =
      compareFill && !byCopies
        ? await ClickHouseEventStore.open({ connection, database: 'bench_plain', textIndex: false })
        : undefined;
    try {
      const results = await timeCases(indexed, LOOKUP_CASES, runs);
      const freeText = LOOKUP_CASES.filter((lookup) => lookup.query.startsWith('q='));
      const scanResults = scanning === undefined ? [] : await timeCases(scanning, freeText, runs);
      const [size] = await (
        await client.query({
          query: `SELECT sum(data_compressed_bytes) AS data, sum(secondary_indices_compressed_bytes) AS text
                  FROM system.parts WHERE active AND database = 'bench_indexed' AND table = 'events'`,
          format: 'JSONEachRow',
        })
      ).json<{ data: string | number; text: string | number }>();
      return {
        version: row?.v ?? 'unknown',
        indexedFillRowsPerSecond: total / indexedSeconds,
        indexedFillSeconds: indexedSeconds,
        plainFillRowsPerSecond: plainSeconds === undefined ? undefined : total / plainSeconds,
        results,
        scanResults,
        dataBytesPerEvent: Number(size?.data ?? Number.NaN) / total,
        textIndexBytesPerEvent: Number(size?.text ?? Number.NaN) / total,
        parts: settled.parts,
        mergeWaitSeconds: settled.seconds,
        ...(copies === undefined ? {} : { copies }),
      };
    } finally {
      await indexed.close();
      await scanning?.close();
    }
  } finally {
    await client.close();
    await chdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

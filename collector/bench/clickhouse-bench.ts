/*
 * The ClickHouse engine (issue 14) on a real ClickHouse 18.16 server started for the run
 * (test/support/clickhouse-server.ts: temp dir, reserved ports, always stopped):
 *   - ingest over OTLP/HTTP through 1 and 2 collector processes (`--store clickhouse`), against the
 *     same rows inserted straight into the same table with @clickhouse/client (the engine's limit);
 *   - lookups at a size of its own, filled through the store's insertPacked in large inserts;
 *   - bytes per event on disk (events + minute counts, after OPTIMIZE … FINAL).
 * Each measurement has its own database on the one server, so none sees another's rows.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';
import { CLICKHOUSE_EVENTS_PER_COMMIT } from '../src/config.js';
import { spanToEvent } from '../src/events/span-to-event.js';
import { decodeProtobufExportRequest } from '../src/otlp/protobuf-decoder.js';
import { insertRow } from '../src/store/clickhouse/clickhouse-event-store.js';
import { ClickHouseEventStore } from '../src/store/clickhouse/clickhouse-event-store.js';
import { toEventRow } from '../src/store/event-row.js';
import { packRows } from '../src/store/packed-rows.js';
import type { ClickHouseServer } from '../test/support/clickhouse-server.js';
import { startClickHouseServer } from '../test/support/clickhouse-server.js';
import { startCollectorProcess, temporaryDbPath } from '../test/support/collector-process.js';
import { exportAll, KEEP_2025 } from './ingest-bench.js';
import type { LookupResult } from './lookup-bench.js';
import { lookupEventBatches, measureLookups } from './lookup-bench.js';
import type { SerializedBatches } from './workload.js';

/** Rows per insert when filling the lookup store: ClickHouse is slow on small inserts. */
export const FILL_ROWS_PER_INSERT = 50_000;

export interface ClickHouseIngestResult {
  /** The same rows inserted straight into the events table, CLICKHOUSE_EVENTS_PER_COMMIT at a time. */
  directRowsPerSecond: number;
  /** Over OTLP/HTTP through this many collectors (index 0: one collector, 1: two). */
  http: { collectors: number; spansPerSecond: number; retries: number }[];
}

export interface ClickHouseLookupResult {
  fillSeconds: number;
  fillRowsPerSecond: number;
  results: LookupResult[];
  roundTripP50Ms: number;
  /** Active parts of the events table when the lookups start (FINAL merges them at read time). */
  partsAtLookup: number;
  /** Events + minute-count tables on disk after OPTIMIZE … FINAL, per stored event. */
  bytesPerEvent: number;
}

/** Runs `work` against a fresh ClickHouse server, stopped (and its data removed) whatever happens. */
export async function withClickHouseServer<T>(work: (server: ClickHouseServer) => Promise<T>): Promise<T> {
  const server = await startClickHouseServer();
  try {
    return await work(server);
  } finally {
    await server.stop();
  }
}

function collectorArgs(server: ClickHouseServer, database: string): string[] {
  return ['--store', 'clickhouse', '--clickhouse-url', server.url, '--clickhouse-database', database];
}

/** Creates (migrates) the schema in `database`, as a collector does on start-up. */
async function createSchema(server: ClickHouseServer, database: string): Promise<void> {
  const store = await ClickHouseEventStore.open({ url: server.url, database });
  await store.close();
}

async function count(client: ClickHouseClient, query: string): Promise<number> {
  const result = await client.query({ query, format: 'JSONEachRow' });
  const [row] = await result.json<{ n: string | number }>();
  return Number(row?.n ?? Number.NaN);
}

/** Fails the run when a measurement did not store every event once: its figure would be wrong. */
async function expectStored(client: ClickHouseClient, database: string, expected: number): Promise<void> {
  const stored = await count(client, `SELECT count() AS n FROM ${database}.events FINAL`);
  if (stored !== expected) throw new Error(`${database}: ${stored} events stored, ${expected} expected`);
}

/**
 * The rows the collector stores for these export requests (decoded, mapped by the real mapping),
 * as the JSONEachRow objects the store inserts: made before the clock starts.
 */
function rowsOf(batches: SerializedBatches): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const body of batches.protobuf) {
    for (const span of decodeProtobufExportRequest(Buffer.from(body))) {
      const result = spanToEvent(span, { deriveFromServerSpans: false });
      if (result.outcome === 'event') rows.push(insertRow(toEventRow(result.event), rows.length + 1));
    }
  }
  return rows;
}

async function directRowsPerSecond(
  server: ClickHouseServer,
  client: ClickHouseClient,
  batches: SerializedBatches,
): Promise<number> {
  const database = 'bench_direct';
  await createSchema(server, database);
  const rows = rowsOf(batches);
  const started = performance.now();
  for (let offset = 0; offset < rows.length; offset += CLICKHOUSE_EVENTS_PER_COMMIT) {
    await client.insert({
      table: `${database}.events`,
      values: rows.slice(offset, offset + CLICKHOUSE_EVENTS_PER_COMMIT),
      format: 'JSONEachRow',
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await expectStored(client, database, rows.length);
  return rows.length / seconds;
}

/** Spans/s exporting the protobuf requests to `collectors` collector processes on one database. */
async function httpSpansPerSecond(
  server: ClickHouseServer,
  client: ClickHouseClient,
  batches: SerializedBatches,
  collectors: number,
): Promise<{ collectors: number; spansPerSecond: number; retries: number }> {
  const database = `bench_http_${collectors}`;
  // Schema first, so that the collectors do not race to create it (that is tested, not measured).
  await createSchema(server, database);
  const args = [...KEEP_2025, ...collectorArgs(server, database)];
  const started = await Promise.allSettled(
    Array.from({ length: collectors }, () => startCollectorProcess({ args })),
  );
  const running = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  try {
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const exported = await exportAll(
      running.map((collector) => collector.otlpUrl),
      batches.protobuf,
      'protobuf',
    );
    const spans = batches.protobuf.length * batches.spansPerBatch;
    await expectStored(client, database, spans);
    return { collectors, spansPerSecond: spans / exported.seconds, retries: exported.retries };
  } finally {
    for (const collector of running) {
      await collector.stop();
      rmSync(dirname(collector.dbPath), { recursive: true, force: true });
    }
  }
}

export async function measureClickHouseIngest(
  server: ClickHouseServer,
  batches: SerializedBatches,
  log: (message: string) => void,
): Promise<ClickHouseIngestResult> {
  const client = createClient({ url: server.url });
  try {
    log('clickhouse ingest: direct inserts with @clickhouse/client…');
    const direct = await directRowsPerSecond(server, client, batches);
    const http = [];
    for (const collectors of [1, 2]) {
      log(`clickhouse ingest: over HTTP through ${collectors} collector(s)…`);
      http.push(await httpSpansPerSecond(server, client, batches, collectors));
    }
    return { directRowsPerSecond: direct, http };
  } finally {
    await client.close();
  }
}

/** The longest a bench waits for ClickHouse to merge a table into one part. */
const OPTIMIZE_TIMEOUT_MS = 60 * 60 * 1000;

/** Bytes on disk of the events and minute-count tables once merged (OPTIMIZE … FINAL). */
async function bytesOnDisk(client: ClickHouseClient, database: string): Promise<number> {
  for (const table of ['events', 'minute_counts']) {
    await client.command({ query: `OPTIMIZE TABLE ${database}.${table} FINAL` });
  }
  return count(
    client,
    `SELECT sum(bytes_on_disk) AS n FROM system.parts
     WHERE active AND database = '${database}' AND table IN ('events', 'minute_counts')`,
  );
}

/**
 * Fills a database with `total` events of the lookup workload through the store's insertPacked,
 * FILL_ROWS_PER_INSERT rows at a time, then measures the lookups through a collector process with
 * `--store clickhouse` and the bytes on disk.
 */
export async function measureClickHouseLookups(
  server: ClickHouseServer,
  total: number,
  runs: number,
  log: (message: string) => void,
): Promise<ClickHouseLookupResult> {
  const database = 'bench_lookup';
  // OPTIMIZE … FINAL of 10M events takes minutes: far past the client's 30 s default, which at
  // 10M threw away every figure measured before it.
  const client = createClient({ url: server.url, request_timeout: OPTIMIZE_TIMEOUT_MS });
  try {
    const store = await ClickHouseEventStore.open({ url: server.url, database });
    const started = performance.now();
    try {
      let filled = 0;
      for (const events of lookupEventBatches(total, FILL_ROWS_PER_INSERT)) {
        await store.insertPacked([packRows(events.map(toEventRow))]);
        filled += events.length;
        if (filled % 500_000 < FILL_ROWS_PER_INSERT) log(`clickhouse fill: ${filled} events`);
      }
    } finally {
      await store.close();
    }
    const fillSeconds = (performance.now() - started) / 1000;
    await expectStored(client, database, total);
    // As the fill left it, background merges still running: as a store being written to is read.
    const partsAtLookup = await count(
      client,
      `SELECT count() AS n FROM system.parts WHERE active AND database = '${database}' AND table = 'events'`,
    );
    log('clickhouse lookups…');
    const unusedDbPath = temporaryDbPath();
    let lookups: Awaited<ReturnType<typeof measureLookups>>;
    try {
      lookups = await measureLookups(unusedDbPath, runs, collectorArgs(server, database));
    } finally {
      rmSync(dirname(unusedDbPath), { recursive: true, force: true });
    }
    log('clickhouse bytes on disk…');
    const bytes = await bytesOnDisk(client, database);
    return {
      fillSeconds,
      fillRowsPerSecond: total / fillSeconds,
      ...lookups,
      partsAtLookup,
      bytesPerEvent: bytes / total,
    };
  } finally {
    await client.close();
  }
}

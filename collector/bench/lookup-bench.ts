/*
 * Lookup latency with a million stored events: the store is filled in-process (through the real
 * span → event mapping), then a collector process serves the lookups over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoredEvent } from '../src/events/cloudtrail-record.js';
import { spanToEvent } from '../src/events/span-to-event.js';
import type { AttributeValue, DecodedSpan } from '../src/otlp/decoded-span.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { TEXT_INDEX_STEP_ROWS } from '../src/store/sqlite/text-index.js';
import { startCollectorProcess, temporaryDbPath } from '../test/support/collector-process.js';
import { percentile } from './statistics.js';
import { auditAttributes, seededRandom } from './workload.js';

export const LOOKUP_RANGE_START = Date.UTC(2025, 2, 1);
const RANGE_MS = 30 * 24 * 3600 * 1000;

const RESOURCE = new Map<string, AttributeValue>([
  ['service.name', 'iam'],
  ['cloud.region', 'eu-west-1'],
]);

function decodedSpan(i: number, total: number, random: () => number): DecodedSpan {
  const endNanos = BigInt(LOOKUP_RANGE_START + Math.floor((i * RANGE_MS) / total)) * 1_000_000n;
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: '',
    name: 'POST /v1/resources/:id',
    kind: 2,
    startTimeUnixNano: endNanos - 3_000_000n,
    endTimeUnixNano: endNanos,
    attributes: new Map(Object.entries(auditAttributes(i, random)) as [string, AttributeValue][]),
    statusCode: 0,
    statusMessage: '',
    resource: RESOURCE,
    scopeName: 'bench',
  };
}

export interface FilledStore {
  path: string;
  eventsPerSecond: number;
  /** The free-text index built afterwards, as the writer does when idle. */
  indexedPerSecond: number;
  megabytes: number;
}

/**
 * The lookup workload, `total` events spread over 30 days, mapped from spans by the real span →
 * event mapping, `batchSize` at a time (made lazily: a million events do not sit in memory).
 */
export function* lookupEventBatches(total: number, batchSize: number): Generator<StoredEvent[]> {
  const random = seededRandom(42);
  for (let offset = 0; offset < total; offset += batchSize) {
    const events: StoredEvent[] = [];
    for (let i = offset; i < Math.min(total, offset + batchSize); i++) {
      const result = spanToEvent(decodedSpan(i, total, random), { deriveFromServerSpans: false });
      if (result.outcome === 'event') events.push(result.event);
    }
    yield events;
  }
}

/** A store file with `total` events spread over 30 days. */
export async function fillStore(total: number, buildTextIndex = true): Promise<FilledStore> {
  const path = temporaryDbPath();
  // Manual indexing: the fill measures inserts alone, the index build is timed on its own.
  const store = new SqliteEventStore({ path, textIndexing: 'manual' });
  const started = performance.now();
  for (const events of lookupEventBatches(total, 8192)) await store.insert(events);
  const seconds = (performance.now() - started) / 1000;
  const indexing = performance.now();
  while (buildTextIndex && (await store.indexText(TEXT_INDEX_STEP_ROWS)) > 0);
  const indexSeconds = (performance.now() - indexing) / 1000;
  await store.close();
  const megabytes = statSync(path).size / 1024 / 1024;
  return { path, eventsPerSecond: total / seconds, indexedPerSecond: total / indexSeconds, megabytes };
}

export interface LookupCase {
  name: string;
  query: string;
  /**
   * The query of each run, when runs must differ: current ClickHouse caches which granules a
   * condition matched (the query condition cache), so a repeated scan would be timed as a lookup.
   * Each run's term matches as many events as the named one.
   */
  queryOfRun?: (run: number) => string;
}

/** The query a run sends. */
export function queryOf(lookup: LookupCase, run: number): string {
  return lookup.queryOfRun?.(run) ?? lookup.query;
}

export const LOOKUP_CASES: LookupCase[] = [
  { name: 'no filter', query: '' },
  { name: 'one attribute (EventName)', query: 'eventName=CreateUser' },
  { name: 'one attribute (Username)', query: 'username=user-42' },
  { name: 'one attribute (ResourceName)', query: 'resourceName=resource-4242' },
  { name: 'two attributes (EventName+Username)', query: 'eventName=CreateUser&username=user-42' },
  {
    name: 'two attributes + 7-day range',
    query: `eventName=DeleteUser&accessKeyId=AKIA000000000042&startTime=${LOOKUP_RANGE_START + 20 * 86400000}&endTime=${LOOKUP_RANGE_START + 27 * 86400000}`,
  },
  { name: 'free text, common (aws-cli)', query: 'q=aws-cli' },
  // Matches ~110 old events: the scan walks back through about half of the store.
  // req-4242, req-4243…: each the prefix of 111 request ids at 1M events.
  { name: 'free text, rare (req-4242)', query: 'q=req-4242', queryOfRun: (run) => `q=req-${4242 + run}` },
  // Matches nothing: the worst case, a scan of every event.
  { name: 'free text, absent', query: 'q=no-such-text', queryOfRun: (run) => `q=no-such-text-${run}` },
];

export interface LookupResult {
  name: string;
  p50Ms: number;
  p95Ms: number;
  returned: number;
}

/**
 * p50/p95 of each lookup case over HTTP, plus the /healthz round trip as the floor. `collectorArgs`
 * name another engine (`--store clickhouse …`); `path` is then unused by the collector.
 */
export async function measureLookups(
  path: string,
  runs: number,
  collectorArgs: readonly string[] = [],
): Promise<{ results: LookupResult[]; roundTripP50Ms: number }> {
  // The stored events are dated 2025: the first retention sweep must not delete them mid-run.
  const collector = await startCollectorProcess({
    dbPath: path,
    args: ['--retention-days', '36500', ...collectorArgs],
  });
  try {
    const results: LookupResult[] = [];
    for (const lookup of LOOKUP_CASES) {
      const timings: number[] = [];
      let returned = 0;
      for (let run = 0; run < runs + 3; run++) {
        const started = performance.now();
        const response = await fetch(
          `${collector.apiUrl}/api/v1/events?maxResults=50&${queryOf(lookup, run)}`,
        );
        const body = (await response.json()) as { events: unknown[] };
        if (response.status !== 200)
          throw new Error(`${lookup.name}: ${response.status} ${JSON.stringify(body)}`);
        // The first runs warm the page cache; they are not counted.
        if (run >= 3) timings.push(performance.now() - started);
        returned = body.events.length;
      }
      results.push({
        name: lookup.name,
        p50Ms: percentile(timings, 50),
        p95Ms: percentile(timings, 95),
        returned,
      });
    }
    const roundTrips: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await (await fetch(`${collector.apiUrl}/healthz`)).arrayBuffer();
      roundTrips.push(performance.now() - started);
    }
    return { results, roundTripP50Ms: percentile(roundTrips, 50) };
  } finally {
    await collector.stop();
  }
}

export function removeStore(path: string): void {
  rmSync(dirname(path), { recursive: true, force: true });
}

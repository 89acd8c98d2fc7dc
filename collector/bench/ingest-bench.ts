/*
 * Ingest throughput: export requests over HTTP to a collector process, against the practical
 * limit on this machine (the same requests decoded, mapped and committed in-process, no HTTP);
 * and visibility latency (export → returned by /api/v1/events).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { EVENTS_PER_COMMIT } from '../src/config.js';
import { deterministicEventId } from '../src/events/event-id.js';
import { IngestPipeline } from '../src/ingest/ingest-pipeline.js';
import { CollectorMetrics } from '../src/metrics/collector-metrics.js';
import { decodeJsonExportRequest } from '../src/otlp/json-decoder.js';
import { decodeProtobufExportRequest } from '../src/otlp/protobuf-decoder.js';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { WriteQueue } from '../src/store/write-queue.js';
import { startCollectorProcess, temporaryDbPath } from '../test/support/collector-process.js';
import { peakRssMiB, percentile } from './statistics.js';
import { makeAuditSpans, serializeBatches } from './workload.js';
import type { SerializedBatches } from './workload.js';

export type Encoding = 'protobuf' | 'json';

const CONTENT_TYPE: Record<Encoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};
/** Concurrent exporters (services), in-process and over HTTP alike, so both get the same group commits. */
export const CONCURRENCY = 8;
/** The workload is dated 2025: kept whatever today's date, which the default 90 days would not. */
export const KEEP_2025 = ['--retention-days', '36500'];

async function runWorkers(count: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

export function prepareBatches(spanCount: number, seed: number): SerializedBatches {
  return serializeBatches(makeAuditSpans(spanCount, Date.UTC(2025, 0, 1), seed), 512);
}

/**
 * Spans/s decoding, mapping and committing the requests in-process: the practical limit. It runs
 * in a fresh process (in-process-limit.ts) holding only its request bodies, like the collector,
 * so that the benchmark's own large heap does not slow it down with garbage collection.
 */
export function inProcessSpansPerSecond(spanCount: number, seed: number, encoding: Encoding): number {
  const script = fileURLToPath(new URL('./in-process-limit.ts', import.meta.url));
  const output = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--expose-gc',
      script,
      encoding,
      String(spanCount),
      String(seed),
      String(CONCURRENCY),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return (JSON.parse(output) as { spansPerSecond: number }).spansPerSecond;
}

/** Ingests the requests through the real pipeline and store, `CONCURRENCY` exporters at a time. */
export async function ingestInProcess(
  bodies: Uint8Array[],
  spansPerBatch: number,
  encoding: Encoding,
): Promise<number> {
  const path = temporaryDbPath();
  const store = new SqliteEventStore({ path });
  const metrics = new CollectorMetrics(
    () => 0,
    () => ({ exports: 0, bytes: 0 }),
  );
  const queue = new WriteQueue(store, { maxPendingEvents: 1_000_000, maxEventsPerCommit: EVENTS_PER_COMMIT });
  const pipeline = new IngestPipeline(queue, { deriveFromServerSpans: false }, metrics);
  const started = performance.now();
  await runWorkers(bodies.length, async (i) => {
    const body = Buffer.from(bodies[i]!);
    const spans = encoding === 'protobuf' ? decodeProtobufExportRequest(body) : decodeJsonExportRequest(body);
    await pipeline.ingest(spans);
  });
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  rmSync(dirname(path), { recursive: true, force: true });
  return (bodies.length * spansPerBatch) / seconds;
}

/**
 * Sends every request, `CONCURRENCY` exporters at a time, request i to `otlpUrls[i % n]` (a load
 * balancer's round robin when there are several collectors), retrying on 429/503 after Retry-After
 * as the OpenTelemetry exporters do. Resolves with the wall time and the retries.
 */
export async function exportAll(
  otlpUrls: readonly string[],
  bodies: readonly Uint8Array[],
  encoding: Encoding,
): Promise<{ seconds: number; retries: number }> {
  let retries = 0;
  const started = performance.now();
  await runWorkers(bodies.length, async (i) => {
    for (;;) {
      const response = await fetch(`${otlpUrls[i % otlpUrls.length]!}/v1/traces`, {
        method: 'POST',
        body: bodies[i]!,
        headers: { 'content-type': CONTENT_TYPE[encoding] },
      });
      await response.arrayBuffer();
      if (response.status === 200) return;
      if (response.status !== 429 && response.status !== 503)
        throw new Error(`export failed: ${response.status}`);
      retries++;
      await new Promise((resolve) =>
        setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000),
      );
    }
  });
  return { seconds: (performance.now() - started) / 1000, retries };
}

export interface HttpIngestResult {
  spansPerSecond: number;
  retries: number;
  peakRssMiB: number;
  /** /healthz latency with the collector idle, and while it ingests flat out. */
  healthzIdleP50Ms: number;
  healthzBusyP50Ms: number;
  healthzBusyP99Ms: number;
}

async function healthzMs(apiUrl: string): Promise<number> {
  const started = performance.now();
  await (await fetch(`${apiUrl}/healthz`)).arrayBuffer();
  return performance.now() - started;
}

/**
 * Spans/s exporting the requests over HTTP to a real collector process, started with
 * `ingestThreads` threads decoding (0: on the main thread, which also answers the query API).
 */
export async function httpSpansPerSecond(
  batches: SerializedBatches,
  encoding: Encoding,
  ingestThreads?: number,
): Promise<HttpIngestResult> {
  const threads = ingestThreads === undefined ? [] : ['--ingest-threads', String(ingestThreads)];
  const collector = await startCollectorProcess({ args: [...KEEP_2025, ...threads] });
  const bodies = batches[encoding];
  try {
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await healthzMs(collector.apiUrl));
    const busy: number[] = [];
    const ingest = { running: true };
    const prober = (async () => {
      while (ingest.running) busy.push(await healthzMs(collector.apiUrl));
    })();
    const exported = await exportAll([collector.otlpUrl], bodies, encoding);
    ingest.running = false;
    await prober;
    return {
      spansPerSecond: (bodies.length * batches.spansPerBatch) / exported.seconds,
      retries: exported.retries,
      peakRssMiB: await peakRssMiB(collector.child.pid!),
      healthzIdleP50Ms: percentile(idle, 50),
      healthzBusyP50Ms: percentile(busy, 50),
      healthzBusyP99Ms: percentile(busy, 99),
    };
  } finally {
    await collector.stop();
    rmSync(dirname(collector.dbPath), { recursive: true, force: true });
  }
}

export interface VisibilityResult {
  p50Ms: number;
  p99Ms: number;
  /** Plain HTTP round trip (/healthz) on the same collector: the floor. */
  roundTripP50Ms: number;
}

/** Export one event, then look it up: time until the lookup returns it. */
export async function visibilityLatency(samples: number): Promise<VisibilityResult> {
  const collector = await startCollectorProcess({ args: KEEP_2025 });
  const spans = makeAuditSpans(samples, Date.UTC(2025, 1, 1), 7);
  const latencies: number[] = [];
  const roundTrips: number[] = [];
  try {
    for (const span of spans) {
      const body = serializeBatches([span], 1).protobuf[0]!;
      const { traceId, spanId } = span.spanContext();
      const eventTimeMs = span.endTime[0] * 1000 + Math.floor(span.endTime[1] / 1e6);
      const eventId = deterministicEventId(eventTimeMs, traceId + spanId);
      const started = performance.now();
      const exported = await fetch(`${collector.otlpUrl}/v1/traces`, {
        method: 'POST',
        body,
        headers: { 'content-type': CONTENT_TYPE.protobuf },
      });
      await exported.arrayBuffer();
      for (;;) {
        const found = await fetch(`${collector.apiUrl}/api/v1/events?eventId=${eventId}`);
        const { events } = (await found.json()) as { events: unknown[] };
        if (events.length === 1) break;
      }
      latencies.push(performance.now() - started);
      const ping = performance.now();
      await (await fetch(`${collector.apiUrl}/healthz`)).arrayBuffer();
      roundTrips.push(performance.now() - ping);
    }
  } finally {
    await collector.stop();
    rmSync(dirname(collector.dbPath), { recursive: true, force: true });
  }
  return {
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    roundTripP50Ms: percentile(roundTrips, 50),
  };
}

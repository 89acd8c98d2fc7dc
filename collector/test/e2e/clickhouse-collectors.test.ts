/*
 * Several collectors on one ClickHouse (a real 18.16 server started here): the built collector
 * processes with --store clickhouse, fed by the OpenTelemetry protobuf serializer as exporters send.
 * Concurrent exports through two collectors, the same batches retried through the other one, one
 * collector killed with kill -9 mid-stream: every acknowledged event is stored, none twice. The two
 * start together: they agree on the paging-token secret, exactly one evaluates Insights, and when
 * it is killed the other takes over. Then ClickHouse itself dies: exports get 503 + Retry-After,
 * and succeed once it is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { ClickHouseServer } from '../support/clickhouse-server.js';
import { startClickHouseServer } from '../support/clickhouse-server.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { makeSpans } from '../support/otel-client.js';

/** An hour back, fixed for the file: inside retention however slowly it runs, never in the future. */
const BASE_MS = Date.now() - 60 * 60_000;
const BATCH = 200;

function batch(index: number, label: string): ReadableSpan[] {
  return makeSpans(
    Array.from({ length: BATCH }, (_, i) => ({
      time: new Date(BASE_MS + index * BATCH + i),
      attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: label, [A.ATTR_USER_NAME]: `u${i % 7}` },
    })),
  );
}

async function post(
  otlpUrl: string,
  spans: ReadableSpan[],
): Promise<{ status: number; retryAfter: string | null }> {
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(body);
  try {
    const response = await fetch(`${otlpUrl}/v1/traces`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-protobuf' },
    });
    await response.arrayBuffer();
    return { status: response.status, retryAfter: response.headers.get('retry-after') };
  } catch {
    // The collector died with the request open: the exporter sees a failure and retries.
    return { status: 0, retryAfter: null };
  }
}

async function storedSpanIds(collector: CollectorProcess, eventName: string): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const query = `eventName=${eventName}&maxResults=1000${token === undefined ? '' : `&nextToken=${encodeURIComponent(token)}`}`;
    const { status, body } = await getJson<{ events: CloudTrailRecord[]; nextToken?: string }>(
      collector.apiUrl,
      `/api/v1/events?${query}`,
    );
    assert.equal(status, 200);
    ids.push(...body.events.map((event) => event.crumbtrail.spanId ?? ''));
    token = body.nextToken;
  } while (token !== undefined);
  return ids;
}

function spanIds(spans: readonly ReadableSpan[]): string[] {
  return spans.map((span) => span.spanContext().spanId);
}

/** crumbtrail_insights_evaluating on the collector's /metrics: 1 while it evaluates Insights. */
async function evaluating(collector: CollectorProcess): Promise<number | undefined> {
  const text = await (await fetch(`${collector.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith('crumbtrail_insights_evaluating '));
  return line === undefined ? undefined : Number(line.slice(line.indexOf(' ') + 1));
}

/** Polls until `check` holds; the lease is kept in real time (renewed every 10 s, 30 s long). */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 500));
  }
}

describe('two collectors on one ClickHouse 18.16 server', { timeout: 420_000 }, () => {
  let server: ClickHouseServer;
  let args: string[];
  let first: CollectorProcess;
  let second: CollectorProcess;
  before(async () => {
    server = await startClickHouseServer();
    args = ['--store', 'clickhouse', '--clickhouse-url', server.url, '--clickhouse-database', 'shared'];
    // Started together, on a database neither has seen: the secret and the lease are contended.
    [first, second] = await Promise.all([startCollectorProcess({ args }), startCollectorProcess({ args })]);
  });
  after(async () => {
    await first.crash();
    await second.crash();
    await server.stop();
  });

  it('evaluates Insights on exactly one collector, and on the other once that one is killed', async () => {
    await eventually('one collector evaluates', async () => {
      const states = [await evaluating(first), await evaluating(second)];
      return states.includes(1);
    });
    const states = [await evaluating(first), await evaluating(second)];
    assert.deepEqual([...states].sort(), [0, 1], 'exactly one evaluates');
    const holderIsFirst = states[0] === 1;
    const holder = holderIsFirst ? first : second;
    const standby = holderIsFirst ? second : first;
    await holder.crash();
    const killedAt = Date.now();
    await eventually('the standby takes over', async () => (await evaluating(standby)) === 1);
    console.log(`insights lease taken over ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9`);
    // The killed one comes back and stands by: the lease stays where it is.
    const restarted = await startCollectorProcess({ args });
    if (holderIsFirst) first = restarted;
    else second = restarted;
    assert.equal(await evaluating(restarted), 0);
    assert.equal(await evaluating(standby), 1);
  });

  it('serves a paging token made by one collector on the other', async () => {
    const spans = batch(200, 'Paged');
    assert.equal((await post(first.otlpUrl, spans)).status, 200);
    const page = await getJson<{ events: CloudTrailRecord[]; nextToken?: string }>(
      first.apiUrl,
      '/api/v1/events?eventName=Paged&maxResults=50',
    );
    assert.equal(page.status, 200);
    assert.ok(page.body.nextToken !== undefined);
    const next = await getJson<{ events: CloudTrailRecord[] }>(
      second.apiUrl,
      `/api/v1/events?eventName=Paged&maxResults=50&nextToken=${encodeURIComponent(page.body.nextToken)}`,
    );
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.equal(next.body.events.length, 50);
  });

  it('stores every acknowledged event once: concurrent exports, retries through the other collector, kill -9', async () => {
    const batches = Array.from({ length: 20 }, (_, i) => batch(i, 'Shared'));
    // Concurrently: half through each collector, and the first five again through the other.
    const results = await Promise.all([
      ...batches.map((spans, i) => post(i % 2 === 0 ? first.otlpUrl : second.otlpUrl, spans)),
      ...batches.slice(0, 5).map((spans, i) => post(i % 2 === 0 ? second.otlpUrl : first.otlpUrl, spans)),
    ]);
    assert.deepEqual(new Set(results.map((result) => result.status)), new Set([200]));

    // Exports in flight to the second collector when it is killed: what it acknowledged is stored;
    // what it did not, the exporter retries through the first.
    const late = Array.from({ length: 10 }, (_, i) => batch(20 + i, 'Shared'));
    const inFlight = late.map((spans) => post(second.otlpUrl, spans));
    await inFlight[0];
    await second.crash();
    const lateResults = await Promise.all(inFlight);
    const acknowledged = late.filter((_, i) => lateResults[i]?.status === 200);
    for (const [i, spans] of late.entries()) {
      if (lateResults[i]?.status !== 200) assert.equal((await post(first.otlpUrl, spans)).status, 200);
    }
    assert.ok(acknowledged.length >= 1, 'the first late batch was acknowledged before the kill');

    const stored = await storedSpanIds(first, 'Shared');
    const expected = new Set([...batches, ...late].flatMap(spanIds));
    assert.equal(stored.length, expected.size, 'no event stored twice');
    assert.deepEqual(new Set(stored), expected, 'every event stored');
  });

  it('answers 503 + Retry-After while ClickHouse is down, and stores the retry once it is back', async () => {
    const spans = batch(100, 'WhileDown');
    await server.kill();
    try {
      const refused = await post(first.otlpUrl, spans);
      assert.equal(refused.status, 503);
      assert.ok(Number(refused.retryAfter) >= 1);
    } finally {
      await server.restart();
    }
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await post(first.otlpUrl, spans)).status;
      if (status !== 200) await new Promise((resolveWait) => setTimeout(resolveWait, 200));
    }
    assert.equal(status, 200);
    assert.deepEqual(new Set(await storedSpanIds(first, 'WhileDown')), new Set(spanIds(spans)));
  });
});

/*
 * Data safety: an export the collector acknowledged (2xx) survives kill -9 of the collector, and
 * overload slows clients down with 429 + Retry-After instead of dropping acknowledged data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess, temporaryDbPath } from '../support/collector-process.js';
import { exportSpans, exporterFor, makeSpans } from '../support/otel-client.js';

/** An hour back, fixed for the file: inside retention however slowly it runs, never in the future. */
const BASE_MS = Date.now() - 60 * 60_000;

function batches(count: number, size: number, label: string): ReadableSpan[][] {
  return Array.from({ length: count }, (_, b) =>
    makeSpans(
      Array.from({ length: size }, (_, i) => ({
        time: new Date(BASE_MS + b * size + i),
        attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: label, [A.ATTR_USER_NAME]: `u${i % 7}` },
      })),
    ),
  );
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

/** POSTs a protobuf batch and reports the status (and Retry-After), as an exporter would see it. */
async function postBatch(
  otlpUrl: string,
  spans: ReadableSpan[],
): Promise<{ status: number; retryAfter: string | null }> {
  const body = ProtobufTraceSerializer.serializeRequest(spans);
  assert.ok(body);
  const response = await fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-protobuf' },
  });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after') };
}

describe('crash safety', () => {
  it('keeps every acknowledged event, exactly once, through kill -9 and restart', async () => {
    const dbPath = temporaryDbPath();
    const first = await startCollectorProcess({ dbPath });
    const exporter = exporterFor('protobuf', first.otlpUrl);
    const acknowledged: string[] = [];
    // Sequential acknowledged exports, then many concurrent ones with kill -9 in the middle.
    for (const batch of batches(6, 512, 'Durable')) {
      const result = await exportSpans(exporter, batch);
      assert.equal(result.code, 0);
      acknowledged.push(...batch.map((span) => span.spanContext().spanId));
    }
    // Crash once a few of the concurrent exports were acknowledged, while the rest are in flight.
    let concurrentAcks = 0;
    let signalCrash: () => void = () => undefined;
    const fewAcknowledged = new Promise<void>((resolve) => (signalCrash = resolve));
    const inFlight = batches(40, 256, 'Durable').map(async (batch) => {
      const { status } = await postBatch(first.otlpUrl, batch).catch(() => ({ status: 0 }));
      if (status !== 200) return;
      acknowledged.push(...batch.map((span) => span.spanContext().spanId));
      if (++concurrentAcks === 5) signalCrash();
    });
    await fewAcknowledged;
    await first.crash();
    await Promise.all(inFlight);
    assert.equal(first.child.signalCode, 'SIGKILL');

    const second = await startCollectorProcess({ dbPath });
    try {
      const stored = await storedSpanIds(second, 'Durable');
      assert.equal(new Set(stored).size, stored.length, 'no event stored twice');
      const storedSet = new Set(stored);
      const lost = acknowledged.filter((id) => !storedSet.has(id));
      assert.deepEqual(lost, [], `${lost.length} acknowledged events lost`);
      assert.ok(acknowledged.length >= 6 * 512 + 5 * 256);
    } finally {
      await second.stop();
    }
  });

  it('answers overload with 429 + Retry-After, and stores every batch it acknowledged', async () => {
    // A tiny queue so that concurrent exports overflow it.
    const collector = await startCollectorProcess({ args: ['--max-queue-events', '600'] });
    try {
      const all = batches(24, 500, 'Overload');
      const results = await Promise.all(all.map((batch) => postBatch(collector.otlpUrl, batch)));
      const statuses = results.map((result) => result.status);
      assert.ok(
        statuses.every((status) => status === 200 || status === 429),
        `statuses: ${statuses.join(',')}`,
      );
      assert.ok(statuses.includes(429), 'the queue overflowed');
      for (const result of results) if (result.status === 429) assert.equal(result.retryAfter, '1');

      const acknowledged = all
        .filter((_, i) => statuses[i] === 200)
        .flatMap((batch) => batch.map((span) => span.spanContext().spanId));
      const stored = await storedSpanIds(collector, 'Overload');
      assert.deepEqual(new Set(stored), new Set(acknowledged));

      // The exporter honours Retry-After and gets the refused batches in on retry.
      const exporter = exporterFor('protobuf', collector.otlpUrl);
      for (const [i, batch] of all.entries()) {
        if (statuses[i] === 429) assert.equal((await exportSpans(exporter, batch)).code, 0);
      }
      assert.equal((await storedSpanIds(collector, 'Overload')).length, 24 * 500);
    } finally {
      await collector.stop();
    }
  });
});

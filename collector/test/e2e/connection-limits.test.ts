/*
 * Memory and connections: concurrent export bodies share a bounded budget (429 + Retry-After
 * beyond it), stalled bodies are cut off by the request and idle timeouts, each port has its own
 * connection limit, and the query API keeps answering while ingest is saturated.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'node:net';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { openSocket, socketClosed, stalledExport } from '../support/raw-http.js';
import {
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../support/otlp-json.js';

const MAX_CONCURRENT = 3;
const MAX_CONNECTIONS = 12;

/** Reads a gauge from /metrics. */
async function gauge(collector: CollectorProcess, name: string): Promise<number> {
  const text = await (await fetch(`${collector.apiUrl}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  assert.ok(match, `${name} is exported`);
  return Number(match[1]);
}

/** Polls until the condition holds (no deadline of its own: the test runner's timeout is the guard). */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 50));
}

async function postGood(collector: CollectorProcess): Promise<{ status: number; spanId: string }> {
  const spanId = freshSpanId();
  const answer = await postJsonExport(
    collector.otlpUrl,
    exportRequestJson([auditJsonSpan(spanId, Date.now() - 1000, 'Steady')]),
  );
  return { status: answer.status, spanId };
}

describe('memory and connection limits', () => {
  let collector: CollectorProcess;
  const sockets: Socket[] = [];
  before(async () => {
    collector = await startCollectorProcess({
      args: [
        '--max-concurrent-exports',
        String(MAX_CONCURRENT),
        '--max-body-bytes',
        String(4 * 1024 * 1024),
        '--max-inflight-body-bytes',
        String(6 * 1024 * 1024),
        '--max-connections',
        String(MAX_CONNECTIONS),
        // Short, so that the stalled bodies below are cut off within the test.
        '--request-timeout-seconds',
        '3',
        '--idle-timeout-seconds',
        '2',
      ],
    });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await collector.stop();
  });

  it('answers 429 + Retry-After beyond the concurrent exports, keeps the API up, and cuts stalled bodies off', async () => {
    const stalled = await Promise.all(
      Array.from({ length: MAX_CONCURRENT }, () => stalledExport(collector.otlpUrl)),
    );
    sockets.push(...stalled.map((entry) => entry.socket));
    await eventually(
      async () => (await gauge(collector, 'crumbtrail_exports_in_progress')) === MAX_CONCURRENT,
    );

    const refused = await postJsonExport(
      collector.otlpUrl,
      exportRequestJson([auditJsonSpan(freshSpanId(), Date.now(), 'Refused')]),
    );
    assert.equal(refused.status, 429);
    assert.equal(refused.retryAfter, '1');
    assert.match(refused.body.message ?? '', /reading as many exports as it allows/);
    // The query API is not held up by the stalled exports.
    assert.equal((await getJson(collector.apiUrl, '/healthz')).status, 200);
    assert.equal((await getJson(collector.apiUrl, '/api/v1/events')).status, 200);

    // The stalled bodies never finish: the collector ends them, and frees their slots.
    for (const { closed } of stalled) await closed;
    await eventually(async () => (await gauge(collector, 'crumbtrail_exports_in_progress')) === 0);
    const after = await postGood(collector);
    assert.equal(after.status, 200);
  });

  it('bounds the bytes of concurrent gzip bombs, refusing the excess with 413 or 429', async () => {
    // Each inflates to 64 MiB: all stop at the body limit or the shared budget.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const response = await fetch(`${collector.otlpUrl}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: bomb,
        });
        await response.arrayBuffer();
        if (response.status === 429) assert.equal(response.headers.get('retry-after'), '1');
        return response.status;
      }),
    );
    assert.ok(
      statuses.every((status) => status === 413 || status === 429),
      `statuses: ${statuses.join(',')}`,
    );
    await eventually(async () => (await gauge(collector, 'crumbtrail_export_body_bytes_held')) === 0);
    const rss = await gauge(collector, 'process_resident_memory_bytes');
    assert.ok(rss < 1024 * 1024 * 1024, `resident memory ${Math.round(rss / 1048576)} MiB stays bounded`);
    assert.equal((await postGood(collector)).status, 200);
  });

  it('limits connections per port, so slow clients of the OTLP port cannot lock out the query API', async () => {
    const held: Socket[] = [];
    // Idle connections are closed by the idle timeout: keep these busy with a trickle of headers.
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      const socket = await openSocket(collector.otlpUrl);
      socket.on('error', () => undefined);
      socket.write('POST /v1/traces HTTP/1.1\r\nHost: x\r\n');
      held.push(socket);
    }
    sockets.push(...held);
    await eventually(async () => {
      const extra = await openSocket(collector.otlpUrl).catch(() => undefined);
      if (extra === undefined) return true;
      // Over the limit, the server closes the connection at once, without answering; below it,
      // this complete request would get an answer (404).
      const closed = socketClosed(extra);
      extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      return (await closed) === '';
    });
    assert.equal((await getJson(collector.apiUrl, '/healthz')).status, 200, 'the API port has its own limit');
    for (const socket of held) socket.destroy();
    await eventually(async () => (await postGood(collector).catch(() => ({ status: 0 }))).status === 200);
  });
});

/**
 * An export of ~16 MiB of plain internal spans (ignored: none become events), which costs an
 * ingest thread ~0.4 s to decode here.
 */
function largeIgnoredExport(): string {
  const attributes = Array.from({ length: 40 }, (_, i) => stringAttribute(`attribute.${i}`, 'v'));
  const span = (): Record<string, unknown> => ({
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: freshSpanId(),
    name: 'internal work',
    kind: 1,
    startTimeUnixNano: '1',
    endTimeUnixNano: '2',
    attributes,
  });
  return exportRequestJson(Array.from({ length: 7000 }, span));
}

describe('the query API while ingest threads decode', () => {
  let collector: CollectorProcess;
  before(async () => {
    // One ingest thread, whatever the machine: the exports below queue up behind each other.
    collector = await startCollectorProcess({ args: ['--ingest-threads', '1'] });
  });
  after(async () => {
    await collector.stop();
  });

  it('answers /healthz and lookups while large exports are still being decoded', async () => {
    const body = largeIgnoredExport();
    let answered = 0;
    // ~2.4 s of decoding for the one ingest thread. Decoded on the main thread (--ingest-threads
    // 0, as before ingest threads existed), /metrics and /healthz would wait for each decode, and
    // the first export would be answered before the probe below.
    const exports = Array.from({ length: 6 }, async () => {
      const answer = await postJsonExport(collector.otlpUrl, body);
      answered++;
      return answer;
    });
    // Once a whole body is held, its decoding has begun.
    await eventually(
      async () => (await gauge(collector, 'crumbtrail_export_body_bytes_held')) >= body.length,
    );
    const health = await getJson(collector.apiUrl, '/healthz');
    const lookup = await getJson(collector.apiUrl, '/api/v1/events?maxResults=1');
    const answeredBeforeProbes = answered;
    assert.equal(health.status, 200);
    assert.equal(lookup.status, 200);
    assert.equal(answeredBeforeProbes, 0, 'the API answered while every export was still being decoded');

    for (const answer of await Promise.all(exports)) {
      assert.equal(answer.status, 200);
      assert.equal(answer.body.partialSuccess, undefined, 'ignored spans are not rejections');
    }
    assert.equal((await postGood(collector)).status, 200);
  });
});

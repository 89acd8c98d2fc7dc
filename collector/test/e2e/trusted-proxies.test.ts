/*
 * --trust-proxy: a derived event (--derive-from-http-spans) believes the forwarded client address
 * (client.address, from X-Forwarded-For) only when the connection's peer is a trusted proxy; a
 * bad entry stops the collector at start with a message naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { exitOf, killedOnExit } from '../support/child-processes.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { COLLECTOR_BIN, getJson, startCollectorProcess } from '../support/collector-process.js';
import { exportRequestJson, freshSpanId, postJsonExport, stringAttribute } from '../support/otlp-json.js';

const FORWARDED = '203.0.113.66';

/** A plain HTTP server span (no crumbtrail attributes) that came through a proxy on loopback. */
function proxiedServerSpan(path: string): Record<string, unknown> {
  const startNanos = BigInt(Date.now() - 60_000) * 1_000_000n;
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: freshSpanId(),
    name: 'GET',
    kind: 2,
    startTimeUnixNano: String(startNanos),
    endTimeUnixNano: String(startNanos + 2_000_000n),
    attributes: [
      stringAttribute('http.request.method', 'GET'),
      stringAttribute('url.path', path),
      stringAttribute('client.address', FORWARDED),
      stringAttribute('network.peer.address', '::ffff:127.0.0.1'),
    ],
  };
}

async function sourceOf(collector: CollectorProcess, path: string): Promise<string | undefined> {
  const answer = await postJsonExport(collector.otlpUrl, exportRequestJson([proxiedServerSpan(path)]));
  assert.equal(answer.status, 200);
  const { body } = await getJson(collector.apiUrl, `/api/v1/events?q=${encodeURIComponent(path)}`);
  const events = (body as { events: { sourceIPAddress?: string }[] }).events;
  assert.equal(events.length, 1);
  return events[0]?.sourceIPAddress;
}

/** The collector started with bad flags: it must exit at once, saying why. */
async function refusedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = killedOnExit(
    spawn(process.execPath, [COLLECTOR_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await exitOf(child);
  return { code, stderr };
}

describe('--trust-proxy for derived events', () => {
  let trusting: CollectorProcess;
  let distrusting: CollectorProcess;
  before(async () => {
    [trusting, distrusting] = await Promise.all([
      startCollectorProcess({ args: ['--derive-from-http-spans', '--trust-proxy', 'loopback, 10.0.0.0/8'] }),
      startCollectorProcess({ args: ['--derive-from-http-spans'] }),
    ]);
  });
  after(async () => {
    await Promise.all([trusting.stop(), distrusting.stop()]);
  });

  it('takes the forwarded address from a trusted proxy only', async () => {
    assert.equal(await sourceOf(trusting, '/via-trusted-proxy'), FORWARDED);
    // Untrusted, the peer is the source: the IPv4-mapped form stored as plain IPv4.
    assert.equal(await sourceOf(distrusting, '/via-unknown-proxy'), '127.0.0.1');
  });

  it('refuses a list entry that is not an address, range or range name', async () => {
    const run = await refusedStart(['--trust-proxy', 'loopback,proxy.example.com']);
    assert.equal(run.code, 1, "commander's exit status for an invalid option value");
    assert.match(run.stderr, /--trust-proxy.*proxy\.example\.com/s);
  });
});

/*
 * End to end, a team's existing tracing without crumbtrail code: a plain node:http server traced
 * by the official SDK and @opentelemetry/instrumentation-http, exporting OTLP/JSON to the real
 * collector run with --derive-from-http-spans. The source address is the connection's peer, not a
 * forged X-Forwarded-For; an IPv4 client of the dual-stack socket ("::ffff:127.0.0.1") is stored
 * as 127.0.0.1 and found by that filter (in every mode); calls to different paths without a route
 * keep their path.
 *
 * Needs the collector built first: `npx tsc -b collector instrumentation`.
 */
import assert from 'node:assert/strict';
import type * as NodeHttp from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { CollectorProcess } from '../../collector/test/support/collector-process.js';
import { getJson, startCollectorProcess } from '../../collector/test/support/collector-process.js';
import { recordApiCall } from '../src/index.js';

interface EventRecord {
  eventName: string;
  eventSource: string;
  sourceIPAddress?: string;
  crumbtrail: { origin?: string; path?: string; peerAddress?: string };
}

const FORGED = '203.0.113.66';

describe('--derive-from-http-spans with a plain node:http server and the http instrumentation', () => {
  let collector: CollectorProcess;
  let provider: NodeTracerProvider;
  let http: HttpInstrumentation;
  let server: NodeHttp.Server;
  let url: string;
  const startMs = Date.now() - 60_000;

  before(async () => {
    collector = await startCollectorProcess({ args: ['--derive-from-http-spans'] });
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'legacy-api' }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector.otlpUrl}/v1/traces` })),
      ],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    http = new HttpInstrumentation();
    http.setTracerProvider(provider);
    http.enable();
    // Patched when next required, as an application loaded after its tracing setup.
    const nodeHttp = createRequire(import.meta.url)('node:http') as typeof NodeHttp;
    server = nodeHttp.createServer((_request, response) => {
      response.end('ok');
    });
    // '::' is dual-stack: an IPv4 client's address is "::ffff:127.0.0.1".
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    http.disable();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    await new Promise((resolve) => server.close(resolve));
    await collector.stop();
  });

  async function events(query: string, count: number): Promise<EventRecord[]> {
    const path = `/api/v1/events?startTime=${startMs}&${query}`;
    for (let attempt = 0; attempt < 100; attempt++) {
      const { body } = await getJson<{ events: EventRecord[] }>(collector.apiUrl, path);
      if (body.events.length >= count) return body.events;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return (await getJson<{ events: EventRecord[] }>(collector.apiUrl, path)).body.events;
  }

  it('records the peer as the source, keeps paths apart, and stores IPv4-mapped addresses as IPv4', async () => {
    for (const path of ['/a/1?token=secret', '/b']) {
      const response = await fetch(`${url}${path}`, { headers: { 'x-forwarded-for': FORGED } });
      assert.equal(await response.text(), 'ok');
    }
    // And an audit span of the instrumentation (another mode) with the mapped form.
    recordApiCall({ eventName: 'Ping', sourceIPAddress: '::ffff:127.0.0.1' }, () => undefined);
    await provider.forceFlush();

    const derived = await events('eventSource=legacy-api&eventName=GetNoRoute', 2);
    assert.deepEqual(derived.map((event) => event.crumbtrail.path).sort(), ['/a/1', '/b']);
    for (const event of derived) {
      assert.equal(event.crumbtrail.origin, 'http-span');
      assert.equal(event.sourceIPAddress, '127.0.0.1', 'the peer, not the forged X-Forwarded-For');
      assert.equal(event.crumbtrail.peerAddress, '127.0.0.1');
    }
    const probe = await events(`eventName=GetNoRoute&q=${encodeURIComponent('/a/1')}`, 1);
    assert.deepEqual(
      probe.map((event) => event.crumbtrail.path),
      ['/a/1'],
      'found by its path, as the README shows',
    );
    const byAddress = await events('sourceIPAddress=127.0.0.1', 3);
    assert.deepEqual(byAddress.map((event) => event.eventName).sort(), ['GetNoRoute', 'GetNoRoute', 'Ping']);
    assert.deepEqual(await events(`sourceIPAddress=${FORGED}`, 0), []);
  });
});

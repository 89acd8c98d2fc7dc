import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type * as NodeHttp from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';

import {
  DiagLogLevel,
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  context,
  diag,
  metrics,
  propagation,
  trace,
} from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

import { CountingBatchSpanProcessor } from '../src/dropped-span-counter.js';
import type { UndeliveredReport } from '../src/undelivered-report.js';
import { ATTR_CRUMBTRAIL_EVENT_NAME } from '../src/attributes.js';
import { auditHandler } from '../src/node-http.js';
import { createAuditSpanProcessor } from '../src/audit-span-processor.js';
import { startAuditTrail } from '../src/sdk.js';
import type { AuditTrail, AuditTrailSetup } from '../src/sdk.js';

// ---------------------------------------------------------------------------------------------
// A local OTLP/HTTP receiver that records what the exporters send

interface RecordedRequest {
  method: string;
  path: string;
  contentType: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:43210 */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

async function startReceiver(status = 200): Promise<Receiver> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const contentType = request.headers['content-type'] ?? '';
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType,
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      const json = contentType.startsWith('application/json');
      response.writeHead(status, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      // An empty ExportTraceServiceResponse encodes to zero bytes.
      response.end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // The exporters keep connections alive; close them or close() waits for their timeout.
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

/** Just the parts of an OTLP/JSON export request the tests look at. */
interface OtlpJsonExportRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { name: string; kind: number }[] }[];
  }[];
}

function decodeJson(request: RecordedRequest): OtlpJsonExportRequest {
  return JSON.parse(request.body.toString('utf8')) as OtlpJsonExportRequest;
}

function resourceAttributes(body: OtlpJsonExportRequest): Map<string, string | undefined> {
  const resource = body.resourceSpans[0]?.resource;
  assert.ok(resource, 'the request carries a resource');
  return new Map(resource.attributes.map(({ key, value }) => [key, value.stringValue]));
}

function spanNames(body: OtlpJsonExportRequest): string[] {
  return body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((span) => span.name)));
}

// ---------------------------------------------------------------------------------------------
// Test doubles

/** Collects diag warnings so drop reports can be asserted. */
class CapturingLogger implements DiagLogger {
  readonly warnings: string[] = [];
  error(): void {}
  warn(message: string): void {
    this.warnings.push(message);
  }
  info(): void {}
  debug(): void {}
  verbose(): void {}

  dropWarnings(): string[] {
    return this.warnings.filter((message) => message.includes('audit span(s)'));
  }
}

/** An exporter whose exports hang until the test releases them. */
class HeldExporter implements SpanExporter {
  readonly pending: { spans: ReadableSpan[]; done: (result: ExportResult) => void }[] = [];

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.pending.push({ spans, done: resultCallback });
  }

  /** Completes every export that is waiting, successfully. */
  release(): void {
    for (const { done } of this.pending.splice(0)) {
      done({ code: ExportResultCode.SUCCESS });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function waitFor(condition: () => boolean, timeoutMillis = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    assert.ok(Date.now() < deadline, 'timed out waiting for a condition');
    await nextTurn();
  }
}

function endSpans(processor: CountingBatchSpanProcessor, count: number): void {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'queue-test' }),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('queue-test');
  for (let i = 0; i < count; i++) {
    tracer.startSpan(`call ${i}`, { attributes: { [ATTR_CRUMBTRAIL_EVENT_NAME]: `Call${i}` } }).end();
  }
}

// ---------------------------------------------------------------------------------------------

describe('startAuditTrail and the counting span processor', () => {
  let savedEnv: Map<string, string>;
  let logger: CapturingLogger;
  let receivers: Receiver[];
  let trails: AuditTrail[];

  beforeEach(() => {
    // Tests must not depend on the OTEL_* variables of the machine they run on.
    savedEnv = new Map();
    for (const [key, value] of Object.entries(process.env)) {
      if (key.startsWith('OTEL_') && value !== undefined) {
        savedEnv.set(key, value);
        Reflect.deleteProperty(process.env, key);
      }
    }
    logger = new CapturingLogger();
    diag.setLogger(logger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    receivers = [];
    trails = [];
  });

  afterEach(async () => {
    await Promise.allSettled(trails.map((t) => t.shutdown()));
    await Promise.all(receivers.map((r) => r.close()));
    // NodeSDK registers these globally and does not unregister them on shutdown.
    trace.disable();
    context.disable();
    propagation.disable();
    metrics.disable();
    diag.disable();
    for (const key of Object.keys(process.env)) {
      if (key.startsWith('OTEL_')) {
        Reflect.deleteProperty(process.env, key);
      }
    }
    for (const [key, value] of savedEnv) {
      process.env[key] = value;
    }
  });

  async function receiver(status?: number): Promise<Receiver> {
    const started = await startReceiver(status);
    receivers.push(started);
    return started;
  }

  function start(config: AuditTrailSetup): AuditTrail {
    const trail = startAuditTrail(config);
    trails.push(trail);
    return trail;
  }

  function endServerSpan(name: string): void {
    // An audit span: the audit processor forwards no other.
    trace
      .getTracer('setup-test')
      .startSpan(name, { kind: SpanKind.SERVER, attributes: { [ATTR_CRUMBTRAIL_EVENT_NAME]: name } })
      .end();
  }

  it('exports protobuf to <endpoint>/v1/traces by default, with the configured headers', async () => {
    const collector = await receiver();
    const trail = start({
      serviceName: 'iam',
      endpoint: collector.url,
      headers: { authorization: 'Bearer ingest-token' },
    });

    endServerSpan('CreateUser');
    await trail.forceFlush();

    assert.equal(collector.requests.length, 1);
    const [request] = collector.requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.path, '/v1/traces');
    assert.equal(request!.contentType, 'application/x-protobuf');
    assert.equal(request!.headers.authorization, 'Bearer ingest-token');
    // Protobuf stores strings as plain UTF-8, so the service and span names are visible in the body.
    assert.ok(request!.body.includes('iam'), 'service.name is in the body');
    assert.ok(request!.body.includes('CreateUser'), 'the span is in the body');
    assert.deepEqual(trail.stats(), {
      ended: 1,
      exported: 1,
      failed: 0,
      dropped: 0,
      queued: 0,
      exporting: 0,
    });
  });

  it('exports JSON when asked, with service name, version and extra resource attributes', async () => {
    const collector = await receiver();
    const trail = start({
      serviceName: 'iam',
      serviceVersion: '1.2.3',
      endpoint: `${collector.url}/`,
      protocol: 'http/json',
      resourceAttributes: { 'cloud.region': 'eu-west-1', 'cloud.account.id': '123456789012' },
    });

    endServerSpan('CreateUser');
    await trail.forceFlush();

    const [request] = collector.requests;
    assert.equal(request!.path, '/v1/traces');
    assert.equal(request!.contentType, 'application/json');
    const body = decodeJson(request!);
    const attributes = resourceAttributes(body);
    assert.equal(attributes.get('service.name'), 'iam');
    assert.equal(attributes.get('service.version'), '1.2.3');
    assert.equal(attributes.get('cloud.region'), 'eu-west-1');
    assert.equal(attributes.get('cloud.account.id'), '123456789012');
    // The default resource is kept (merged, not replaced).
    assert.equal(attributes.get('telemetry.sdk.language'), 'nodejs');
    assert.deepEqual(spanNames(body), ['CreateUser']);
  });

  it('takes endpoint, protocol and headers from the standard OTEL_EXPORTER_OTLP_* variables', async () => {
    const collector = await receiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'authorization=Bearer from-env,x-tenant=acme';
    process.env.OTEL_SERVICE_NAME = 'not-the-configured-name';
    const trail = start({ serviceName: 'iam', headers: { 'x-tenant': 'configured' } });

    endServerSpan('ListUsers');
    await trail.forceFlush();

    const [request] = collector.requests;
    assert.equal(request!.path, '/v1/traces', 'OTEL_EXPORTER_OTLP_ENDPOINT is a base URL');
    assert.equal(request!.contentType, 'application/json');
    assert.equal(request!.headers.authorization, 'Bearer from-env');
    assert.equal(request!.headers['x-tenant'], 'configured', 'configured headers win over the variable');
    assert.equal(resourceAttributes(decodeJson(request!)).get('service.name'), 'iam');
  });

  it('uses OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is and prefers the trace-specific protocol', async () => {
    const collector = await receiver();
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${collector.url}/custom/traces`;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9';
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = 'http/json';
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf';
    const trail = start({ serviceName: 'iam' });

    endServerSpan('GetUser');
    await trail.forceFlush();

    const [request] = collector.requests;
    assert.equal(request!.path, '/custom/traces');
    assert.equal(request!.contentType, 'application/json');
  });

  it('prefers explicit endpoint and protocol over the environment', async () => {
    const collector = await receiver();
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = 'http://127.0.0.1:9/v1/traces';
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    const trail = start({ serviceName: 'iam', endpoint: collector.url, protocol: 'http/protobuf' });

    endServerSpan('GetUser');
    await trail.forceFlush();

    assert.equal(collector.requests.length, 1);
    assert.equal(collector.requests[0]!.contentType, 'application/x-protobuf');
  });

  it('exports on forceFlush and on shutdown, and counts spans ended after shutdown as dropped', async () => {
    const collector = await receiver();
    const trail = start({ serviceName: 'iam', endpoint: collector.url, scheduledDelayMillis: 60_000 });

    endServerSpan('first');
    await nextTurn();
    assert.equal(collector.requests.length, 0, 'nothing is sent before the scheduled delay');
    assert.equal(trail.stats().queued, 1);
    await trail.forceFlush();
    assert.equal(collector.requests.length, 1);

    endServerSpan('second');
    await trail.shutdown();
    assert.equal(collector.requests.length, 2, 'shutdown exports what is queued');
    await trail.shutdown(); // idempotent

    endServerSpan('too late');
    assert.deepEqual(trail.stats(), {
      ended: 3,
      exported: 2,
      failed: 0,
      dropped: 1,
      queued: 0,
      exporting: 0,
    });
  });

  it('records every call even when the caller asks for it not to be sampled', async () => {
    const collector = await receiver();
    const trail = start({ serviceName: 'iam', endpoint: collector.url });
    const unsampledParent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });

    trace
      .getTracer('setup-test')
      .startSpan(
        'DeleteUser',
        { kind: SpanKind.SERVER, attributes: { [ATTR_CRUMBTRAIL_EVENT_NAME]: 'DeleteUser' } },
        unsampledParent,
      )
      .end();
    await trail.forceFlush();

    assert.equal(trail.stats().exported, 1);
  });

  it('counts failed exports when the collector rejects them', async () => {
    const collector = await receiver(400);
    const trail = start({ serviceName: 'iam', endpoint: collector.url });

    endServerSpan('a');
    endServerSpan('b');
    endServerSpan('c');
    await assert.rejects(trail.forceFlush());

    assert.equal(collector.requests.length, 1, 'a 400 is not retried');
    assert.deepEqual(trail.stats(), {
      ended: 3,
      exported: 0,
      failed: 3,
      dropped: 0,
      queued: 0,
      exporting: 0,
    });
  });

  it('reports at shutdown, once, how many events were not sent, where to and why; shutdown resolves', async () => {
    const collector = await receiver(400);
    const reports: UndeliveredReport[] = [];
    const trail = start({
      serviceName: 'iam',
      endpoint: collector.url,
      onUndelivered: (report) => reports.push(report),
    });
    endServerSpan('a');
    endServerSpan('b');
    await trail.shutdown();
    await trail.shutdown();
    assert.equal(reports.length, 1, 'reported once');
    assert.equal(reports[0]!.count, 2);
    assert.equal(reports[0]!.destination, `${collector.url}/v1/traces`);
    assert.match(reports[0]!.reason, /^2 failed to export \(.*HTTP 400\)/);
    assert.ok(
      logger.warnings.some((message) => message.startsWith('crumbtrail: 2 audit events not sent')),
      'diag.warn has it too',
    );
  });

  it('bounds shutdown by shutdownTimeoutMillis when the exporter never answers, and reports the rest', async () => {
    const exporter = new HeldExporter();
    const reports: UndeliveredReport[] = [];
    const processor = new CountingBatchSpanProcessor(exporter, {
      shutdownTimeoutMillis: 50,
      onUndelivered: (report) => reports.push(report),
    });
    endSpans(processor, 3);
    await processor.shutdown(); // resolves although the export never completes
    assert.equal(exporter.pending.length, 1);
    assert.deepEqual(
      reports.map((r) => [r.count, r.destination]),
      [[3, undefined]],
    );
    assert.match(reports[0]!.reason, /^3 not acknowledged by the collector within 50 ms/);
    exporter.release();
  });

  it('passes instrumentations to the SDK: HttpInstrumentation yields one server span per request', async () => {
    const collector = await receiver();
    // Where NodeSDK would send the instrumentation's metrics (and logs) if it set them up.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
    // The receiver runs in this process too: its own requests must not be traced, or every
    // export would produce a span to export.
    const httpInstrumentation = new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => request.url === '/v1/traces',
    });
    const trail = start({
      serviceName: 'iam',
      endpoint: collector.url,
      protocol: 'http/json',
      instrumentations: [httpInstrumentation],
    });
    // The instrumentation patches `http` when it is required after the SDK started (as an
    // application loaded after `node --import ./audit.js` would).
    const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;
    // Audited, so that the server span is an audit span (the only kind the audit processor sends).
    const app = http.createServer(
      auditHandler({ eventName: 'CreateUser' }, (_request, response) => {
        response.end('ok');
      }),
    );
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = app.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/users`, { method: 'POST' });
      assert.equal(await response.text(), 'ok');
      // The server span ends on the server's 'finish', which may come after the client has the response.
      await waitFor(() => trail.stats().ended > 0);
      await trail.forceFlush();
    } finally {
      app.closeAllConnections();
      await new Promise<void>((resolve) => {
        app.close(() => {
          resolve();
        });
      });
    }

    const spans = collector.requests.flatMap((request) =>
      decodeJson(request).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
    );
    const serverSpans = spans.filter((span) => span.kind === 2); // SPAN_KIND_SERVER in OTLP
    assert.equal(serverSpans.length, 1);
    assert.equal(serverSpans[0]!.name, 'POST');
    // Only traces, also at shutdown: the collector has no metrics or logs receiver.
    await trail.shutdown();
    assert.deepEqual(new Set(collector.requests.map((request) => request.path)), new Set(['/v1/traces']));
    assert.equal(httpInstrumentation.isEnabled(), false, 'shutdown unpatches http');
  });

  it('counts spans dropped because the queue is full and reports them', async () => {
    const exporter = new HeldExporter();
    const reported: number[] = [];
    const processor = createAuditSpanProcessor({
      exporter,
      maxQueueSize: 4,
      scheduledDelayMillis: 60_000,
      onDroppedSpans: (count) => reported.push(count),
    });

    // 4 spans fill a batch, which goes to the (hanging) exporter at once; 4 more wait in the
    // queue; the last 2 find it full.
    endSpans(processor, 10);
    assert.equal(exporter.pending.length, 1);
    assert.equal(exporter.pending[0]!.spans.length, 4);
    assert.deepEqual(processor.stats(), {
      ended: 10,
      exported: 0,
      failed: 0,
      dropped: 2,
      queued: 4,
      exporting: 4,
    });
    // Reported at once, then throttled: the second drop waits for the interval (or shutdown).
    assert.deepEqual(reported, [1]);
    assert.equal(logger.dropWarnings().length, 1);
    assert.match(logger.dropWarnings()[0]!, /dropped 1 audit span\(s\).*maxQueueSize 4/);

    // Once the export completes the queued batch goes out and the queue has room again.
    exporter.release();
    await nextTurn();
    assert.deepEqual(processor.stats(), {
      ended: 10,
      exported: 4,
      failed: 0,
      dropped: 2,
      queued: 0,
      exporting: 4,
    });
    endSpans(processor, 3);
    assert.equal(processor.stats().dropped, 2, 'no drop while the queue has room');

    exporter.release();
    const flushed = processor.forceFlush();
    await nextTurn();
    exporter.release();
    await flushed;
    await processor.shutdown();

    assert.deepEqual(processor.stats(), {
      ended: 13,
      exported: 11,
      failed: 0,
      dropped: 2,
      queued: 0,
      exporting: 0,
    });
    assert.deepEqual(reported, [1, 1], 'shutdown reports the drops still pending');
    assert.equal(logger.dropWarnings().length, 2);
    assert.match(logger.dropWarnings()[1]!, /dropped=2/);
  });

  it('sizes the queue from OTEL_BSP_MAX_QUEUE_SIZE unless maxQueueSize is given', async () => {
    process.env.OTEL_BSP_MAX_QUEUE_SIZE = '3';
    const fromEnvExporter = new HeldExporter();
    const fromEnv = createAuditSpanProcessor({ exporter: fromEnvExporter });
    endSpans(fromEnv, 10);
    assert.equal(fromEnv.stats().dropped, 4, '3 exporting, 3 queued');

    const explicitExporter = new HeldExporter();
    const explicit = createAuditSpanProcessor({ exporter: explicitExporter, maxQueueSize: 4 });
    endSpans(explicit, 10);
    assert.equal(explicit.stats().dropped, 2, '4 exporting, 4 queued');

    for (const [processor, exporter] of [
      [fromEnv, fromEnvExporter],
      [explicit, explicitExporter],
    ] as const) {
      const stopped = processor.shutdown();
      exporter.release();
      await nextTurn();
      exporter.release();
      await stopped;
    }
  });
});

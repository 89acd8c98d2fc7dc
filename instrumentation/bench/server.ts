/*
 * One benchmark server process: `node --import tsx server.ts <variant> <sink URL> <spin iterations>`,
 * forked by run.ts. It serves the same node:http handler in every variant, set up as
 *   plain                            no OpenTelemetry at all;
 *   http-instrumentation             @opentelemetry/instrumentation-http alone;
 *   crumbtrail                       crumbtrail's auditHandler alone (it starts the server span);
 *   crumbtrail+http-instrumentation  auditHandler enriching the http instrumentation's span;
 *   sdk-span                         the floor: a server span started, made active for the handler
 *                                    and ended with the response, no attributes, no crumbtrail;
 *   sdk-span+attributes              the same span with the attributes crumbtrail records on this
 *                                    request, set directly;
 * the traced ones with a NodeTracerProvider (AsyncLocalStorage context, W3C propagator) and a
 * BatchSpanProcessor exporting OTLP/HTTP protobuf to the orchestrator's sink. The exporter is the one
 * each set-up really has: in the two crumbtrail variants crumbtrail's (createAuditSpanProcessor's:
 * OpenTelemetry's exporter and transport with crumbtrail's encoder, otlp-protobuf-exporter.ts), in
 * the others OpenTelemetry's OTLPTraceExporter (@opentelemetry/exporter-trace-otlp-proto), so the
 * floor stays the SDK's own. On `begin` and `end`
 * it reads its own CPU time, flushing every span first, so export cost is part of the figure.
 *
 * Two knobs, for taking the cost apart (callgrind.ts; never set by run.ts):
 *   BENCH_SERVER_EXPORT=otlp (default) | serialize | none — send OTLP/HTTP protobuf as above; or
 *     only serialise each batch to protobuf (the OTLP transform and encoding, no HTTP, with the
 *     variant's serializer); or neither
 *     (the spans are still started, ended and batched, then dropped);
 *   BENCH_SERVER_ACTIVATE=no — the sdk-span variants start and end their span without making it
 *     the active context for the handler (no context.with).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type * as NodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import * as A from '../src/attributes.js';
import { auditHandler } from '../src/node-http.js';
import { createOtlpProtobufTraceExporter } from '../src/otlp-protobuf-exporter.js';
import { OtlpProtobufTraceSerializer } from '../src/otlp-protobuf-serializer.js';
import type { ServerCommand, ServerMessage } from './protocol.js';
import { VARIANTS, spin } from './protocol.js';

const [variantArgument, sinkUrl, iterationsArgument] = process.argv.slice(2);
const variant = VARIANTS.find((name) => name === variantArgument);
if (variant === undefined || sinkUrl === undefined || iterationsArgument === undefined) {
  throw new Error(`usage: server.ts <${VARIANTS.join('|')}> <sink URL> <spin iterations>`);
}
const spinIterations = Number(iterationsArgument);
const exportMode = process.env.BENCH_SERVER_EXPORT ?? 'otlp';
if (exportMode !== 'otlp' && exportMode !== 'serialize' && exportMode !== 'none') {
  throw new Error(`BENCH_SERVER_EXPORT: "${exportMode}" is none of otlp, serialize, none`);
}
const activateSdkSpan = process.env.BENCH_SERVER_ACTIVATE !== 'no';

function send(message: ServerMessage): void {
  process.send?.(message);
}

let exportedSpans = 0;
let provider: NodeTracerProvider | undefined;

function startTracing(withHttpInstrumentation: boolean, withCrumbtrailExporter: boolean): void {
  const url = `${sinkUrl}/v1/traces`;
  const exporter = withCrumbtrailExporter
    ? createOtlpProtobufTraceExporter({ url })
    : new OTLPTraceExporter({ url });
  const serializer = withCrumbtrailExporter ? new OtlpProtobufTraceSerializer() : ProtobufTraceSerializer;
  const exportSpans = exporter.export.bind(exporter);
  exporter.export = (spans: ReadableSpan[], done: (result: ExportResult) => void) => {
    exportedSpans += spans.length;
    if (exportMode === 'otlp') {
      exportSpans(spans, done);
      return;
    }
    if (exportMode === 'serialize' && serializer.serializeRequest(spans) === undefined) {
      throw new Error('the OTLP serializer returned nothing');
    }
    done({ code: ExportResultCode.SUCCESS });
  };
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    // crumbtrail's audit sizing for every variant, so no variant drops spans in a burst.
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxQueueSize: 65_536,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 1_000,
      }),
    ],
  });
  provider.register();
  if (withHttpInstrumentation) {
    // Enabled now, it patches http.Server.prototype.emit the next time http is require()d.
    new HttpInstrumentation().enable();
  }
}

const traced = variant !== 'plain';
const withHttpInstrumentation =
  variant === 'http-instrumentation' || variant === 'crumbtrail+http-instrumentation';
const withCrumbtrail = variant === 'crumbtrail' || variant === 'crumbtrail+http-instrumentation';
if (traced) startTracing(withHttpInstrumentation, withCrumbtrail);
// Loaded the CommonJS way (as a CommonJS application would), after the instrumentation: under ESM
// an `import 'node:http'` is not seen by require-in-the-middle, and nothing would be patched.
const http = createRequire(import.meta.url)('node:http') as typeof NodeHttp;

/** Scope of the span active in the handler: shows which layer made the request's span. */
function activeScope(): string {
  const span = trace.getActiveSpan() as { instrumentationScope?: { name: string } } | undefined;
  return span?.instrumentationScope?.name ?? 'none';
}

/** The same handler in every variant. */
function handler(request: IncomingMessage, response: ServerResponse): void {
  let body: string;
  if (request.url === '/work') body = String(spin(spinIterations));
  else if (request.url === '/probe') body = activeScope();
  else body = 'ok';
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** The SDK alone: one server span per request, active in the handler, ended with the response. */
function sdkSpanListener(withAttributes: boolean): RequestListener {
  const tracer = trace.getTracer('bench-sdk-span');
  return (request, response) => {
    const span = tracer.startSpan(request.method ?? 'GET', { kind: SpanKind.SERVER });
    response.once('finish', () => {
      if (withAttributes) {
        // What crumbtrail records for this request (its contract), without any of its logic. A
        // GET's crumbtrail.read_only and a client.address equal to the peer are left out: the
        // collector infers them (issue 12).
        span.setAttribute(A.ATTR_CRUMBTRAIL_EVENT_NAME, 'GetStatus');
        span.setAttribute(A.ATTR_CRUMBTRAIL_IDENTITY_TYPE, 'IAMUser');
        span.setAttribute(A.ATTR_USER_NAME, request.headers['x-user'] as string);
        span.setAttribute(A.ATTR_CRUMBTRAIL_REQUEST_ID, randomUUID());
        span.setAttribute(A.ATTR_NETWORK_PEER_ADDRESS, request.socket.remoteAddress ?? '');
        span.setAttribute(A.ATTR_HTTP_REQUEST_METHOD, request.method ?? 'GET');
        span.setAttribute(A.ATTR_HTTP_RESPONSE_STATUS_CODE, response.statusCode);
      }
      span.end();
    });
    if (!activateSdkSpan) {
      handler(request, response);
      return;
    }
    context.with(trace.setSpan(context.active(), span), () => {
      handler(request, response);
    });
  };
}

function listenerOf(): RequestListener {
  if (variant === 'sdk-span' || variant === 'sdk-span+attributes') {
    return sdkSpanListener(variant === 'sdk-span+attributes');
  }
  if (!withCrumbtrail) return handler;
  return auditHandler(
    {
      eventName: 'GetStatus',
      identity: (request) => ({
        type: 'IAMUser',
        userName: request.headers['x-user'] as string | undefined,
      }),
    },
    handler,
  );
}

const listener = listenerOf();

const server = http.createServer({ keepAliveTimeout: 60_000 }, listener);

let cpuAtBegin: NodeJS.CpuUsage | undefined;
let exportedAtBegin = 0;

async function flush(): Promise<void> {
  await provider?.forceFlush();
}

process.on('message', (command: ServerCommand) => {
  void (async () => {
    if (command.type === 'begin') {
      await flush();
      exportedAtBegin = exportedSpans;
      cpuAtBegin = process.cpuUsage();
      send({ type: 'begun' });
    } else {
      await flush();
      const used = process.cpuUsage(cpuAtBegin);
      send({
        type: 'ended',
        cpuMicros: used.user + used.system,
        systemMicros: used.system,
        exportedSpans: exportedSpans - exportedAtBegin,
      });
    }
  })();
});

process.on('disconnect', () => {
  server.closeAllConnections();
  server.close();
  void provider?.shutdown();
});

server.listen(0, '127.0.0.1', () => {
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
});

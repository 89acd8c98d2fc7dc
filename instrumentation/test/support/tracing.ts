/*
 * A real OpenTelemetry tracer provider for the tests: spans go to an in-memory exporter through a
 * SimpleSpanProcessor, with the AsyncLocalStorage context manager, and optionally
 * @opentelemetry/instrumentation-http so that crumbtrail enriches the span it creates.
 */
import { createRequire } from 'node:module';
import { context, diag, propagation, trace } from '@opentelemetry/api';
import type { Attributes, DiagLogger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import * as A from '../../src/attributes.js';
import { isReadOnlyHttpMethod } from '../../src/conventions.js';

export interface TestTracing {
  exporter: InMemorySpanExporter;
  /** Finished spans whose attributes mark them as audit spans. */
  auditSpans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

/** One HttpInstrumentation for the whole test process: it patches node:http once. */
let http: HttpInstrumentation | undefined;

export function startTracing(options: { httpInstrumentation: boolean }): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'iam' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  trace.disable();
  context.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  if (options.httpInstrumentation) {
    http ??= new HttpInstrumentation();
    http.setTracerProvider(provider);
    http.enable();
    // The instrumentation patches node:http when it is next required, as an application loaded
    // after its tracing setup would: do that now, so servers created from here on are traced.
    createRequire(import.meta.url)('node:http');
  } else {
    http?.disable();
  }
  return {
    exporter,
    auditSpans: () =>
      exporter.getFinishedSpans().filter((span) => span.attributes['crumbtrail.event.name'] !== undefined),
    async shutdown() {
      http?.disable();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Waits until `count` audit spans have finished (the HTTP span ends on response close). */
export async function waitForAuditSpans(tracing: TestTracing, count: number): Promise<ReadableSpan[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const spans = tracing.auditSpans();
    if (spans.length >= count) return spans;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`expected ${count} audit spans, got ${tracing.auditSpans().length}`);
}

/** Captures what the instrumentation logs through diag.error until `restore()`. */
export function captureDiagErrors(): { messages: string[]; restore(): void } {
  const messages: string[] = [];
  const logger: DiagLogger = {
    error: (message: string) => messages.push(message),
    warn: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(logger);
  return {
    messages,
    restore: () => {
      diag.disable();
    },
  };
}

/**
 * What the collector records as readOnly from a span's attributes: crumbtrail.read_only, else what
 * the method implies (the instrumentation leaves the attribute out then: collector span-to-event.ts).
 */
export function recordedReadOnly(attributes: Attributes | Record<string, unknown>): boolean {
  const explicit = attributes[A.ATTR_CRUMBTRAIL_READ_ONLY];
  if (typeof explicit === 'boolean') return explicit;
  const method = attributes[A.ATTR_HTTP_REQUEST_METHOD] ?? attributes['http.method'];
  return typeof method === 'string' && isReadOnlyHttpMethod(method);
}

/** What the collector records as sourceIPAddress: client.address, else the socket peer. */
export function recordedSourceAddress(attributes: Attributes | Record<string, unknown>): unknown {
  return attributes[A.ATTR_CLIENT_ADDRESS] ?? attributes[A.ATTR_NETWORK_PEER_ADDRESS];
}

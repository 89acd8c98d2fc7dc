/*
 * The official OpenTelemetry JS SDK as the collector's client: spans are made by a real tracer
 * and sent by the real OTLP exporters (exporter-trace-otlp-http sends JSON, -proto protobuf).
 */
import type { Attributes } from '@opentelemetry/api';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export type Protocol = 'json' | 'protobuf';

export interface AuditCall {
  name?: string;
  time: Date;
  attributes: Attributes;
  kind?: SpanKind;
  durationMs?: number;
}

/** Makes finished spans with a real tracer (ids, times and attributes as the SDK sets them). */
export function makeSpans(
  calls: readonly AuditCall[],
  resource: Attributes = { 'service.name': 'iam' },
): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('crumbtrail-tests');
  for (const call of calls) {
    // call.time is when the call was made: its eventTime.
    const span = tracer.startSpan(call.name ?? 'call', {
      kind: call.kind ?? SpanKind.SERVER,
      startTime: call.time,
      attributes: call.attributes,
    });
    span.end(new Date(call.time.getTime() + (call.durationMs ?? 20)));
  }
  return memory.getFinishedSpans();
}

export function exporterFor(
  protocol: Protocol,
  otlpUrl: string,
  headers: Record<string, string> = {},
  compression: CompressionAlgorithm = CompressionAlgorithm.NONE,
): SpanExporter {
  const config = { url: `${otlpUrl}/v1/traces`, headers, compression };
  return protocol === 'json' ? new JsonTraceExporter(config) : new ProtobufTraceExporter(config);
}

/** One export call, as the BatchSpanProcessor makes it; resolves with the exporter's verdict. */
export function exportSpans(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => {
    exporter.export(spans, resolve);
  });
}

/** Exports and fails the test unless the collector acknowledged the batch. */
export async function exportOrFail(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  const result = await exportSpans(exporter, spans);
  if (result.code !== ExportResultCode.SUCCESS) {
    throw new Error(`export failed: ${result.error?.message ?? 'unknown error'}`);
  }
}

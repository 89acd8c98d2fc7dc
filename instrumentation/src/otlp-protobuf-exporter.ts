/*
 * The OTLP/HTTP protobuf exporter the audit span processor builds: OpenTelemetry's own, put together
 * as @opentelemetry/exporter-trace-otlp-proto's OTLPTraceExporter puts itself together (0.223: an
 * OTLPExporterBase around createOtlpHttpExportDelegate, from the config that convertLegacyHttpOptions
 * makes of the options and the OTEL_EXPORTER_OTLP_* variables), with crumbtrail's encoder in place of
 * ProtobufTraceSerializer. So retries, timeouts, compression, headers, the agent and the
 * environment variables are the official ones, and the bytes on the wire are the same
 * (otlp-protobuf-serializer.ts); only the encoding costs less.
 *
 * Public API only: OTLPExporterBase and the /node-http entry point of @opentelemetry/otlp-exporter-base
 * (which its package calls "for internal use", but exports for every OTLP exporter to build on), and
 * TraceExporterMetricsHelper of otlp-transformer. The HTTP transport factory itself is not exported,
 * so this takes the whole official delegate rather than assembling one. Older releases (before 0.2xx
 * had exporter self-metrics) take the first two arguments only and ignore the rest; the metrics helper
 * is read from the module namespace so that its absence there is no link error.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import * as otlpTransformer from '@opentelemetry/otlp-transformer';
import { OtlpProtobufTraceSerializer } from './otlp-protobuf-serializer.js';

/** The exporter's self-metrics component type, as OTLPTraceExporter (protobuf over HTTP) reports it. */
const COMPONENT_TYPE_OTLP_HTTP_SPAN_EXPORTER = 'otlp_http_span_exporter';

/** An OTLP/HTTP protobuf span exporter: `url` and `headers` as OTLPTraceExporter's, else the OTEL_* variables. */
export function createOtlpProtobufTraceExporter(config: OTLPExporterNodeConfigBase): SpanExporter {
  return new OTLPExporterBase(
    createOtlpHttpExportDelegate(
      // Deprecated for 2.0, and what OTLPTraceExporter 0.223 itself calls: the one public way from
      // the options and OTEL_EXPORTER_OTLP_* variables to the delegate's configuration.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
      new OtlpProtobufTraceSerializer(),
      COMPONENT_TYPE_OTLP_HTTP_SPAN_EXPORTER,
      otlpTransformer.TraceExporterMetricsHelper,
      undefined,
    ),
  );
}

/*
 * The audit span processor for any OpenTelemetry SDK: a CountingBatchSpanProcessor sized for audit
 * data, exporting over OTLP/HTTP to a crumbtrail collector (./sdk.ts starts a NodeSDK around it).
 *
 * Precedence everywhere: an explicit option, then the standard OTEL_* environment variable, then
 * the crumbtrail default.
 */
import { diag } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { getNumberFromEnv, getStringFromEnv } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

import { isAuditSpan } from './audit-span-filter.js';
import { CountingBatchSpanProcessor, resolveSizeOption } from './dropped-span-counter.js';
import { createOtlpProtobufTraceExporter } from './otlp-protobuf-exporter.js';
import type { SpanStats } from './dropped-span-counter.js';
import type { UndeliveredReport } from './undelivered-report.js';

export type OtlpHttpProtocol = 'http/protobuf' | 'http/json';

/** Audit defaults: a burst must not cost audit events, and events should be searchable quickly. */
export const DEFAULT_AUDIT_MAX_QUEUE_SIZE = 65_536;
export const DEFAULT_AUDIT_MAX_EXPORT_BATCH_SIZE = 512;
export const DEFAULT_AUDIT_SCHEDULED_DELAY_MILLIS = 1_000;

const TRACES_PATH = 'v1/traces';

/** Where and how audit spans are sent, and how they are queued on the way. */
export interface AuditSpanProcessorOptions {
  /**
   * Base URL of the collector's OTLP/HTTP receiver, e.g. "http://localhost:4318"; "/v1/traces"
   * is appended unless the path already ends with it. Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
   * (a full URL, used as is), else OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces", else
   * http://localhost:4318/v1/traces.
   */
  endpoint?: string;
  /**
   * Default: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else
   * "http/protobuf". "grpc" is not supported and falls back to "http/protobuf" with a warning.
   */
  protocol?: OtlpHttpProtocol;
  /**
   * Sent with every export, e.g. `{ authorization: 'Bearer <ingest token>' }`. Merged over
   * OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS (these options win per name).
   */
  headers?: Record<string, string>;
  /**
   * Use this exporter instead of building an OTLP one (endpoint, protocol and headers are then
   * ignored): one that sends to the crumbtrail collector, e.g. an OTLPTraceExporter from
   * @opentelemetry/exporter-trace-otlp-proto with the collector's URL. Never your ordinary traces'
   * exporter: give that one its own processor (and withoutAuditAttributes()).
   */
  exporter?: SpanExporter;
  /**
   * true (default): only audit spans (crumbtrail.event.name set) are queued and sent to the
   * collector; the app's other spans (client calls, database spans) stay out of the audit queue.
   * false: every span the SDK ends, e.g. for a collector started with --derive-from-http-spans.
   */
  auditSpansOnly?: boolean;
  /** Default: OTEL_BSP_MAX_QUEUE_SIZE, else 65,536. */
  maxQueueSize?: number;
  /** Default: OTEL_BSP_MAX_EXPORT_BATCH_SIZE, else 512. */
  maxExportBatchSize?: number;
  /** Default: OTEL_BSP_SCHEDULE_DELAY, else 1,000. */
  scheduledDelayMillis?: number;
  /** Default: OTEL_BSP_EXPORT_TIMEOUT, else 30,000. */
  exportTimeoutMillis?: number;
  /**
   * Called with the number of audit spans dropped since the previous report (at most every 10 s,
   * and at shutdown); drops are also logged with diag.warn.
   */
  onDroppedSpans?: (count: number) => void;
  /**
   * How long shutdown(), and the flush when the process ends by itself, wait for the collector
   * before reporting what is left as not sent. Default 5,000.
   */
  shutdownTimeoutMillis?: number;
  /**
   * When the process ends by itself (its event loop is empty, e.g. a job that returns), export the
   * queued audit spans first, within shutdownTimeoutMillis, then report what could not be sent.
   * At process.exit() nothing can be waited for: what is still queued is reported. Default true.
   */
  flushOnExit?: boolean;
  /**
   * Called with what could not be sent (count, destination, reason) at shutdown and at exit,
   * instead of the line crumbtrail writes to stderr; diag.warn gets it either way.
   */
  onUndelivered?: (report: UndeliveredReport) => void;
}

export interface AuditTrail {
  /** Counts of audit spans ended, exported, failed, dropped, queued and being exported. */
  stats(): SpanStats;
  /** Exports every queued audit span now; rejects if an export fails. */
  forceFlush(): Promise<void>;
  /**
   * Exports what is queued and stops the SDK. Waits at most shutdownTimeoutMillis (default 5 s)
   * and never rejects: audit events that could not be sent are reported (count and reason) on
   * stderr, or to onUndelivered. Call it on SIGTERM, and before process.exit().
   */
  shutdown(): Promise<void>;
}

/**
 * A span processor for an OpenTelemetry SDK you set up yourself: the audit queue sizing plus drop
 * counting and reporting, forwarding only audit spans (unless auditSpansOnly: false) over OTLP/HTTP
 * to the collector (or to `options.exporter`).
 */
export function createAuditSpanProcessor(
  options: AuditSpanProcessorOptions = {},
): CountingBatchSpanProcessor {
  return new CountingBatchSpanProcessor(options.exporter ?? createOtlpTraceExporter(options), {
    maxQueueSize: resolveSizeOption(
      'maxQueueSize',
      options.maxQueueSize,
      'OTEL_BSP_MAX_QUEUE_SIZE',
      DEFAULT_AUDIT_MAX_QUEUE_SIZE,
    ),
    maxExportBatchSize: resolveSizeOption(
      'maxExportBatchSize',
      options.maxExportBatchSize,
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
      DEFAULT_AUDIT_MAX_EXPORT_BATCH_SIZE,
    ),
    scheduledDelayMillis:
      options.scheduledDelayMillis ??
      getNumberFromEnv('OTEL_BSP_SCHEDULE_DELAY') ??
      DEFAULT_AUDIT_SCHEDULED_DELAY_MILLIS,
    exportTimeoutMillis: options.exportTimeoutMillis,
    onDropped: options.onDroppedSpans,
    shutdownTimeoutMillis: options.shutdownTimeoutMillis,
    flushOnExit: options.flushOnExit ?? true,
    spanFilter: options.auditSpansOnly === false ? undefined : isAuditSpan,
    destination: options.exporter === undefined ? otlpTracesUrl(options.endpoint) : undefined,
    onUndelivered: options.onUndelivered,
  });
}

/**
 * http/json: OpenTelemetry's OTLPTraceExporter. http/protobuf: the same exporter and transport with
 * crumbtrail's encoder (otlp-protobuf-exporter.ts): the same bytes, at half the encoding cost.
 */
function createOtlpTraceExporter(options: AuditSpanProcessorOptions): SpanExporter {
  // Undefined url and headers let the exporter apply the OTEL_EXPORTER_OTLP_* variables itself.
  const exporterConfig = {
    url: options.endpoint === undefined ? undefined : tracesUrl(options.endpoint),
    headers: options.headers,
  };
  return resolveProtocol(options.protocol) === 'http/json'
    ? new OTLPJsonTraceExporter(exporterConfig)
    : createOtlpProtobufTraceExporter(exporterConfig);
}

function resolveProtocol(explicit: OtlpHttpProtocol | undefined): OtlpHttpProtocol {
  if (explicit !== undefined) {
    return explicit;
  }
  const fromEnv = (
    getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL')
  )?.trim();
  if (fromEnv === undefined || fromEnv === 'http/protobuf' || fromEnv === 'http/json') {
    return fromEnv ?? 'http/protobuf';
  }
  diag.warn(`crumbtrail: unsupported OTLP protocol "${fromEnv}", exporting audit spans with http/protobuf`);
  return 'http/protobuf';
}

/** Where the OTLP exporter sends, as it works it out (for reports of what was not sent). */
function otlpTracesUrl(endpoint: string | undefined): string {
  if (endpoint !== undefined) return tracesUrl(endpoint);
  const traces = getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (traces !== undefined) return traces;
  return tracesUrl(getStringFromEnv('OTEL_EXPORTER_OTLP_ENDPOINT') ?? 'http://localhost:4318');
}

/** The collector's trace receiver URL from its base URL (a full /v1/traces URL is kept as is). */
function tracesUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!url.pathname.endsWith(`/${TRACES_PATH}`)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${TRACES_PATH}`;
  }
  return url.href;
}

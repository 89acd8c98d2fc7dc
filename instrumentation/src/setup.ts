/*
 * One call to start exporting audit spans to a crumbtrail collector: an OpenTelemetry NodeSDK
 * with an OTLP/HTTP trace exporter and a CountingBatchSpanProcessor sized for audit data.
 *
 * Precedence everywhere: an explicit option, then the standard OTEL_* environment variable, then
 * the crumbtrail default.
 */
import { diag } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { getNumberFromEnv, getStringFromEnv } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace-base';
import type { Sampler, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

import { CountingBatchSpanProcessor, resolveSizeOption } from './dropped-span-counter.js';
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
  /** Use this exporter instead of building an OTLP one; endpoint, protocol and headers are then ignored. */
  exporter?: SpanExporter;
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

export interface AuditTrailSetup extends AuditSpanProcessorOptions {
  /** service.name; also the default eventSource of every audit event. Wins over OTEL_SERVICE_NAME. */
  serviceName: string;
  /** service.version. */
  serviceVersion?: string;
  /**
   * More resource attributes, e.g. `{ 'cloud.region': 'eu-west-1', 'cloud.account.id': '123456789012' }`
   * (awsRegion and recipientAccountId of the audit events). OTEL_RESOURCE_ATTRIBUTES is applied over
   * them, as NodeSDK does.
   */
  resourceAttributes?: Attributes;
  /**
   * Passed to NodeSDK. Default: none. Add `new HttpInstrumentation()` from
   * @opentelemetry/instrumentation-http (installed separately) so each request gets the server
   * span that audit attributes are set on, and start the audit trail before the application loads
   * `http` (e.g. from a module loaded with `node --import`).
   */
  instrumentations?: NodeSDKConfiguration['instrumentations'];
  /**
   * Default: always on, ignoring OTEL_TRACES_SAMPLER. The SDK's usual parent-based sampler would
   * let a caller skip its own audit event by sending a `traceparent` header flagged not sampled.
   */
  sampler?: Sampler;
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
 * counting and reporting, exporting over OTLP/HTTP (or to `options.exporter`).
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
    destination: options.exporter === undefined ? otlpTracesUrl(options.endpoint) : undefined,
    onUndelivered: options.onUndelivered,
  });
}

/**
 * Starts an OpenTelemetry NodeSDK that exports every span to a crumbtrail collector and registers
 * it globally (tracer provider, context manager, propagator). Metrics and logs are not set up:
 * the collector only receives traces.
 */
export function startAuditTrail(config: AuditTrailSetup): AuditTrail {
  const processor = createAuditSpanProcessor(config);
  const instrumentations = config.instrumentations ?? [];
  const sdk = new NodeSDK({
    // Merged over the default resource, otherwise telemetry.sdk.* is lost; NodeSDK then applies
    // the detected resources (OTEL_RESOURCE_ATTRIBUTES, process, host) over this one.
    resource: defaultResource().merge(
      resourceFromAttributes({
        ...config.resourceAttributes,
        [ATTR_SERVICE_NAME]: config.serviceName,
        ...(config.serviceVersion === undefined ? {} : { [ATTR_SERVICE_VERSION]: config.serviceVersion }),
      }),
    ),
    // NodeSDK merges this last, so the service named in code wins over OTEL_SERVICE_NAME: it is
    // the eventSource of the audit events and must not change with the deployment environment.
    serviceName: config.serviceName,
    spanProcessors: [processor],
    sampler: config.sampler ?? new AlwaysOnSampler(),
    instrumentations,
    // Without these NodeSDK would export metrics and logs over OTLP as well, which the collector
    // rejects. NodeSDK still registers an empty global logger provider, so an application that
    // also wants OpenTelemetry logs should build its own SDK around createAuditSpanProcessor().
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();

  let shutdown: Promise<void> | undefined;
  return {
    stats: () => processor.stats(),
    forceFlush: () => processor.forceFlush(),
    shutdown: () => {
      if (shutdown === undefined) {
        // NodeSDK leaves instrumentations patched after shutdown; they would keep creating spans
        // that a shut-down processor can only count as dropped.
        for (const instrumentation of instrumentations.flat()) {
          instrumentation.disable();
        }
        shutdown = sdk
          .shutdown()
          .then(undefined, (error: unknown) => {
            diag.error('crumbtrail: OpenTelemetry SDK shutdown failed', error);
          })
          // Also covers OTEL_SDK_DISABLED, where NodeSDK never registered (or shuts down) the processor.
          .then(() => processor.shutdown());
      }
      return shutdown;
    },
  };
}

function createOtlpTraceExporter(options: AuditSpanProcessorOptions): SpanExporter {
  // Undefined url and headers let the exporter apply the OTEL_EXPORTER_OTLP_* variables itself.
  const exporterConfig = {
    url: options.endpoint === undefined ? undefined : tracesUrl(options.endpoint),
    headers: options.headers,
  };
  return resolveProtocol(options.protocol) === 'http/json'
    ? new OTLPJsonTraceExporter(exporterConfig)
    : new OTLPProtoTraceExporter(exporterConfig);
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

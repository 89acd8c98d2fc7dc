/*
 * One call to start exporting audit spans to a crumbtrail collector: an OpenTelemetry NodeSDK around
 * createAuditSpanProcessor(). A subpath of its own (@crumbtrail/instrumentation/sdk) because
 * @opentelemetry/sdk-node is an optional peer dependency: an application with its own SDK never
 * loads it.
 */
import { diag } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler } from '@opentelemetry/sdk-trace-base';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

import { createAuditSpanProcessor } from './audit-span-processor.js';
import type { AuditSpanProcessorOptions, AuditTrail } from './audit-span-processor.js';

export type { AuditTrail } from './audit-span-processor.js';

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

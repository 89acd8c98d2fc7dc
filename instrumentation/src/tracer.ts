/* The instrumentation's tracer, named after the package as OpenTelemetry recommends. */
import { trace } from '@opentelemetry/api';
import type { Tracer, TracerProvider } from '@opentelemetry/api';

export const PACKAGE_NAME = '@crumbtrail/instrumentation';
export const PACKAGE_VERSION = '0.1.0';

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The tracer of the global provider in force now. The provider may be registered after this module
 * loads, or replaced (trace.disable() then a new registration gives a new global), so the tracer is
 * kept only for the provider it came from: asking the SDK on every request builds a string key and
 * looks it up, which is measurable on a hot path (instrumentation/bench).
 */
export function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || cachedTracer === undefined) {
    // Before an SDK is registered this is a ProxyTracer, which finds the SDK's tracer once there is one.
    cachedTracer = provider.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
    cachedProvider = provider;
  }
  return cachedTracer;
}

/* The instrumentation's tracer, named after the package as OpenTelemetry recommends. */
import { trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';

export const PACKAGE_NAME = '@crumbtrail/instrumentation';
export const PACKAGE_VERSION = '0.1.0';

/** Looked up on each use: the global provider may be registered after this module loads. */
export function tracer(): Tracer {
  return trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
}

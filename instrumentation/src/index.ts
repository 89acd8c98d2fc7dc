/*
 * The framework-free entry point. The HTTP adapters have subpaths of their own
 * (@crumbtrail/instrumentation/express, /fastify, /http) and so does the NodeSDK setup (/sdk), so that
 * these declarations import no framework's types and nothing here loads @opentelemetry/sdk-node: a
 * Fastify-only TypeScript project without skipLibCheck, or an app with its own SDK, uses it as is.
 */
export * from './attributes.js';
export * from './conventions.js';
export type * from './types.js';
export { recordApiCall } from './record-api-call.js';
export type { RecordApiCallOptions } from './record-api-call.js';
export { identityFromJwt, identityFromApiKey, apiKeyId, UNKNOWN_IDENTITY_TYPE } from './identity.js';
export type { JwtIdentityOptions, ApiKeyIdentityOptions, HasHeaders } from './identity.js';
export { DEFAULT_REDACTED_KEYS } from './redaction.js';
export { createAuditSpanProcessor } from './audit-span-processor.js';
export type { AuditTrail, AuditSpanProcessorOptions, OtlpHttpProtocol } from './audit-span-processor.js';
export { isAuditSpan, withoutAuditAttributes } from './audit-span-filter.js';
export type { WithoutAuditAttributesOptions } from './audit-span-filter.js';
export { CountingBatchSpanProcessor } from './dropped-span-counter.js';
export type { SpanStats, CountingBatchSpanProcessorConfig } from './dropped-span-counter.js';
export type { UndeliveredReport } from './undelivered-report.js';

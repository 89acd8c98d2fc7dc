/*
 * Which spans are audit spans, and keeping audit data out of a team's ordinary trace backend.
 * crumbtrail enriches the HTTP server span the app already has, so without this the caller's
 * identity, request parameters and resources travel to every exporter of the SDK (Jaeger, Tempo, a
 * vendor): wrap those exporters in withoutAuditAttributes().
 */
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_CRUMBTRAIL_EVENT_NAME } from './attributes.js';

/** Prefix of every attribute crumbtrail defines (attributes.ts). */
const CRUMBTRAIL_ATTRIBUTE_PREFIX = 'crumbtrail.';

/** Whether the span is an audit span: crumbtrail.event.name marks it (the collector's rule too). */
export function isAuditSpan(span: ReadableSpan): boolean {
  return span.attributes[ATTR_CRUMBTRAIL_EVENT_NAME] !== undefined;
}

export interface WithoutAuditAttributesOptions {
  /**
   * false (default): audit spans are exported without their crumbtrail.* attributes (the span and
   * its http.*, url.*, user.* attributes stay, so traces are whole). true: audit spans are not
   * exported at all.
   */
  dropAuditSpans?: boolean;
}

/** The span as the exporter should see it: itself, but with the attributes given. */
function withAttributes(span: ReadableSpan, attributes: ReadableSpan['attributes']): ReadableSpan {
  // A view, not a copy: methods such as spanContext() still find the span's own fields.
  return Object.create(span, { attributes: { value: attributes, enumerable: true } }) as ReadableSpan;
}

function stripped(span: ReadableSpan): ReadableSpan {
  if (!isAuditSpan(span)) return span;
  const attributes: ReadableSpan['attributes'] = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (!key.startsWith(CRUMBTRAIL_ATTRIBUTE_PREFIX)) attributes[key] = value;
  }
  return withAttributes(span, attributes);
}

/**
 * An exporter for a team's ordinary traces that never sends crumbtrail's audit data: wrap the
 * exporter of each span processor that is not the audit one, e.g.
 * `new BatchSpanProcessor(withoutAuditAttributes(new OTLPTraceExporter({ url: tempoUrl })))`.
 */
export function withoutAuditAttributes(
  exporter: SpanExporter,
  options: WithoutAuditAttributesOptions = {},
): SpanExporter {
  const dropAuditSpans = options.dropAuditSpans === true;
  return {
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      exporter.export(
        dropAuditSpans ? spans.filter((span) => !isAuditSpan(span)) : spans.map(stripped),
        resultCallback,
      );
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/*
 * Hand-made OTLP/JSON export requests, for input no SDK would produce (forged types, huge or
 * deeply nested values, impossible times, lone surrogates).
 */

export type JsonAttributeValue =
  { stringValue: string } | { boolValue: boolean } | { arrayValue: { values: JsonAttributeValue[] } };

let nextSpan = 1;

/** A fresh valid span id (16 hex digits, not all zero), unique within the test process. */
export function freshSpanId(): string {
  const id = nextSpan++;
  return (BigInt(process.pid) * 1_000_000n + BigInt(id)).toString(16).padStart(16, '0').slice(-16);
}

export function stringAttribute(key: string, value: string): { key: string; value: JsonAttributeValue } {
  return { key, value: { stringValue: value } };
}

export function arrayAttribute(key: string, values: string[]): { key: string; value: JsonAttributeValue } {
  return { key, value: { arrayValue: { values: values.map((stringValue) => ({ stringValue })) } } };
}

/** An audit span (crumbtrail.event.name set) made at `timeMs` (its eventTime), lasting 1 ms. */
export function auditJsonSpan(
  spanId: string,
  timeMs: number,
  eventName: string,
  attributes: { key: string; value: JsonAttributeValue }[] = [],
): Record<string, unknown> {
  const startNanos = BigInt(Math.trunc(timeMs)) * 1_000_000n;
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId,
    name: eventName,
    kind: 2,
    startTimeUnixNano: String(startNanos),
    endTimeUnixNano: String(startNanos + 1_000_000n),
    attributes: [stringAttribute('crumbtrail.event.name', eventName), ...attributes],
  };
}

export function exportRequestJson(
  spans: unknown[],
  resourceAttributes: { key: string; value: JsonAttributeValue }[] = [],
): string {
  return JSON.stringify({
    resourceSpans: [{ resource: { attributes: resourceAttributes }, scopeSpans: [{ spans }] }],
  });
}

export interface ExportAnswer {
  status: number;
  retryAfter: string | null;
  body: { partialSuccess?: { rejectedSpans?: number; errorMessage?: string }; message?: string };
}

export async function postJsonExport(otlpUrl: string, body: string): Promise<ExportAnswer> {
  const response = await fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (text.length === 0 ? {} : JSON.parse(text)) as ExportAnswer['body'],
  };
}

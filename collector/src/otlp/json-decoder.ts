/*
 * Decoder for OTLP/JSON ExportTraceServiceRequest bodies (opentelemetry-proto JSON mapping):
 * lowerCamelCase keys, hex trace/span ids, enums as integers, int64 as number or string.
 * Unknown fields are ignored, as the specification requires. Structural type errors (a list that
 * is not a list, an id that is not a string) make the whole request undecodable (→ 400).
 */
import type { AttributeValue, Attributes, DecodedSpan } from './decoded-span.js';
import { OtlpDecodeError } from './decoded-span.js';

/** Nested arrays/kvlists deeper than this are refused: no legitimate attribute needs it. */
const MAX_VALUE_DEPTH = 8;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listAt(parent: JsonObject, key: string, path: string): unknown[] {
  const value = parent[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${path}.${key} must be an array`);
  return value;
}

function objectAt(parent: JsonObject, key: string, path: string): JsonObject | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new OtlpDecodeError(`${path}.${key} must be an object`);
  return value;
}

function stringAt(parent: JsonObject, key: string, path: string): string {
  const value = parent[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${path}.${key} must be a string`);
  return value;
}

function integerAt(parent: JsonObject, key: string, path: string): number {
  const value = parent[key];
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new OtlpDecodeError(`${path}.${key} must be an integer`);
}

/** Nanosecond timestamps exceed 2^53: strings are parsed exactly, numbers as given. */
function unixNanoAt(parent: JsonObject, key: string, path: string): bigint {
  const value = parent[key];
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return BigInt(Math.trunc(value));
  throw new OtlpDecodeError(`${path}.${key} must be a non-negative integer (string or number)`);
}

function int64Value(value: unknown, path: string): number | string {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : value;
  }
  throw new OtlpDecodeError(`${path}.intValue must be an integer`);
}

function doubleValue(value: unknown, path: string): number | string {
  if (typeof value === 'number') return value;
  // The JSON mapping writes non-finite doubles as strings.
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value;
  throw new OtlpDecodeError(`${path}.doubleValue must be a number`);
}

/**
 * Decodes an AnyValue; undefined when no known field is set (the attribute is then skipped).
 * `depth` counts the array/kvlist values enclosing this one (0 for an attribute's own value).
 */
function decodeAnyValue(value: unknown, path: string, depth: number): AttributeValue | undefined {
  if (depth > MAX_VALUE_DEPTH) throw new OtlpDecodeError(`${path} nests deeper than ${MAX_VALUE_DEPTH}`);
  if (!isObject(value)) throw new OtlpDecodeError(`${path} must be an object`);
  if (value.stringValue !== undefined) {
    if (typeof value.stringValue !== 'string')
      throw new OtlpDecodeError(`${path}.stringValue must be a string`);
    return value.stringValue;
  }
  if (value.boolValue !== undefined) {
    if (typeof value.boolValue !== 'boolean')
      throw new OtlpDecodeError(`${path}.boolValue must be a boolean`);
    return value.boolValue;
  }
  if (value.intValue !== undefined) return int64Value(value.intValue, path);
  if (value.doubleValue !== undefined) return doubleValue(value.doubleValue, path);
  if (value.bytesValue !== undefined) {
    if (typeof value.bytesValue !== 'string') throw new OtlpDecodeError(`${path}.bytesValue must be base64`);
    return value.bytesValue;
  }
  const arrayValue = objectAt(value, 'arrayValue', path);
  if (arrayValue !== undefined) {
    const items: AttributeValue[] = [];
    listAt(arrayValue, 'values', `${path}.arrayValue`).forEach((item, index) => {
      const decoded = decodeAnyValue(item, `${path}.arrayValue.values[${index}]`, depth + 1);
      if (decoded !== undefined) items.push(decoded);
    });
    return items;
  }
  const kvlistValue = objectAt(value, 'kvlistValue', path);
  if (kvlistValue !== undefined) {
    // A null-prototype object: a "__proto__" key from the wire stays an ordinary key.
    const entries = Object.create(null) as Record<string, AttributeValue>;
    for (const [key, entry] of decodeKeyValues(kvlistValue, 'values', `${path}.kvlistValue`, depth + 1)) {
      entries[key] = entry;
    }
    return entries;
  }
  return undefined;
}

function decodeKeyValues(
  parent: JsonObject,
  field: string,
  path: string,
  depth: number,
): Map<string, AttributeValue> {
  const attributes = new Map<string, AttributeValue>();
  listAt(parent, field, path).forEach((item, index) => {
    const itemPath = `${path}.${field}[${index}]`;
    if (!isObject(item)) throw new OtlpDecodeError(`${itemPath} must be an object`);
    const key = stringAt(item, 'key', itemPath);
    if (item.value === undefined || item.value === null) return;
    const value = decodeAnyValue(item.value, `${itemPath}.value`, depth);
    if (value !== undefined) attributes.set(key, value);
  });
  return attributes;
}

function decodeSpan(span: unknown, path: string, resource: Attributes, scopeName: string): DecodedSpan {
  if (!isObject(span)) throw new OtlpDecodeError(`${path} must be an object`);
  const status = objectAt(span, 'status', path) ?? {};
  return {
    traceId: stringAt(span, 'traceId', path).toLowerCase(),
    spanId: stringAt(span, 'spanId', path).toLowerCase(),
    parentSpanId: stringAt(span, 'parentSpanId', path).toLowerCase(),
    name: stringAt(span, 'name', path),
    kind: integerAt(span, 'kind', path),
    startTimeUnixNano: unixNanoAt(span, 'startTimeUnixNano', path),
    endTimeUnixNano: unixNanoAt(span, 'endTimeUnixNano', path),
    attributes: decodeKeyValues(span, 'attributes', path, 0),
    statusCode: integerAt(status, 'code', `${path}.status`),
    statusMessage: stringAt(status, 'message', `${path}.status`),
    resource,
    scopeName,
  };
}

/** Decodes a UTF-8 OTLP/JSON body into spans. Throws OtlpDecodeError when it is not one. */
export function decodeJsonExportRequest(body: Buffer): DecodedSpan[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new OtlpDecodeError(`invalid JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed))
    throw new OtlpDecodeError('the body must be a JSON object (ExportTraceServiceRequest)');
  const spans: DecodedSpan[] = [];
  listAt(parsed, 'resourceSpans', '$').forEach((resourceSpans, r) => {
    const resourcePath = `$.resourceSpans[${r}]`;
    if (!isObject(resourceSpans)) throw new OtlpDecodeError(`${resourcePath} must be an object`);
    const resourceObject = objectAt(resourceSpans, 'resource', resourcePath) ?? {};
    const resource = decodeKeyValues(resourceObject, 'attributes', `${resourcePath}.resource`, 0);
    listAt(resourceSpans, 'scopeSpans', resourcePath).forEach((scopeSpans, s) => {
      const scopePath = `${resourcePath}.scopeSpans[${s}]`;
      if (!isObject(scopeSpans)) throw new OtlpDecodeError(`${scopePath} must be an object`);
      const scope = objectAt(scopeSpans, 'scope', scopePath) ?? {};
      const scopeName = stringAt(scope, 'name', `${scopePath}.scope`);
      listAt(scopeSpans, 'spans', scopePath).forEach((span, i) => {
        spans.push(decodeSpan(span, `${scopePath}.spans[${i}]`, resource, scopeName));
      });
    });
  });
  return spans;
}

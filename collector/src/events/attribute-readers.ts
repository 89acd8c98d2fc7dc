/*
 * Typed reads of OTLP attribute values. Instrumentations in other languages send the same
 * information with slightly different types (a boolean as "true", an int as a string), so the
 * readers accept the obvious equivalents and return undefined for anything else.
 */
import type { AttributeValue, Attributes } from '../otlp/decoded-span.js';
import { wellFormed } from '../text/well-formed.js';

export function readString(attributes: Attributes, key: string): string | undefined {
  const value = attributes.get(key);
  if (typeof value === 'string') return value.length > 0 ? wellFormed(value) : undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function readBoolean(attributes: Attributes, key: string): boolean | undefined {
  const value = attributes.get(key);
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export function readInteger(attributes: Attributes, key: string): number | undefined {
  const value = attributes.get(key);
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

/** A string array; a single string counts as a one-element array. */
export function readStringArray(attributes: Attributes, key: string): string[] {
  const value: AttributeValue | undefined = attributes.get(key);
  if (typeof value === 'string') return [wellFormed(value)];
  if (!Array.isArray(value)) return [];
  return (value as readonly AttributeValue[]).map((item) =>
    typeof item === 'string' ? wellFormed(item) : typeof item === 'number' ? String(item) : '',
  );
}

/** The first of several keys that is set, for attributes whose name changed across semconv versions. */
export function readFirstString(attributes: Attributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = readString(attributes, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

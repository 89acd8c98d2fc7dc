/*
 * Narrowing helpers for parsed YAML and JSON, which arrive as `unknown`: the checks read them
 * without casts, so a file of the wrong shape is reported instead of crashing a check.
 */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at `key`, or an empty one when absent or not an object. */
export function objectAt(value: unknown, key: string): JsonObject {
  const child = isObject(value) ? value[key] : undefined;
  return isObject(child) ? child : {};
}

/** The objects of the list at `key`; entries that are not objects are left out. */
export function objectsAt(value: unknown, key: string): JsonObject[] {
  const child = isObject(value) ? value[key] : undefined;
  return Array.isArray(child) ? child.filter(isObject) : [];
}

/** The strings of the list at `key`; other entries are left out. */
export function stringsAt(value: unknown, key: string): string[] {
  const child = isObject(value) ? value[key] : undefined;
  return Array.isArray(child) ? child.filter((item): item is string => typeof item === 'string') : [];
}

export function stringAt(value: unknown, key: string): string | undefined {
  const child = isObject(value) ? value[key] : undefined;
  return typeof child === 'string' ? child : undefined;
}

/** Every string inside a parsed document, with its path, for reference scans ($variables, uids). */
export function* stringsIn(value: unknown, path = ''): Generator<{ path: string; text: string }> {
  if (typeof value === 'string') {
    yield { path, text: value };
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* stringsIn(item, `${path}[${String(index)}]`);
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value))
      yield* stringsIn(item, path === '' ? key : `${path}.${key}`);
  }
}

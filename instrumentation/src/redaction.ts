/*
 * Redaction of secrets and size caps for the documents an audit event records (requestParameters,
 * responseElements, additionalEventData), applied before anything leaves the process: a secret
 * that reaches a span exporter is already leaked, whatever the collector does later.
 *
 * This runs on every recorded request, so the walker serialises as it goes instead of building a
 * redacted copy and handing it to JSON.stringify: no copied objects, and a document above the cap
 * is only measured, never materialised. The output is exactly what JSON.stringify would produce for
 * the redacted value (same escaping, same handling of undefined, functions, symbols, NaN, toJSON).
 */
import { REDACTED_MARKER } from './attributes.js';
import { isCardNumber, maskCardNumbers } from './card-numbers.js';
import { AUDIT_LIMITS } from './conventions.js';
import type { RedactionConfig } from './types.js';

/**
 * Key patterns whose values are secrets, tested against every object (and Map) key. They match
 * every case variant of the key ("Authorization", "authorization", "AUTHORIZATION"); the few that
 * have no `i` flag spell the case variants out to see camelCase word boundaries ("userSsn" is a
 * secret, "className" is not).
 *
 * Erring on the side of redaction: a harmless key that shares a secret's word ("passwordPolicy",
 * "authorizationType", "creditCardBrand", a pagination "nextToken") is redacted too, because a lost
 * field costs less in an audit trail than a leaked credential. Identifiers OF a secret ("secretId",
 * "apiKeyId", "private_key_id") are kept: they say which credential was used, which is the point
 * of an audit trail, and are not secrets themselves.
 */
export const DEFAULT_REDACTED_KEYS: readonly RegExp[] = Object.freeze([
  // password, newPassword, password_confirmation, passwd, passphrase, pwd (also passwordPolicy).
  /pass(?:word|wd|phrase)|pwd/i,
  // A bare "pass" word (nodemailer's auth.pass, DB_PASS, dbPass); not bypass, passport, passenger.
  /(?:^|[^A-Za-z])(?:pass|Pass|PASS)$|[a-z](?:Pass|PASS)$/,
  // client_secret, secretAccessKey, x-webhook-secret; not secretId / secret_name / secretArn.
  /secret(?![-_]?(?:id|name|arn)s?$)/i,
  // token as the last word: token, access_token, refreshToken, id_token, x-csrf-token, and a bare
  // "tokens". Not tokenizer, tokenCount, max_tokens, promptTokenCount (LLM usage fields).
  /token$|^tokens$/i,
  // authorization, Proxy-Authorization, authorisation; not author, authorName, authorized.
  /authori[sz]ation/i,
  // cookie, Set-Cookie, cookies, sessionCookie; not cookieConsent, cookieDomain (settings).
  /cookies?$/i,
  // apiKey, api_key, x-api-key, API-KEY, apiKeys; not apiKeyId / api_key_name.
  /api[-_]?key(?![-_]?(?:id|name)s?$)/i,
  // privateKey, private_key, privateKeyPem; not private_key_id.
  /private[-_]?key(?![-_]?(?:id|name)s?$)/i,
  // creditCard, credit_card_number, cardNumber, card_num, cardNo, cc_number, cvv, cvv2, cardCvc.
  /credit[-_]?card|card[-_]?(?:number|num|no$)|(?:^|[^a-z])cc[-_]?num|cvv|cvc/i,
  // ssn, SSN, user_ssn, userSsn, customerSSN, ssnLast4, socialSecurityNumber; not className,
  // businessName, addressName (which contain the letters "ssn" across a word boundary).
  /(?:^|[^A-Za-z])(?:ssn|Ssn|SSN)s?(?![a-z])|[a-z](?:Ssn|SSN)s?(?![a-z])|[Ss]ocial[-_]?[Ss]ecurity|SOCIAL[-_]?SECURITY/,
  // sessionId, session_id, x-session-id, JSESSIONID, PHPSESSID; not sessionIdleTimeout.
  /sess(?:ion)?[-_]?id(?!le)/i,
]);

/** The result of {@link Redactor.document}: the redacted JSON, or the size of an omitted document. */
export type RedactedDocument = { json: string } | { omittedBytes: number };

const DEFAULT_MAX_VALUE_BYTES = 4096;
/** Containers nested deeper than this are replaced, which also bounds the recursion. */
const MAX_DEPTH = 16;
/**
 * Above the document cap the walk only measures, to report the size of what was omitted. A cyclic
 * graph walked by ancestry (see [Circular] below) or a wide DAG can expand enormously, so measuring
 * stops here and the reported size is then a lower bound.
 */
const MAX_MEASURED_BYTES = 16 * 1024 * 1024;
/** Keys longer than this are not cached: an attacker-chosen body must not pin large strings. */
const MAX_CACHED_KEY_LENGTH = 128;
/** Distinct keys remembered per Redactor; the cache is simply cleared when full. */
const KEY_CACHE_SIZE = 2048;

const TRUNCATION_SUFFIX = '…[truncated]';
const TRUNCATION_SUFFIX_BYTES = Buffer.byteLength(TRUNCATION_SUFFIX, 'utf8');
const REDACTED_JSON = JSON.stringify(REDACTED_MARKER);
const CIRCULAR_JSON = '"[Circular]"';
const TRUNCATED_JSON = '"[Truncated]"';
const UNREADABLE_JSON = '"[Unreadable]"';

/**
 * Stands for a value that could not be read (a throwing getter, toJSON or proxy trap). An object,
 * not a symbol, so that it is not mistaken for a value JSON leaves out.
 */
const UNREADABLE: object = Object.freeze({});

/** What the walker needs to know about one key, computed once per distinct key. */
interface KeyInfo {
  /** The key as a JSON string followed by a colon, ready to emit. */
  readonly prefix: string;
  /** UTF-8 bytes of prefix. */
  readonly prefixBytes: number;
  readonly secret: boolean;
}

/** Per-call state; a fresh one per call keeps document() reentrant (a getter may call it). */
class WalkState {
  /** The JSON so far, until it outgrows the cap. */
  out = '';
  /** UTF-8 bytes emitted, tracked only once measuring (out.length says enough until then). */
  bytes = 0;
  measuring = false;
  aborted = false;
  /** The containers being written: a value among them is a cycle. At most MAX_DEPTH long. */
  readonly ancestors: object[] = [];
}

function positiveLimit(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && value >= 0 ? Math.floor(value) : fallback;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether JSON.stringify leaves this (resolved) value out of an object, or writes null in an array. */
function isSkipped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/** Strings up to this length are scanned in JS for characters JSON must escape. */
const MAX_SCANNED_STRING_LENGTH = 64;

/**
 * The string as a JSON string literal, exactly as JSON.stringify writes it. Most values are short
 * and need no escaping: checking that by hand and adding the quotes is about twice as fast as
 * calling into JSON.stringify for each of them.
 */
function quoteJson(text: string): string {
  if (text.length > MAX_SCANNED_STRING_LENGTH) return JSON.stringify(text);
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    // Control characters, quote, backslash, and surrogates (a lone one is written as \uXXXX).
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff)) {
      return JSON.stringify(text);
    }
  }
  return `"${text}"`;
}

/**
 * The string cut so that it, with the truncation suffix, fits in maxBytes of UTF-8. The cut falls
 * on a character boundary (a surrogate pair is never split). Counting by hand avoids encoding the
 * whole string to a Buffer just to measure it.
 */
function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 bytes of UTF-8 and at least 1.
  if (text.length * 3 <= maxBytes) return text;
  if (text.length <= maxBytes && Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - TRUNCATION_SUFFIX_BYTES;
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    let size = 3;
    let units = 1;
    if (code < 0x80) size = 1;
    else if (code < 0x800) size = 2;
    else if (code >= 0xd800 && code <= 0xdbff && end + 1 < text.length) {
      const next = text.charCodeAt(end + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size = 4;
        units = 2;
      }
    }
    // A lone surrogate counts 3 bytes, as Buffer encodes it (U+FFFD).
    if (bytes + size > budget) break;
    bytes += size;
    end += units;
  }
  return text.slice(0, end) + TRUNCATION_SUFFIX;
}

/**
 * Redacts and size-caps documents. Build one per configuration and reuse it: it caches what it
 * learns about keys.
 *
 * - Keys: {@link DEFAULT_REDACTED_KEYS} (unless replaceDefaultKeys) plus config.keys. A string
 *   matches any key that contains it, case-insensitively ("token" matches "x-token-id"); an empty
 *   string is ignored. A RegExp is tested as given (its flags decide case sensitivity; g and y are
 *   dropped so that test() has no state). A matching key's value becomes "[REDACTED]" whatever its
 *   type, and is never even read (a getter behind it is not called).
 * - Strings over maxValueBytes (UTF-8, default 4096) are cut to fit, "…[truncated]" included.
 * - Values: payment card numbers (13–19 digits passing the Luhn check, grouped by spaces or dashes
 *   or not, alone or inside free text, or a JSON number) become "[REDACTED]" under any key.
 * - A document over maxDocumentBytes serialised (UTF-8, default 100 KiB) is omitted.
 */
export class Redactor {
  readonly #patterns: readonly RegExp[];
  readonly #maxValueBytes: number;
  readonly #maxDocumentBytes: number;
  readonly #maxMeasuredBytes: number;
  readonly #keys = new Map<string, KeyInfo>();

  constructor(config?: RedactionConfig) {
    const patterns: RegExp[] = config?.replaceDefaultKeys === true ? [] : [...DEFAULT_REDACTED_KEYS];
    const substrings: string[] = [];
    const keys: unknown = config?.keys;
    if (Array.isArray(keys)) {
      for (const key of keys as unknown[]) {
        if (typeof key === 'string') {
          if (key.length > 0) substrings.push(escapeRegExp(key));
        } else if (key instanceof RegExp) {
          patterns.push(new RegExp(key.source, key.flags.replace(/[gy]/g, '')));
        }
      }
    }
    // One alternation for all the strings: one test per key instead of one per string.
    if (substrings.length > 0) patterns.push(new RegExp(substrings.join('|'), 'i'));
    this.#patterns = patterns;
    this.#maxValueBytes = positiveLimit(config?.maxValueBytes, DEFAULT_MAX_VALUE_BYTES);
    this.#maxDocumentBytes = positiveLimit(config?.maxDocumentBytes, AUDIT_LIMITS.omitDocumentBytes);
    this.#maxMeasuredBytes = Math.max(MAX_MEASURED_BYTES, this.#maxDocumentBytes * 2);
  }

  /** Whether values under this key are redacted. */
  isSecretKey(key: string): boolean {
    return this.#keyInfo(key).secret;
  }

  /**
   * The value redacted and serialised as JSON; `{ omittedBytes }` (its serialised UTF-8 size)
   * when that exceeds maxDocumentBytes; undefined when there is nothing to record (undefined,
   * null, a function or symbol). Never throws.
   *
   * Plain objects, class instances (own enumerable properties), arrays, Maps (→ objects) and Sets
   * (→ arrays) are walked; toJSON is honoured as JSON.stringify does. Binary data becomes
   * "[Binary N bytes]", a bigint its decimal string, a cycle "[Circular]" (only a true cycle: an
   * object shared by two branches is written twice, as JSON.stringify would), a container nested
   * deeper than 16 levels "[Truncated]", and anything that throws when read "[Unreadable]". A
   * top-level primitive is recorded as such; having no key, it is only truncated.
   */
  document(value: unknown): RedactedDocument | undefined {
    if (value === undefined || value === null) return undefined;
    try {
      const state = new WalkState();
      const resolved = this.#resolve(value, '');
      if (resolved === null || isSkipped(resolved)) return undefined;
      this.#writeValue(state, resolved, 0);
      if (state.measuring) return { omittedBytes: state.bytes };
      const json = state.out;
      const bytes = json.length * 3 <= this.#maxDocumentBytes ? 0 : Buffer.byteLength(json, 'utf8');
      return bytes > this.#maxDocumentBytes ? { omittedBytes: bytes } : { json };
    } catch {
      // Unreachable by design (every read is guarded); kept so that a bug here can never fail
      // the request being audited.
      return { json: UNREADABLE_JSON };
    }
  }

  #keyInfo(key: string): KeyInfo {
    const cached = this.#keys.get(key);
    if (cached !== undefined) return cached;
    let secret = false;
    for (const pattern of this.#patterns) {
      if (pattern.test(key)) {
        secret = true;
        break;
      }
    }
    const prefix = `${quoteJson(key)}:`;
    const info: KeyInfo = { prefix, prefixBytes: Buffer.byteLength(prefix, 'utf8'), secret };
    if (key.length <= MAX_CACHED_KEY_LENGTH) {
      if (this.#keys.size >= KEY_CACHE_SIZE) this.#keys.clear();
      this.#keys.set(key, info);
    }
    return info;
  }

  /** Appends JSON text whose UTF-8 size is known (bytes), or computed when needed (-1). */
  #emit(state: WalkState, text: string, bytes: number): void {
    if (!state.measuring) {
      state.out += text;
      // Every UTF-16 unit is at least one byte: past the cap in units is past it in bytes.
      if (state.out.length > this.#maxDocumentBytes) {
        state.measuring = true;
        state.bytes = Buffer.byteLength(state.out, 'utf8');
        state.out = '';
      }
      return;
    }
    state.bytes += bytes >= 0 ? bytes : Buffer.byteLength(text, 'utf8');
    if (state.bytes > this.#maxMeasuredBytes) state.aborted = true;
  }

  /** An ASCII-only piece of JSON (punctuation, numbers, markers): its length is its size. */
  #emitAscii(state: WalkState, text: string): void {
    this.#emit(state, text, text.length);
  }

  #emitString(state: WalkState, text: string): void {
    // Masked before the cut, so that a card number across the cut is not left half visible.
    this.#emit(
      state,
      quoteJson(truncateUtf8(maskCardNumbers(text, REDACTED_MARKER), this.#maxValueBytes)),
      -1,
    );
  }

  /** The value JSON.stringify would serialise in its place: toJSON applied (binary data excepted). */
  #resolve(value: unknown, key: string | number): unknown {
    if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
    try {
      const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON !== 'function') return value;
      return (toJSON as (this: unknown, key: string) => unknown).call(value, String(key));
    } catch {
      return UNREADABLE;
    }
  }

  /** Writes a resolved value that is not skipped. */
  #writeValue(state: WalkState, value: unknown, depth: number): void {
    switch (typeof value) {
      case 'string':
        this.#emitString(state, value);
        return;
      case 'number':
        if (isCardNumber(value)) this.#emitAscii(state, REDACTED_JSON);
        else this.#emitAscii(state, Number.isFinite(value) ? String(value) : 'null');
        return;
      case 'boolean':
        this.#emitAscii(state, value ? 'true' : 'false');
        return;
      case 'bigint':
        // JSON.stringify throws on a bigint; its decimal digits are what a reader wants.
        this.#emitString(state, value.toString());
        return;
      case 'object':
        if (value === null) this.#emitAscii(state, 'null');
        else if (value === UNREADABLE) this.#emitAscii(state, UNREADABLE_JSON);
        else this.#writeObject(state, value, depth);
        return;
      default:
        // undefined, function, symbol: callers skip them before getting here.
        this.#emitAscii(state, 'null');
    }
  }

  #writeObject(state: WalkState, value: object, depth: number): void {
    if (state.ancestors.includes(value)) {
      this.#emitAscii(state, CIRCULAR_JSON);
      return;
    }
    if (depth >= MAX_DEPTH) {
      this.#emitAscii(state, TRUNCATED_JSON);
      return;
    }
    // Classify first, emitting nothing: a proxy trap may throw here, and a half-written container
    // would corrupt the JSON.
    let keys: string[] | undefined;
    let entries: IterableIterator<[unknown, unknown]> | undefined;
    let elements: IterableIterator<unknown> | undefined;
    try {
      const proto: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        // Written below.
      } else if (proto === Object.prototype || proto === null) {
        keys = Object.keys(value);
      } else if (ArrayBuffer.isView(value)) {
        this.#emitAscii(state, `"[Binary ${value.byteLength} bytes]"`);
        return;
      } else if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
        this.#emitAscii(state, `"[Binary ${value.byteLength} bytes]"`);
        return;
      } else if (value instanceof Map) {
        // The intrinsic iterator: a subclass cannot override it (a proxy throws here).
        entries = Map.prototype.entries.call(value);
      } else if (value instanceof Set) {
        elements = Set.prototype.values.call(value);
      } else if (value instanceof String) {
        // JSON.stringify unwraps boxed primitives.
        this.#emitString(state, String.prototype.valueOf.call(value));
        return;
      } else if (value instanceof Number) {
        this.#writeValue(state, Number.prototype.valueOf.call(value), depth);
        return;
      } else if (value instanceof Boolean) {
        this.#writeValue(state, Boolean.prototype.valueOf.call(value), depth);
        return;
      } else {
        // A class instance: its own enumerable properties, as JSON.stringify writes it.
        keys = Object.keys(value);
      }
    } catch {
      this.#emitAscii(state, UNREADABLE_JSON);
      return;
    }

    state.ancestors.push(value);
    if (keys !== undefined) this.#writeProperties(state, value as Record<string, unknown>, keys, depth + 1);
    else if (entries !== undefined) this.#writeMap(state, entries, depth + 1);
    else if (elements !== undefined) this.#writeSet(state, elements, depth + 1);
    else this.#writeArray(state, value as readonly unknown[], depth + 1);
    state.ancestors.pop();
  }

  #writeArray(state: WalkState, array: readonly unknown[], depth: number): void {
    let length = 0;
    try {
      length = array.length;
    } catch {
      // A proxy whose length trap throws: written as an empty array.
    }
    this.#emitAscii(state, '[');
    for (let index = 0; index < length && !state.aborted; index++) {
      if (index > 0) this.#emitAscii(state, ',');
      let element: unknown;
      try {
        element = array[index];
      } catch {
        element = UNREADABLE;
      }
      element = this.#resolve(element, index);
      if (isSkipped(element)) this.#emitAscii(state, 'null');
      else this.#writeValue(state, element, depth);
    }
    this.#emitAscii(state, ']');
  }

  #writeProperties(
    state: WalkState,
    object: Record<string, unknown>,
    keys: readonly string[],
    depth: number,
  ): void {
    this.#emitAscii(state, '{');
    let first = true;
    for (const key of keys) {
      if (state.aborted) break;
      const info = this.#keyInfo(key);
      let property: unknown = REDACTED_MARKER;
      if (!info.secret) {
        try {
          property = object[key];
        } catch {
          property = UNREADABLE;
        }
        property = this.#resolve(property, key);
        if (isSkipped(property)) continue;
      }
      if (!first) this.#emitAscii(state, ',');
      first = false;
      this.#emit(state, info.prefix, info.prefixBytes);
      if (info.secret) this.#emitAscii(state, REDACTED_JSON);
      else this.#writeValue(state, property, depth);
    }
    this.#emitAscii(state, '}');
  }

  #writeMap(state: WalkState, entries: IterableIterator<[unknown, unknown]>, depth: number): void {
    this.#emitAscii(state, '{');
    let first = true;
    for (const [rawKey, rawValue] of entries) {
      if (state.aborted) break;
      let key: string;
      try {
        key = typeof rawKey === 'string' ? rawKey : String(rawKey);
      } catch {
        continue; // A key without a string form (a null-prototype object) cannot be written.
      }
      const info = this.#keyInfo(key);
      let entry: unknown = REDACTED_MARKER;
      if (!info.secret) {
        entry = this.#resolve(rawValue, key);
        if (isSkipped(entry)) continue;
      }
      if (!first) this.#emitAscii(state, ',');
      first = false;
      this.#emit(state, info.prefix, info.prefixBytes);
      if (info.secret) this.#emitAscii(state, REDACTED_JSON);
      else this.#writeValue(state, entry, depth);
    }
    this.#emitAscii(state, '}');
  }

  #writeSet(state: WalkState, elements: IterableIterator<unknown>, depth: number): void {
    this.#emitAscii(state, '[');
    let index = 0;
    for (const raw of elements) {
      if (state.aborted) break;
      if (index > 0) this.#emitAscii(state, ',');
      const element = this.#resolve(raw, index);
      if (isSkipped(element)) this.#emitAscii(state, 'null');
      else this.#writeValue(state, element, depth);
      index++;
    }
    this.#emitAscii(state, ']');
  }
}

/*
 * A one-pass OTLP/protobuf encoder for the audit exporter (issue 12): the same bytes as
 * ProtobufTraceSerializer of @opentelemetry/otlp-transformer 0.223 (test/otlp-protobuf-serializer.test.ts
 * compares them on random spans), at about half its cost. The official one walks every batch twice (a
 * size estimate, then the writing) and reads each string twice more in JavaScript (an ASCII check,
 * then a copy); this one writes once into a reused buffer, copies an ASCII string while checking it,
 * and keeps the encoded bytes of attribute keys, resources and scopes, which repeat in every batch.
 *
 * The layout follows otlp-transformer's trace-serializer.ts field by field: spans grouped by
 * resource, then by scope (both by object identity, in order of first appearance); every field the
 * official writes even when zero (dropped counts, status code, flags) is written here too.
 * Length prefixes are minimal varints: a length is reserved, and the content moved if it needed
 * another size. Resources and scopes are immutable in the SDK: their bytes are kept per object
 * (a resource only once its asynchronous attributes have settled).
 */
import type { Attributes, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

type Resource = ReadableSpan['resource'];
type Link = ReadableSpan['links'][number];
/** The scope as the official reads it: attributes and their dropped count are newer, optional fields. */
type Scope = ReadableSpan['instrumentationScope'] & {
  attributes?: Attributes;
  droppedAttributesCount?: number;
};

/** Span flags (OTLP): the low 8 bits are the W3C trace flags. */
const FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100;
const FLAGS_CONTEXT_IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;
/**
 * Strings from this many UTF-16 units on are written by Node's native UTF-8 encoder (lone
 * surrogates become U+FFFD there too): a call costs ~800 instructions whatever the length, the
 * JavaScript loop ~40 a character, ~55 when V8 holds the string as a slice or a flattened rope
 * (callgrind, Node 20; a request id is 36).
 */
const NATIVE_STRING = 24;
/** At most this many attribute keys are kept (the audit ones are a few dozen). */
const MAX_CACHED_KEYS = 1024;
/** The reused buffer is dropped after a batch that needed more than this. */
const MAX_KEPT_BUFFER = 4 * 1024 * 1024;

/** TypedArray.prototype.set, called directly: as `buf.set` V8 looked the method up each time. */
// eslint-disable-next-line @typescript-eslint/unbound-method -- applied to a Uint8Array with .call
const setBytes = Uint8Array.prototype.set;

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** The growing buffer and the position in it. One per serializer; reset for every batch. */
class Writer {
  buf = new Uint8Array(64 * 1024);
  view = new DataView(this.buf.buffer);
  /** The same memory as a Buffer, for Node's native UTF-8 writer (long strings). */
  node = Buffer.from(this.buf.buffer, 0, this.buf.length);
  pos = 0;

  /** Room for `extra` more bytes: small, so that V8 inlines it; growing is apart. */
  ensure(extra: number): void {
    if (this.pos + extra > this.buf.length) this.grow(this.pos + extra);
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
    this.node = Buffer.from(grown.buffer, 0, grown.length);
  }

  /** One byte: a tag below field 16. */
  byte(b: number): void {
    if (this.pos === this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  /** A tag: (field << 3) | wire type. One byte below field 16, inlined (a call cost ~100 instructions). */
  tag(field: number, wireType: number): void {
    const tag = (field << 3) | wireType;
    if (tag < 0x80) this.byte(tag);
    else this.varint(tag);
  }

  /** The official's varint exactly: uint32 fast, else int64 two's complement (10 bytes if negative). */
  varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 0x100000000) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 0x100000000) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  fixed32(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    const v = value >>> 0;
    buf[this.pos++] = v & 0xff;
    buf[this.pos++] = (v >>> 8) & 0xff;
    buf[this.pos++] = (v >>> 16) & 0xff;
    buf[this.pos++] = v >>> 24;
  }

  /** nanoseconds since the epoch as fixed64 (see hrTimeAt). */
  hrTime(time: HrTime): void {
    this.ensure(8);
    hrTimeAt(this.buf, this.pos, time);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  bytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Copies already encoded bytes, with TypedArray.set even for a 20-byte key: a byte loop costs
   * V8 ~50 instructions a byte (each typed-array access checks map, detachment and bounds), set()
   * ~250 a call (callgrind: 5.5 k a span for the 7 keys of an audit span, issue 12).
   */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    setBytes.call(this.buf, bytes, this.pos);
    this.pos += n;
  }

  /**
   * A tag (below field 16), then a trace or span id: hex to bytes as the official's hexToBinary
   * (odd or invalid hex included).
   */
  hexId(tag: number, hex: string): void {
    const n = hex.length >>> 1;
    this.byte(tag);
    if (n < 0x80) this.byte(n);
    else this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      buf[p++] = (hexValue(hex.charCodeAt(2 * i)) << 4) | hexValue(hex.charCodeAt(2 * i + 1));
    }
    this.pos = p;
  }

  /**
   * A string as UTF-8, length first. The length's size is guessed from the UTF-16 length (exact
   * for ASCII); ASCII is copied while it is checked, the rest encoded here as TextEncoder does
   * (a lone surrogate becomes U+FFFD), and the bytes moved if the length needs more room.
   */
  string(s: string): void {
    const len = s.length;
    this.ensure(5 + 3 * len);
    const buf = this.buf;
    const start = this.pos;
    const guess = varintSize(len);
    let p = start + guess;
    if (len >= NATIVE_STRING) {
      p += this.node.write(s, p, 3 * len, 'utf8');
    } else {
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i < len) p = utf8Tail(buf, p, s, i);
    }
    const n = p - start - guess;
    const size = varintSize(n);
    if (size !== guess) {
      buf.copyWithin(start + size, start + guess, p);
      p += size - guess;
    }
    writeVarintAt(buf, start, n);
    this.pos = p;
  }

  /** Reserves `reserve` bytes for a length; returns where the message starts. */
  begin(reserve: number): number {
    this.ensure(reserve);
    const start = this.pos;
    this.pos += reserve;
    return start;
  }

  /** Writes the length of the message begun at `start`, moving it if the length needed another size. */
  end(start: number, reserve: number): void {
    const n = this.pos - start - reserve;
    const size = varintSize(n);
    if (size !== reserve) {
      if (size > reserve) this.ensure(size - reserve);
      this.buf.copyWithin(start + size, start + reserve, this.pos);
      this.pos += size - reserve;
    }
    writeVarintAt(this.buf, start, n);
  }
}

/** hexToBinary's digit values for char codes below 128, a table for speed: 0-9, a-f, else c − 55. */
const HEX_VALUES = Int16Array.from({ length: 128 }, (_, c) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c - 55,
);

function hexValue(c: number): number {
  return c < 128 ? (HEX_VALUES[c] as number) : c - 55;
}

/**
 * Nanoseconds since the epoch as fixed64 at `at` (room ensured), from HrTime without losing
 * precision (the official's arithmetic).
 */
function hrTimeAt(buf: Uint8Array, at: number, time: HrTime): void {
  const seconds = time[0];
  const nanos = time[1];
  const fromLower = (seconds & 0xffff) * 1_000_000_000;
  const fromUpper = ((seconds / 0x10000) >>> 0) * 1_000_000_000;
  const lowWithCarry = (fromLower >>> 0) + (((fromUpper & 0xffff) * 0x10000) >>> 0) + nanos;
  const high =
    (Math.floor(fromLower / 0x100000000) +
      ((fromUpper / 0x10000) >>> 0) +
      Math.floor(lowWithCarry / 0x100000000)) >>>
    0;
  const low = lowWithCarry >>> 0;
  buf[at] = low & 0xff;
  buf[at + 1] = (low >>> 8) & 0xff;
  buf[at + 2] = (low >>> 16) & 0xff;
  buf[at + 3] = low >>> 24;
  buf[at + 4] = high & 0xff;
  buf[at + 5] = (high >>> 8) & 0xff;
  buf[at + 6] = (high >>> 16) & 0xff;
  buf[at + 7] = high >>> 24;
}

function writeVarintAt(buf: Uint8Array, at: number, v: number): void {
  while (v > 0x7f) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at] = v;
}

/** UTF-8 of s from index i on, at p (room for 3 bytes per code unit is ensured); returns the end. */
function utf8Tail(buf: Uint8Array, p: number, s: string, i: number): number {
  const len = s.length;
  for (; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < len ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          buf[p++] = 0xf0 | (c >> 18);
          buf[p++] = 0x80 | ((c >> 12) & 0x3f);
          buf[p++] = 0x80 | ((c >> 6) & 0x3f);
          buf[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd; // a lone surrogate
      }
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/** Encodes into a scratch Writer and returns a copy of the bytes (for the caches). */
function encoded(write: (w: Writer) => void): Uint8Array {
  const w = new Writer();
  write(w);
  return w.buf.slice(0, w.pos);
}

/** A serializer with its own buffer and caches; see the file comment. */
export class OtlpProtobufTraceSerializer implements ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  private w = new Writer();
  /** Key → the KeyValue.key field (tag, length, UTF-8). */
  private readonly keys = new Map<string, Uint8Array>();
  /** Resource → ResourceSpans.resource field; scope → ScopeSpans.scope field. */
  private readonly resources = new WeakMap<Resource, Uint8Array>();
  private readonly scopes = new WeakMap<Scope, Uint8Array>();

  serializeRequest(spans: ReadableSpan[]): Uint8Array {
    const w = this.w;
    w.pos = 0;
    for (const [resource, scopes] of groupSpans(spans)) {
      w.tag(1, 2); // ExportTraceServiceRequest.resource_spans
      const resourceSpans = w.begin(3);
      w.raw(this.resourceField(resource));
      for (const [scope, scopeSpans] of scopes) {
        w.tag(2, 2); // ResourceSpans.scope_spans
        const start = w.begin(3);
        w.raw(this.scopeField(scope));
        for (const span of scopeSpans) this.span(span);
        if (scope.schemaUrl) {
          w.tag(3, 2);
          w.string(scope.schemaUrl);
        }
        w.end(start, 3);
      }
      if (resource.schemaUrl) {
        w.tag(3, 2);
        w.string(resource.schemaUrl);
      }
      w.end(resourceSpans, 3);
    }
    const out = w.buf.slice(0, w.pos);
    if (w.buf.length > MAX_KEPT_BUFFER) this.w = new Writer();
    return out;
  }

  deserializeResponse(data: Uint8Array): IExportTraceServiceResponse {
    return ProtobufTraceSerializer.deserializeResponse(data);
  }

  private resourceField(resource: Resource): Uint8Array {
    const cached = this.resources.get(resource);
    if (cached !== undefined) return cached;
    const bytes = encoded((w) => {
      w.tag(1, 2); // ResourceSpans.resource
      const start = w.begin(1);
      const attributes = resource.attributes;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- checked as the official does
      if (attributes) this.attributes(w, attributes, 1);
      w.tag(2, 0); // dropped_attributes_count: the official always writes 0
      w.varint(0);
      w.end(start, 1);
    });
    if (resource.asyncAttributesPending !== true) this.resources.set(resource, bytes);
    return bytes;
  }

  private scopeField(scope: Scope): Uint8Array {
    const cached = this.scopes.get(scope);
    if (cached !== undefined) return cached;
    const bytes = encoded((w) => {
      w.tag(1, 2); // ScopeSpans.scope
      const start = w.begin(1);
      w.tag(1, 2);
      w.string(scope.name);
      if (scope.version) {
        w.tag(2, 2);
        w.string(scope.version);
      }
      if (scope.attributes) this.attributes(w, scope.attributes, 3);
      if (scope.droppedAttributesCount) {
        w.tag(4, 0);
        w.varint(scope.droppedAttributesCount);
      }
      w.end(start, 1);
    });
    this.scopes.set(scope, bytes);
    return bytes;
  }

  /** ScopeSpans.spans (field 2), fields 1–16 in order. */
  private span(span: ReadableSpan): void {
    const w = this.w;
    w.byte(0x12); // ScopeSpans.spans
    const start = w.begin(2);
    const ctx = span.spanContext();
    w.hexId(0x0a, ctx.traceId); // trace_id
    w.hexId(0x12, ctx.spanId); // span_id
    const traceState = ctx.traceState?.serialize();
    if (traceState) {
      w.byte(0x1a);
      w.string(traceState);
    }
    const parent = span.parentSpanContext;
    if (parent?.spanId) w.hexId(0x22, parent.spanId);
    w.byte(0x2a); // name
    w.string(span.name);
    // OTLP's kinds are the API's + 1 (0: unset); a missing kind is checked as the official does.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    const kind = span.kind == null ? 0 : span.kind + 1;
    if (kind !== 0) {
      w.byte(0x30);
      w.varint(kind);
    }
    // Both times in one go (tags and fixed64s), without a Writer call each.
    w.ensure(18);
    const at = w.pos;
    w.buf[at] = 0x39; // start_time_unix_nano
    hrTimeAt(w.buf, at + 1, span.startTime);
    w.buf[at + 9] = 0x41; // end_time_unix_nano
    hrTimeAt(w.buf, at + 10, span.endTime);
    w.pos = at + 18;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- checked as the official does
    if (span.attributes) this.attributes(w, span.attributes, 9);
    const flags = spanFlags(ctx.traceFlags, parent?.isRemote);
    if (!this.plainSpanTail(span, flags)) this.spanTail(span, flags);
    w.end(start, 2);
  }

  /**
   * The usual end of a span, fields 10–16 with no events, links or status message and counts
   * below 128, written in one go (the bytes spanTail would write): each Writer call there costs
   * 50–100 instructions, V8 inlining none of them in span(). False, writing nothing, otherwise.
   */
  private plainSpanTail(span: ReadableSpan, flags: number): boolean {
    const attributes = span.droppedAttributesCount;
    const events = span.droppedEventsCount;
    const links = span.droppedLinksCount;
    const code: number = span.status.code;
    if (
      span.events.length !== 0 ||
      span.links.length !== 0 ||
      span.status.message ||
      !(attributes >= 0 && attributes < 0x80) ||
      !(events >= 0 && events < 0x80) ||
      !(links >= 0 && links < 0x80) ||
      !(code >= 0 && code < 0x80)
    ) {
      return false;
    }
    const w = this.w;
    w.ensure(16);
    const buf = w.buf;
    const p = w.pos;
    buf[p] = 0x50; // dropped_attributes_count
    buf[p + 1] = attributes >>> 0;
    buf[p + 2] = 0x60; // dropped_events_count
    buf[p + 3] = events >>> 0;
    buf[p + 4] = 0x70; // dropped_links_count
    buf[p + 5] = links >>> 0;
    buf[p + 6] = 0x7a; // status, 2 bytes
    buf[p + 7] = 2;
    buf[p + 8] = 0x18; // Status.code
    buf[p + 9] = code >>> 0;
    buf[p + 10] = 0x85; // flags: field 16, fixed32
    buf[p + 11] = 0x01;
    buf[p + 12] = flags & 0xff;
    buf[p + 13] = (flags >>> 8) & 0xff;
    buf[p + 14] = (flags >>> 16) & 0xff;
    buf[p + 15] = flags >>> 24;
    w.pos = p + 16;
    return true;
  }

  /** Span fields 10–16 in the general case. */
  private spanTail(span: ReadableSpan, flags: number): void {
    const w = this.w;
    w.byte(0x50); // dropped_attributes_count
    w.varint(span.droppedAttributesCount);
    for (const event of span.events) this.event(event);
    w.byte(0x60); // dropped_events_count
    w.varint(span.droppedEventsCount);
    for (const link of span.links) this.link(link);
    w.byte(0x70); // dropped_links_count
    w.varint(span.droppedLinksCount);
    w.byte(0x7a); // status
    const status = w.begin(1);
    if (span.status.message) {
      w.byte(0x12);
      w.string(span.status.message);
    }
    w.byte(0x18);
    w.varint(span.status.code);
    w.end(status, 1);
    if (flags) {
      w.tag(16, 5);
      w.fixed32(flags);
    }
  }

  /** Span.events (field 11). */
  private event(event: TimedEvent): void {
    const w = this.w;
    w.tag(11, 2);
    const start = w.begin(1);
    w.byte(0x09);
    w.hrTime(event.time);
    w.tag(2, 2);
    w.string(event.name);
    if (event.attributes) this.attributes(w, event.attributes, 3);
    w.tag(4, 0);
    w.varint(event.droppedAttributesCount || 0);
    w.end(start, 1);
  }

  /** Span.links (field 13). */
  private link(link: Link): void {
    const w = this.w;
    const ctx = link.context;
    w.tag(13, 2);
    const start = w.begin(1);
    w.hexId(0x0a, ctx.traceId); // trace_id
    w.hexId(0x12, ctx.spanId); // span_id
    const traceState = ctx.traceState?.serialize();
    if (traceState) {
      w.tag(3, 2);
      w.string(traceState);
    }
    if (link.attributes) this.attributes(w, link.attributes, 4);
    w.tag(5, 0);
    w.varint(link.droppedAttributesCount || 0);
    const flags = spanFlags(ctx.traceFlags, ctx.isRemote);
    if (flags) {
      w.tag(6, 5);
      w.fixed32(flags);
    }
    w.end(start, 1);
  }

  /** Repeated KeyValue in field `field`: own enumerable keys in for…in order, as the official. */
  private attributes(w: Writer, attributes: Attributes, field: number): void {
    // The hot loop of the encoder (every attribute of every span), written out rather than through
    // the Writer's helpers: V8 stops inlining them here (its budget), and a call costs 50–100
    // instructions. The fields are 1, 3, 4 and 9: one tag byte; lengths get one byte reserved.
    const tag = (field << 3) | 2;
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      const keyField = this.keyField(key);
      const value = attributes[key];
      const n = keyField.length;
      w.ensure(n + 5);
      const buf = w.buf;
      const start = w.pos + 1;
      buf[start - 1] = tag;
      setBytes.call(buf, keyField, start + 1);
      const valueStart = start + 2 + n;
      buf[valueStart - 1] = 0x12; // KeyValue.value
      if (typeof value === 'string') {
        buf[valueStart + 1] = 0x0a; // AnyValue.string_value
        w.pos = valueStart + 2;
        w.string(value);
      } else {
        w.pos = valueStart + 1;
        anyValue(w, value);
      }
      w.end(valueStart, 1);
      w.end(start, 1);
    }
  }

  private keyField(key: string): Uint8Array {
    const cached = this.keys.get(key);
    if (cached !== undefined) return cached;
    const bytes = encoded((w) => {
      w.tag(1, 2);
      w.string(key);
    });
    if (this.keys.size < MAX_CACHED_KEYS) this.keys.set(key, bytes);
    return bytes;
  }
}

/** An AnyValue's content, in the official's order of type checks (unsupported values: nothing). */
function anyValue(w: Writer, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, 2);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, 0);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, 0);
        w.varint(value);
      } else {
        w.tag(4, 1);
        w.double(value);
      }
      return;
    default:
  }
  if (value instanceof Uint8Array) {
    w.tag(7, 2);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, 2); // array_value
    const array = w.begin(1);
    for (const item of value as unknown[]) {
      w.tag(1, 2);
      const start = w.begin(1);
      anyValue(w, item);
      w.end(start, 1);
    }
    w.end(array, 1);
  } else if (typeof value === 'object' && value !== null) {
    w.tag(6, 2); // kvlist_value
    const list = w.begin(1);
    const object = value as Record<string, unknown>;
    for (const key in object) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) continue;
      w.tag(1, 2);
      const kv = w.begin(1);
      w.tag(1, 2);
      w.string(key);
      w.tag(2, 2);
      const start = w.begin(1);
      anyValue(w, object[key]);
      w.end(start, 1);
      w.end(kv, 1);
    }
    w.end(list, 1);
  }
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  let flags = (traceFlags & 0xff) | FLAGS_CONTEXT_HAS_IS_REMOTE;
  if (isRemote) flags |= FLAGS_CONTEXT_IS_REMOTE;
  return flags;
}

/** Spans by resource, then by scope, both by identity in order of first appearance (as the official). */
function groupSpans(spans: ReadableSpan[]): Map<Resource, Map<Scope, ReadableSpan[]>> {
  const first = spans[0];
  const grouped = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  if (first === undefined) return grouped;
  // The usual batch: one resource, one scope, no copy.
  if (
    spans.every(
      (span) => span.resource === first.resource && span.instrumentationScope === first.instrumentationScope,
    )
  ) {
    grouped.set(first.resource, new Map([[first.instrumentationScope, spans]]));
    return grouped;
  }
  for (const span of spans) {
    let scopes = grouped.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      grouped.set(span.resource, scopes);
    }
    const scope: Scope = span.instrumentationScope;
    const list = scopes.get(scope);
    if (list === undefined) scopes.set(scope, [span]);
    else list.push(span);
  }
  return grouped;
}

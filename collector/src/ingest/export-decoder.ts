/*
 * Where export requests are decoded and mapped: on a pool of ingest threads (the default), or
 * inline on the calling thread (`--ingest-threads 0`, and tests that want one thread).
 *
 * Decoding and mapping are most of the collector's CPU per span (6 µs decode + 31 µs map, measured
 * here for protobuf). On the main thread, which also serves the query API, /healthz answered in
 * 120–240 ms at p99 while ingest ran flat out; on an ingest thread ~15 ms: the main thread only
 * reads bodies and moves bytes. The pool is piscina's: a fixed set of threads, a FIFO queue (bounded by
 * the body budget in front of it: at most --max-concurrent-exports tasks exist), and a thread
 * that dies (out of memory on one body, say) fails only its own task and is replaced.
 */
import { Piscina } from 'piscina';
import type { DecodedExport, DecodeTask } from './decode-export.js';
import { decodeExport } from './decode-export.js';

export interface ExportDecoder {
  decode(task: DecodeTask): Promise<DecodedExport>;
  close(): Promise<void>;
}

/** An ingest thread failed while decoding (it is replaced): the export is retried later. */
export class IngestThreadError extends Error {
  override readonly name = 'IngestThreadError';
}

function inlineDecoder(): ExportDecoder {
  return {
    decode: (task) => Promise.resolve(decodeExport(task)),
    close: () => Promise.resolve(),
  };
}

/** The body as a buffer of its own, which can be moved to a thread instead of copied. */
function ownBuffer(body: Uint8Array): Uint8Array {
  // A Buffer may be a view into a larger (pooled) ArrayBuffer: cloning would copy all of it, and
  // moving it would take it from under its other views.
  return body.byteOffset === 0 &&
    body.byteLength === body.buffer.byteLength &&
    body.buffer instanceof ArrayBuffer
    ? body
    : new Uint8Array(body);
}

function threadDecoder(threads: number): ExportDecoder {
  const fromSource = import.meta.url.endsWith('.ts');
  // Under tsx (tests, benchmarks) threads inherit its --import and load the TypeScript entry.
  const entry = new URL(fromSource ? './decode-worker.ts' : './decode-worker.js', import.meta.url);
  const pool = new Piscina<DecodeTask, DecodedExport>({
    filename: entry.href,
    minThreads: threads,
    maxThreads: threads,
    // Threads stay up: starting one costs ~50 ms, more than decoding most exports.
    idleTimeout: Infinity,
  });
  return {
    async decode(task) {
      const body = ownBuffer(task.body);
      try {
        return await pool.run({ ...task, body }, { transferList: [body.buffer as ArrayBuffer] });
      } catch (error) {
        throw new IngestThreadError(`an ingest thread failed: ${(error as Error).message}`);
      }
    },
    close: () => pool.destroy(),
  };
}

/** `threads` 0 decodes inline; more starts that many ingest threads. */
export function createExportDecoder(threads: number): ExportDecoder {
  return threads === 0 ? inlineDecoder() : threadDecoder(threads);
}

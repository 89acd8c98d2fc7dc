/*
 * Main-thread side of the writer thread: sends requests, resolves each when its reply arrives.
 * If the thread dies, everything waiting fails (the receiver answers 503, exporters retry) and
 * the next request starts a new thread.
 */
import { Worker } from 'node:worker_threads';
import type { InsertOutcome } from '../event-store.js';
import type { EventRow } from './event-row.js';
import type { SqliteOpenOptions } from './sqlite-database.js';
import type { WriterReply, WriterRequest } from './writer-protocol.js';

type RequestBody = WriterRequest extends infer R ? (R extends WriterRequest ? Omit<R, 'id'> : never) : never;

interface Waiting {
  resolve: (reply: WriterReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

function startWorker(options: SqliteOpenOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './writer-thread.ts' : './writer-thread.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: options });
  // Running from TypeScript sources (tests, benchmarks under tsx): worker threads do not inherit
  // tsx's loader, so the thread registers it before importing its entry.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}

export class WriterClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  constructor(private readonly options: SqliteOpenOptions) {}

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = startWorker(this.options);
    worker.on('message', (reply: WriterReply) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      // An idle writer thread must not keep the process alive (a store someone forgot to close).
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(reply.message));
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      fail(new Error(`the SQLite writer thread exited (code ${code})`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private request(body: RequestBody): Promise<WriterReply & { ok: true }> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Keep the process alive while a reply is owed.
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...body, id });
    });
  }

  async insert(rows: EventRow[]): Promise<InsertOutcome> {
    const reply = await this.request({ op: 'insert', rows });
    return reply.outcome ?? { inserted: 0, duplicates: 0 };
  }

  async deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number> {
    const reply = await this.request({ op: 'deleteOlderThan', cutoffMs, maxEvents });
    return reply.deleted ?? 0;
  }

  async close(): Promise<void> {
    if (this.worker === undefined) return;
    const worker = this.worker;
    // The thread closes the database (checkpointing the WAL) before it is stopped.
    await this.request({ op: 'close' });
    await worker.terminate();
  }
}

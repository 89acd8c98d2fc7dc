/*
 * Main-thread side of a SQLite worker thread: sends requests, resolves each when its reply
 * arrives. If the thread dies, everything waiting fails (the receiver answers 503, exporters
 * retry) and the next request starts a new thread. A request that overruns its time limit stops
 * the thread (the only way to interrupt a running SQLite statement in better-sqlite3).
 */
import { Worker } from 'node:worker_threads';
import { EngineUnavailableError, QueryTimeoutError } from '../event-store.js';
import type { SqliteThreadData, ThreadCall, ThreadReply } from './sqlite-thread-protocol.js';

const READER_RESTART_DELAY_MS = 1000;

export type SuccessReply = ThreadReply & { ok: true };

/** The request ran longer than its limit; the thread was stopped. */
export class SqliteTimeoutError extends QueryTimeoutError {
  override readonly name: string = 'SqliteTimeoutError';
}

interface Waiting {
  resolve: (reply: SuccessReply) => void;
  reject: (error: Error) => void;
}

function startWorker(data: SqliteThreadData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? './sqlite-thread.ts' : './sqlite-thread.js', import.meta.url);
  if (!fromSource) return new Worker(entry, { workerData: data });
  // Running from TypeScript sources (tests, benchmarks under tsx): worker threads do not inherit
  // tsx's loader, so the thread registers it before importing its entry.
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

export class SqliteThreadClient {
  private worker: Worker | undefined;
  /** Resolves when the current thread has opened the database. */
  private ready: Promise<void> = Promise.resolve();
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private closed = false;

  constructor(private readonly data: SqliteThreadData) {
    // The reader checkpoints the WAL: it runs from the start, and again after it is stopped. The
    // writer indexes free text when idle: it starts at once too, for events already stored.
    if (data.role === 'reader' || data.textIndexing === 'background') this.ensureWorker();
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = startWorker(this.data);
    let markReady: () => void = () => undefined;
    this.ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    worker.on('message', (reply: ThreadReply) => {
      if (reply.id === 0) {
        markReady();
        return;
      }
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      // An idle thread must not keep the process alive (a store someone forgot to close).
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(new Error(reply.message));
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on('error', (error) => {
      fail(new EngineUnavailableError(`the SQLite ${this.data.role} thread failed: ${error.message}`));
    });
    worker.on('exit', (code) => {
      fail(new EngineUnavailableError(`the SQLite ${this.data.role} thread exited (code ${code})`));
      // The reader checkpoints even when no lookup comes: restart it, after a pause so that a
      // thread that cannot start (a full disk at open) does not restart in a tight loop. A lookup
      // arriving before then starts it at once.
      if (this.data.role === 'reader' && !this.closed) {
        setTimeout(() => {
          if (!this.closed) this.ensureWorker();
        }, READER_RESTART_DELAY_MS).unref();
      }
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Sends one request; with timeoutMs, stops the thread if the reply is later than that. */
  call(body: ThreadCall, timeoutMs?: number): Promise<SuccessReply> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<SuccessReply>((resolve, reject) => {
      // Keep the process alive while a reply is owed.
      if (this.waiting.size === 0) worker.ref();
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        clearTimeout(timer);
      };
      this.waiting.set(id, {
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      if (timeoutMs !== undefined) {
        void this.ready.then(() => {
          if (!this.waiting.has(id)) return;
          timer = setTimeout(() => {
            const waiter = this.waiting.get(id);
            if (waiter === undefined) return;
            this.waiting.delete(id);
            reject(new SqliteTimeoutError(`the query ran longer than ${timeoutMs} ms and was stopped`));
            // Everything else waiting on this thread fails too, and is retried by its caller.
            void worker.terminate();
          }, timeoutMs);
        });
      }
      worker.postMessage({ ...body, id });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.worker === undefined) return;
    const worker = this.worker;
    // The thread closes its connection (checkpointing the WAL) before it is stopped.
    await this.call({ op: 'close' });
    await worker.terminate();
  }
}

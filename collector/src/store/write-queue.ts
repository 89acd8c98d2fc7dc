/*
 * Group commit with backpressure, in front of any EventStore.
 *
 * Batches from concurrent exports are committed together in one store transaction (larger
 * transactions measured ~2× faster in SQLite here); each caller's promise resolves only after the
 * transaction holding its events committed, so the receiver acknowledges nothing that is not
 * durable. When more events wait than the queue allows, enqueue refuses at once with
 * StoreOverloadedError: the receiver answers 429 + Retry-After and the exporter retries later,
 * instead of the collector buffering without bound or dropping acknowledged data.
 */
import type { EventStore, InsertOutcome } from './event-store.js';
import type { PackedRows } from './packed-rows.js';

export class StoreOverloadedError extends Error {
  override readonly name = 'StoreOverloadedError';
}

/** The store failed to commit (disk full, locked, ClickHouse down): retryable for the client. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

function unavailable(error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(`the store could not commit: ${(error as Error).message}`);
}

export interface WriteQueueOptions {
  /** Most events waiting for a commit before new batches are refused. */
  maxPendingEvents: number;
  /** Most events in one transaction; the rest wait for the next one. */
  maxEventsPerCommit: number;
  /** Commits handed to the store before the previous ones finished (default 2: a pipeline). */
  maxCommitsInFlight?: number;
  /** Called after each commit, for metrics. */
  onCommit?: (outcome: InsertOutcome, events: number, seconds: number) => void;
}

interface PendingBatch {
  rows: PackedRows;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class WriteQueue {
  private pending: PendingBatch[] = [];
  private pendingEvents = 0;
  private commitsInFlight = 0;
  private pumpScheduled = false;
  private lastFailure: string | undefined;
  /** The rows of the latest failed commit, kept to test whether the store takes writes again. */
  private lastFailedRows: readonly PackedRows[] = [];
  private retrying: Promise<string | undefined> | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly options: WriteQueueOptions,
  ) {}

  /** Events accepted but not yet committed. */
  get depth(): number {
    return this.pendingEvents;
  }

  /** Why the latest commit failed, or undefined when it succeeded (readiness reports this). */
  get lastCommitFailure(): string | undefined {
    return this.lastFailure;
  }

  /**
   * After a failed commit: commits the events that failed again, and resolves with why the store
   * still cannot take them, or undefined once it can (or when nothing failed). A small probe write
   * would say little: SQLite can fit a small transaction into WAL space a real batch cannot use.
   * Storing those events is harmless: their exporters were told to retry, and a retried event is
   * stored once.
   */
  stillFailing(): Promise<string | undefined> {
    if (this.lastFailure === undefined) return Promise.resolve(undefined);
    // One retry at a time, however often the (unauthenticated) probe is called.
    this.retrying ??= this.commitOnce(this.lastFailedRows)
      .then(
        () => undefined,
        () => this.lastFailure,
      )
      .finally(() => {
        this.retrying = undefined;
      });
    return this.retrying;
  }

  /** Resolves once the rows are committed; rejects with StoreOverloadedError when full. */
  enqueue(rows: PackedRows): Promise<void> {
    if (rows.count === 0) return Promise.resolve();
    if (this.pendingEvents > 0 && this.pendingEvents + rows.count > this.options.maxPendingEvents) {
      return Promise.reject(
        new StoreOverloadedError(`${this.pendingEvents} events are waiting to be stored; retry later`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ rows, resolve, reject });
      this.pendingEvents += rows.count;
      this.schedulePump();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Let the other requests already read in this turn of the event loop join the commit.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private takeCommitGroup(): PendingBatch[] {
    const group: PendingBatch[] = [];
    let size = 0;
    for (let next = this.pending[0]; next !== undefined; next = this.pending[0]) {
      if (group.length > 0 && size + next.rows.count > this.options.maxEventsPerCommit) break;
      group.push(next);
      size += next.rows.count;
      this.pending.shift();
    }
    return group;
  }

  /**
   * Starts commits while fewer than `maxCommitsInFlight` run. With a store that commits on
   * another thread, the next group is handed over while the previous one is still committing, so
   * the next requests are decoded while the writer writes instead of taking turns.
   */
  private pump(): void {
    while (this.pending.length > 0 && this.commitsInFlight < (this.options.maxCommitsInFlight ?? 2)) {
      const group = this.takeCommitGroup();
      this.commitsInFlight++;
      void this.commit(group).finally(() => {
        this.commitsInFlight--;
        if (this.pending.length > 0) this.schedulePump();
      });
    }
  }

  private async commit(group: PendingBatch[]): Promise<void> {
    const rows = group.map((batch) => batch.rows);
    const events = rows.reduce((sum, batch) => sum + batch.count, 0);
    try {
      await this.commitOnce(rows);
      for (const batch of group) batch.resolve();
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(unavailable(error));
      } else {
        // Whatever failed the group must not fail the batches that share it with the culprit:
        // each is committed alone, so only a batch that fails by itself (or a store that fails
        // every commit) is refused.
        for (const batch of group) {
          try {
            await this.commitOnce([batch.rows]);
            batch.resolve();
          } catch (batchError) {
            batch.reject(unavailable(batchError));
          }
        }
      }
    } finally {
      this.pendingEvents -= events;
    }
  }

  private async commitOnce(rows: readonly PackedRows[]): Promise<void> {
    const started = process.hrtime.bigint();
    let outcome: InsertOutcome;
    try {
      outcome = await this.store.insertPacked(rows);
    } catch (error) {
      this.lastFailure = (error as Error).message;
      this.lastFailedRows = rows;
      throw error;
    }
    this.lastFailure = undefined;
    this.lastFailedRows = [];
    const events = rows.reduce((sum, batch) => sum + batch.count, 0);
    this.options.onCommit?.(outcome, events, Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Resolves when everything enqueued so far is committed (or failed). */
  async drain(): Promise<void> {
    while (this.pendingEvents > 0 || this.commitsInFlight > 0) {
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  }
}

/*
 * Deletes events older than the retention period, in the background: small chunks with a pause
 * between them, so a large expiry (the first sweep after lowering --retention-days) never holds
 * the store long enough to stall ingest.
 */
import type { Logger } from 'pino';
import type { EventStore } from '../store/event-store.js';

export interface RetentionOptions {
  retentionDays: number;
  /** Time between sweeps. */
  intervalMs: number;
  /** Events deleted per chunk (one short transaction). */
  chunkSize: number;
  /** Pause between chunks, letting ingest commits through. */
  pauseMs: number;
  onDeleted?: (count: number) => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly options: RetentionOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    // First sweep shortly after start-up, then on the interval.
    this.schedule(Math.min(5_000, this.options.intervalMs));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .then(() => undefined)
        .catch((error: unknown) => {
          this.logger.error({ err: error }, 'retention sweep failed; will retry');
        })
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One full sweep; resolves with the number of events deleted. */
  async sweep(now = Date.now()): Promise<number> {
    const cutoff = now - this.options.retentionDays * DAY_MS;
    let deleted = 0;
    for (;;) {
      if (this.stopped) break;
      const count = await this.store.deleteOlderThan(cutoff, this.options.chunkSize);
      deleted += count;
      if (count > 0) this.options.onDeleted?.(count);
      if (count < this.options.chunkSize) break;
      await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
    }
    if (deleted > 0) {
      this.logger.info({ deleted, cutoff: new Date(cutoff).toISOString() }, 'expired events deleted');
    }
    return deleted;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}

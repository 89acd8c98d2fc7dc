/*
 * Which collector evaluates Insights. With SQLite a collector owns its file, so it always does.
 * Collectors sharing a ClickHouse database keep a lease there (store/clickhouse/clickhouse-lease.ts):
 * the LeaseKeeper renews it well inside its duration, a standby keeps trying to take it, and
 * holds() is true only while the lease is known to be valid, so a holder that cannot renew
 * (ClickHouse unreachable, the process paused) stops before another one may take over.
 */
import type { Logger } from 'pino';

export interface Leadership {
  /** True while this collector may evaluate and write insights. */
  holds(): boolean;
}

/** A collector that is the only one writing its store (SQLite). */
export const SOLE_EVALUATOR: Leadership = { holds: () => true };

export interface LeaseGrant {
  /** Fencing token: rises with every change of holder. */
  term: number;
  validUntilMs: number;
}

export interface LeaseClaim {
  /** Renews or takes the lease when it can; undefined while another holds it. */
  tryAcquire(): Promise<LeaseGrant | undefined>;
}

export interface LeaseKeeperOptions {
  /** How often to renew (holder) or try to take over (standby): a fraction of the lease duration. */
  renewMs: number;
  /** Wall clock: the lease is kept in real time, whatever clock Insights judges minutes by. */
  now: () => number;
  /** Told when this collector starts or stops holding the lease (for /metrics). */
  onChange?: (holds: boolean) => void;
}

export class LeaseKeeper implements Leadership {
  private grant: LeaseGrant | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private wasHolder = false;

  constructor(
    private readonly claim: LeaseClaim,
    private readonly options: LeaseKeeperOptions,
    private readonly log: Logger,
  ) {}

  holds(): boolean {
    return this.grant !== undefined && this.options.now() < this.grant.validUntilMs;
  }

  /** The fencing term while this collector holds the lease. */
  get term(): number | undefined {
    return this.holds() ? this.grant?.term : undefined;
  }

  /** Tries once now (so a lone collector evaluates from its first minute), then on a timer. */
  async start(): Promise<void> {
    await this.renewNow();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.renewNow().finally(() => {
        this.schedule();
      });
    }, this.options.renewMs);
  }

  /** One renewal (or takeover attempt); the timer calls it every renewMs. */
  async renewNow(): Promise<void> {
    try {
      this.grant = await this.claim.tryAcquire();
    } catch (error) {
      // Keep the grant we have: it stays valid until validUntilMs, and holds() checks that.
      this.log.warn({ err: error }, 'insights lease not renewed; retrying');
    }
    const holder = this.holds();
    if (holder !== this.wasHolder) {
      this.log.info(
        holder ? { term: this.grant?.term } : {},
        holder
          ? 'this collector now evaluates Insights'
          : 'another collector evaluates Insights; this one stands by',
      );
      this.wasHolder = holder;
      this.options.onChange?.(holder);
    }
  }
}

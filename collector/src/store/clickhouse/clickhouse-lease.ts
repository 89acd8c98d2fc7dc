/*
 * A lease kept in ClickHouse: which one of several collectors runs a job (Insights) now, taken
 * over within about a minute when its holder dies. ClickHouse has no compare-and-set, so a lease is
 * a log of heartbeats (name, term, holder, at_ms) and every collector derives the same answer from it:
 *
 * - The holder of the highest term is the collector whose first heartbeat in that term is the
 *   earliest (ties by name). It holds the lease while its latest heartbeat is younger than the lease
 *   duration, and renews by adding a heartbeat.
 * - When the lease has lapsed (or never existed), a collector claims term + 1 with a heartbeat,
 *   waits `settleMs`, and reads the claims back: the earliest claim wins. A later claimant whose
 *   read came before the winner's claim inserts after the winner's read-back, so with clocks within
 *   settleMs of each other its claim is the later one and loses: one holder per term.
 * - The term is the fencing token: it rises with every change of holder, so writes can be tagged
 *   with it and a stale holder recognised. A holder that could not renew must stop before its lease
 *   lapses (validUntilMs), since from then on another may take over.
 */
import { sqlInteger, sqlString } from './sql-literal.js';

export interface LeaseIo {
  rows(query: string): Promise<Record<string, unknown>[]>;
  insert(table: string, values: Record<string, unknown>[]): Promise<void>;
}

export interface LeaseOptions {
  durationMs: number;
  /** How long a claimant waits before reading claims back (above insert latency and clock skew). */
  settleMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface HeldLease {
  /** The fencing token: rises with every change of holder. */
  term: number;
  /** Stop acting as holder by then unless renewed. */
  validUntilMs: number;
}

interface TermState {
  term: number;
  holder: string;
  lastBeatMs: number;
}

export class ClickHouseLease {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly io: LeaseIo,
    private readonly table: string,
    private readonly name: string,
    private readonly holder: string,
    private readonly options: LeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms)));
  }

  /** The winner of the highest term (or of `term` when given), and its latest heartbeat. */
  private async state(term?: number): Promise<TermState | undefined> {
    // Two plain queries rather than a subquery: they run alike on a table and a Distributed one.
    if (term === undefined) {
      const [top] = await this.io.rows(
        `SELECT max(term) AS term, count() AS n FROM ${this.table} WHERE name = ${sqlString(this.name)}`,
      );
      if (top === undefined || Number(top.n) === 0) return undefined;
      return this.state(Number(top.term));
    }
    const rows = await this.io.rows(
      `SELECT term, holder, min(at_ms) AS first_ms, max(at_ms) AS last_ms FROM ${this.table}
       WHERE name = ${sqlString(this.name)} AND term = ${sqlInteger(term)}
       GROUP BY term, holder ORDER BY first_ms, holder LIMIT 1`,
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { term: Number(row.term), holder: String(row.holder), lastBeatMs: Number(row.last_ms) };
  }

  private async beat(term: number, at: number): Promise<void> {
    await this.io.insert(this.table, [{ name: this.name, term, holder: this.holder, at_ms: at }]);
  }

  /** Renews or takes the lease when it can; undefined while another collector holds it. */
  async tryAcquire(): Promise<HeldLease | undefined> {
    const current = await this.state();
    const startedAt = this.now();
    const live = current !== undefined && startedAt - current.lastBeatMs < this.options.durationMs;
    if (live && current.holder !== this.holder) return undefined;
    if (live) {
      await this.beat(current.term, startedAt);
      return { term: current.term, validUntilMs: startedAt + this.options.durationMs };
    }
    const term = (current?.term ?? 0) + 1;
    await this.beat(term, startedAt);
    await this.sleep(this.options.settleMs);
    const winner = await this.state(term);
    if (winner?.holder !== this.holder) return undefined;
    return { term, validUntilMs: startedAt + this.options.durationMs };
  }
}

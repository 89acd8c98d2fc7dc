/*
 * The engine a collector's configuration names: the SQLite file, or ClickHouse (connected and its
 * schema migrated before the collector opens its ports).
 */
import type { CollectorConfig } from '../config.js';
import { CLICKHOUSE_EVENTS_PER_COMMIT, EVENTS_PER_COMMIT } from '../config.js';
import { ClickHouseEventStore } from './clickhouse/clickhouse-event-store.js';
import type { LeaseClaim } from '../insights/insights-leadership.js';
import type { EventStore } from './event-store.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';

export interface OpenedStore {
  store: EventStore;
  /** Largest commit the write queue hands this engine. */
  eventsPerCommit: number;
  /** Where the events are, for the start-up log line. */
  location: string;
  /**
   * A lease on a job among the collectors sharing this database; undefined when the collector is
   * the only one (a SQLite file belongs to one process).
   */
  jobLease?: (job: string, holder: string) => LeaseClaim;
}

/**
 * A holder renews every third of the duration, so two missed renewals still keep it; a dead one is
 * replaced within duration + one renewal + settle (~42 s).
 */
export const JOB_LEASE = { durationMs: 30_000, renewMs: 10_000, settleMs: 2_000 } as const;

export async function openEventStore(config: CollectorConfig): Promise<OpenedStore> {
  if (config.store === 'clickhouse') {
    const { url, database, username, password, cluster, insertQuorum, textIndex } = config.clickhouse;
    const store = await ClickHouseEventStore.open({
      url,
      database,
      username,
      ...(password === undefined ? {} : { password }),
      ...(cluster === undefined ? {} : { cluster }),
      ...(insertQuorum === undefined ? {} : { insertQuorum }),
      textIndex,
      queryTimeoutMs: config.queryTimeoutMs,
    });
    const where = new URL(url);
    return {
      store,
      eventsPerCommit: CLICKHOUSE_EVENTS_PER_COMMIT,
      location: `clickhouse ${where.protocol}//${where.host}/${database}`,
      jobLease: (job, holder) =>
        store.lease(job, holder, { durationMs: JOB_LEASE.durationMs, settleMs: JOB_LEASE.settleMs }),
    };
  }
  return {
    store: new SqliteEventStore({
      path: config.dbPath,
      synchronous: config.sqliteSynchronous === 'full' ? 'FULL' : 'NORMAL',
      queryTimeoutMs: config.queryTimeoutMs,
    }),
    eventsPerCommit: EVENTS_PER_COMMIT,
    location: config.dbPath,
  };
}

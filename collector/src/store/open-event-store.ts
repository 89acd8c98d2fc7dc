/*
 * The engine a collector's configuration names: the SQLite file, or ClickHouse (connected and its
 * schema migrated before the collector opens its ports).
 */
import type { CollectorConfig } from '../config.js';
import { CLICKHOUSE_EVENTS_PER_COMMIT, EVENTS_PER_COMMIT } from '../config.js';
import { ClickHouseEventStore } from './clickhouse/clickhouse-event-store.js';
import type { EventStore } from './event-store.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';

export interface OpenedStore {
  store: EventStore;
  /** Largest commit the write queue hands this engine. */
  eventsPerCommit: number;
  /** Where the events are, for the start-up log line. */
  location: string;
}

export async function openEventStore(config: CollectorConfig): Promise<OpenedStore> {
  if (config.store === 'clickhouse') {
    const { url, database, username, password, cluster, insertQuorum } = config.clickhouse;
    const store = await ClickHouseEventStore.open({
      url,
      database,
      username,
      ...(password === undefined ? {} : { password }),
      ...(cluster === undefined ? {} : { cluster }),
      ...(insertQuorum === undefined ? {} : { insertQuorum }),
      queryTimeoutMs: config.queryTimeoutMs,
    });
    const where = new URL(url);
    return {
      store,
      eventsPerCommit: CLICKHOUSE_EVENTS_PER_COMMIT,
      location: `clickhouse ${where.protocol}//${where.host}/${database}`,
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

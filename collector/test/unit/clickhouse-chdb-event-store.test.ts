/*
 * The ClickHouse engine on chdb (ClickHouse 26.7 embedded in this process, npm `chdb`): the whole
 * EventStore contract with current ClickHouse semantics, each contract block in its own database.
 * chdb locks its data directory per process, so this file has a directory of its own.
 */
import { after } from 'node:test';

import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

import { ClickHouseEventStore } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseStoreOptions } from '../../src/store/clickhouse/clickhouse-event-store.js';
import { eventStoreContract } from '../support/event-store-contract.js';
import { clickHouseEngineTests } from '../support/clickhouse-engine-tests.js';
import { tempDir } from './builders.js';

const data = tempDir('crumbtrail-chdb-');
// One embedded engine for the file: every store shares it, each in its own database.
const connection = createChdbConnection({ path: data.dir });
const stores: ClickHouseEventStore[] = [];
// The chdb connection is typed against @clickhouse/client-common's copy of the interface.
const sharedConnection = connection as unknown as ClickHouseStoreOptions['connection'];
const rawClient = createClient({ connection: sharedConnection });
after(async () => {
  for (const store of stores) await store.close();
  await connection.close();
  data.remove();
});

async function open(
  database: string,
  extra: Partial<ClickHouseStoreOptions> = {},
): Promise<ClickHouseEventStore> {
  const store = await ClickHouseEventStore.open({ connection: sharedConnection, database, ...extra });
  stores.push(store);
  return store;
}

eventStoreContract({ name: 'ClickHouse 26.7 (chdb)', open: (label) => open(`contract_${label}`) });
clickHouseEngineTests({ name: 'ClickHouse 26.7 (chdb)', open, client: () => rawClient });

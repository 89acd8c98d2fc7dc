/*
 * The ClickHouse engine against a real server: Debian's clickhouse-server (18.16 here), started by
 * this file in a temp dir on ephemeral ports and killed whatever the outcome. The whole EventStore
 * contract over HTTP, each contract block in its own database.
 */
import { after, before } from 'node:test';

import { createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';

import { ClickHouseEventStore } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseStoreOptions } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseServer } from '../support/clickhouse-server.js';
import { startClickHouseServer } from '../support/clickhouse-server.js';
import { eventStoreContract } from '../support/event-store-contract.js';
import { clickHouseEngineTests } from '../support/clickhouse-engine-tests.js';

let server: ClickHouseServer | undefined;
const stores: ClickHouseEventStore[] = [];
let rawClient: ClickHouseClient | undefined;
before(async () => {
  server = await startClickHouseServer();
});
after(async () => {
  for (const store of stores) await store.close();
  await rawClient?.close();
  await server?.stop();
});

async function open(
  database: string,
  extra: Partial<ClickHouseStoreOptions> = {},
): Promise<ClickHouseEventStore> {
  if (server === undefined) throw new Error('the ClickHouse server did not start');
  const store = await ClickHouseEventStore.open({ url: server.url, database, ...extra });
  stores.push(store);
  return store;
}

eventStoreContract({ name: 'ClickHouse 18.16 server', open: (label) => open(`contract_${label}`) });
clickHouseEngineTests({
  name: 'ClickHouse 18.16 server',
  open,
  client: () => (rawClient ??= createClient({ url: server?.url ?? '' })),
});

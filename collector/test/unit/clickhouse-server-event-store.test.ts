/*
 * The ClickHouse engine against a real server: Debian's clickhouse-server (18.16 here), started by
 * this file in a temp dir on ephemeral ports and killed whatever the outcome. The whole EventStore
 * contract over HTTP, each contract block in its own database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';

import { createClient } from '@clickhouse/client';
import type { ClickHouseClient } from '@clickhouse/client';

import { ClickHouseEventStore } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseStoreOptions } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseServer } from '../support/clickhouse-server.js';
import { startClickHouseServer } from '../support/clickhouse-server.js';
import { EngineUnavailableError } from '../../src/store/event-store.js';
import { dataSet, filter } from '../support/event-store-contract.js';
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

describe('ClickHouse down or slow', { timeout: 60_000 }, () => {
  it('fails inserts and lookups with EngineUnavailableError once the server is gone (kill -9)', async () => {
    const own = await startClickHouseServer();
    try {
      const store = await ClickHouseEventStore.open({
        url: own.url,
        database: 'down',
        requestTimeoutMs: 2000,
      });
      try {
        assert.deepEqual(await store.insert(dataSet().slice(0, 2)), { inserted: 2, duplicates: 0 });
        await own.kill();
        await assert.rejects(store.insert(dataSet()), EngineUnavailableError);
        await assert.rejects(store.lookup({ filter: filter(), limit: 5 }), EngineUnavailableError);
      } finally {
        await store.close();
      }
    } finally {
      await own.stop();
    }
  });

  it('fails with EngineUnavailableError when the server accepts but never answers', async () => {
    // A real socket that reads requests and never replies: a hung server.
    const sockets = new Set<Socket>();
    const hung = createServer((socket) => {
      sockets.add(socket);
      socket.resume();
    });
    await new Promise<void>((resolveListen) => hung.listen(0, '127.0.0.1', resolveListen));
    const address = hung.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await assert.rejects(
        ClickHouseEventStore.open({
          url: `http://127.0.0.1:${port}`,
          database: 'hung',
          requestTimeoutMs: 300,
        }),
        EngineUnavailableError,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolveClose) =>
        hung.close(() => {
          resolveClose();
        }),
      );
    }
  });
});

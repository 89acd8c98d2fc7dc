/*
 * The ClickHouse engine on clusters of real 18.16 servers with a real ZooKeeper, schema created by
 * the collector's own ON CLUSTER migrations: the whole EventStore contract (lookups, paging,
 * counts, duplicates) through Distributed tables over
 *   - two shards (ReplicatedMergeTree, one replica each), and
 *   - one shard of two replicas (insert_quorum=2, so a read on either replica sees every insert).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ClickHouseEventStore } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseServer } from '../support/clickhouse-server.js';
import { startClickHouseServer } from '../support/clickhouse-server.js';
import { eventStoreContract } from '../support/event-store-contract.js';
import { reservePorts } from '../support/reserved-ports.js';
import type { ZooKeeperServer } from '../support/zookeeper-server.js';
import { startZooKeeper } from '../support/zookeeper-server.js';

interface Node {
  shard: string;
  replica: string;
  tcpPort: number;
}

/*
 * A long ZooKeeper session (the server caps it at 20 ticks, 40 s): on a loaded machine a short
 * one can expire mid-suite, and 18.16 re-creates sessions badly.
 */
function clusterXml(name: string, nodes: readonly Node[], zookeeperPort: number, self: Node): string {
  const shards = [...new Set(nodes.map((node) => node.shard))].map(
    (shard) =>
      `<shard><internal_replication>true</internal_replication>${nodes
        .filter((node) => node.shard === shard)
        .map((node) => `<replica><host>127.0.0.1</host><port>${node.tcpPort}</port></replica>`)
        .join('')}</shard>`,
  );
  return `<remote_servers><${name}>${shards.join('')}</${name}></remote_servers>
  <zookeeper><node><host>127.0.0.1</host><port>${zookeeperPort}</port></node><session_timeout_ms>120000</session_timeout_ms></zookeeper>
  <macros><shard>${self.shard}</shard><replica>${self.replica}</replica></macros>
  <distributed_ddl><path>/clickhouse/task_queue/${name}</path></distributed_ddl>`;
}

let zookeeper: ZooKeeperServer | undefined;
before(async () => {
  zookeeper = await startZooKeeper();
});
after(async () => {
  await zookeeper?.stop();
});

function clusterSuite(
  name: string,
  layout: { shard: string; replica: string }[],
  insertQuorum?: number,
): void {
  const sharded = new Set(layout.map((node) => node.shard)).size > 1;
  describe(`cluster ${name}`, { timeout: 400_000 }, () => {
    const servers: ClickHouseServer[] = [];
    const stores: ClickHouseEventStore[] = [];
    before(async () => {
      // Each server's config names its peers' native ports, so those are reserved up front.
      const tcpPorts = await reservePorts(layout.length);
      const nodes = layout.map((node, index) => ({ ...node, tcpPort: tcpPorts[index] ?? 0 }));
      for (const node of nodes) {
        servers.push(
          await startClickHouseServer({
            tcpPort: node.tcpPort,
            extraConfig: clusterXml(name, nodes, zookeeper?.port ?? 0, node),
          }),
        );
      }
    });
    after(async () => {
      for (const store of stores) await store.close();
      for (const server of servers) await server.stop();
    });
    eventStoreContract({
      name: `ClickHouse 18.16 cluster ${name}`,
      open: async (label) => {
        const store = await ClickHouseEventStore.open({
          url: servers[0]?.url ?? '',
          database: `${name}_${label}`,
          cluster: name,
          ...(insertQuorum === undefined ? {} : { insertQuorum }),
        });
        stores.push(store);
        return store;
      },
    });
    it(
      sharded ? 'spread the lookup data set over both shards' : 'copied the lookup data set to both replicas',
      async () => {
        // The contract's lookup block stored 6 events (5 calls and an insight) in <cluster>_lookup.
        const counts = await Promise.all(
          servers.map(async (server) => {
            const query = encodeURIComponent(`SELECT count() FROM ${name}_lookup.events_local`);
            return Number((await (await fetch(`${server.url}/?query=${query}`)).text()).trim());
          }),
        );
        if (sharded) {
          assert.ok(
            counts.every((count) => count > 0),
            `per shard: ${counts.join(', ')}`,
          );
          assert.equal(
            counts.reduce((sum, count) => sum + count, 0),
            6,
          );
        } else {
          assert.deepEqual(counts, [6, 6]);
        }
      },
    );
  });
}

clusterSuite('two_shards', [
  { shard: '01', replica: 'a' },
  { shard: '02', replica: 'a' },
]);
clusterSuite(
  'two_replicas',
  [
    { shard: '01', replica: 'a' },
    { shard: '01', replica: 'b' },
  ],
  2,
);

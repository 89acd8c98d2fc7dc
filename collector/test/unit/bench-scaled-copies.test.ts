/*
 * The benchmark's scaled copies (collector/bench/scaled-copies.ts): copies of N generated events,
 * made inside ClickHouse (chdb), carry what the workload derives from an event's position as the
 * workload generated at factor × N does, so lookups at 100M measure the layout they claim to.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { createClient } from '@clickhouse/client';
import { createChdbConnection } from 'chdb/connection';

import { fill } from '../../bench/chdb-bench.js';
import { COPY_SETTINGS, copyStatement } from '../../bench/scaled-copies.js';
import { ClickHouseEventStore } from '../../src/store/clickhouse/clickhouse-event-store.js';
import type { ClickHouseStoreOptions } from '../../src/store/clickhouse/clickhouse-event-store.js';
import { tempDir } from './builders.js';

const data = tempDir('crumbtrail-chdb-copies-');
const connection = createChdbConnection({ path: data.dir });
const shared = connection as unknown as ClickHouseStoreOptions['connection'];
const client = createClient({ connection: shared });
after(async () => {
  await client.close();
  await connection.close();
  data.remove();
});

interface Derived {
  request: string;
  event_time_ms: string;
  event_id: string;
  seq: string;
  access_key_id: string;
  source_ip: string;
  resource_names: string[];
  record: string;
}

async function rows(database: string): Promise<Derived[]> {
  const result = await client.query({
    query: `SELECT extract(record, '"requestID":"(req-\\\\d+)"') AS request, toString(event_time_ms) AS event_time_ms,
              event_id, toString(seq) AS seq, access_key_id, source_ip, resource_names, record
            FROM ${database}.events ORDER BY toUInt64(substring(request, 5))`,
    format: 'JSONEachRow',
  });
  return result.json<Derived>();
}

describe('benchmark scaled copies', () => {
  it('lays 3 copies of 400 events out as the workload generated with 1,200', async () => {
    const perCopy = 400;
    const factor = 3;
    await fill(shared, 'copies_source', perCopy, false);
    await fill(shared, 'copies_reference', perCopy * factor, false);
    const target = await ClickHouseEventStore.open({
      connection: shared,
      database: 'copies_target',
      textIndex: false,
    });
    await target.close();
    for (let k = 0; k < factor; k++) {
      await client.command({ query: copyStatement('copies_source', 'copies_target', factor, k) });
    }
    const copies = await rows('copies_target');
    const reference = await rows('copies_reference');
    assert.equal(copies.length, perCopy * factor);
    assert.equal(new Set(copies.map((row) => row.event_id)).size, copies.length, 'unique event ids');
    assert.equal(new Set(copies.map((row) => row.seq)).size, copies.length, 'unique commit sequences');
    assert.ok(
      copies.every((row) => Number.isSafeInteger(Number(row.seq))),
      'seq stays below 2^53',
    );
    // The workload spreads its events over 30 days; a copy keeps its original's time, which is
    // within `factor` steps of its place (at 100M in 10 copies: 9 × 0.026 ms, the same millisecond).
    const stepMs = (30 * 86_400_000) / (perCopy * factor);
    copies.forEach((copy, i) => {
      const expected = reference[i];
      assert.ok(expected !== undefined);
      assert.equal(copy.request, `req-${i}`);
      assert.equal(copy.request, expected.request);
      assert.equal(copy.access_key_id, expected.access_key_id, copy.request);
      assert.equal(copy.source_ip, expected.source_ip, copy.request);
      assert.deepEqual(copy.resource_names, expected.resource_names, copy.request);
      assert.ok(
        Math.abs(Number(copy.event_time_ms) - Number(expected.event_time_ms)) <= factor * stepMs,
        copy.request,
      );
      // The record says what the row says.
      const record = JSON.parse(copy.record) as {
        eventID: string;
        requestID: string;
        sourceIPAddress: string;
        userIdentity: { accessKeyId: string };
        resources: { name: string }[];
        requestParameters: { userName: string };
      };
      assert.equal(record.eventID, copy.event_id);
      assert.equal(record.requestID, copy.request);
      assert.equal(record.sourceIPAddress, copy.source_ip);
      assert.equal(record.userIdentity.accessKeyId, copy.access_key_id);
      assert.deepEqual(
        [record.resources[0]?.name, record.requestParameters.userName],
        [copy.resource_names[0], copy.resource_names[0]],
      );
    });
  });

  it('writes a copy in two streams, into the events and into the minute-count view', async () => {
    await fill(shared, 'streams_source', 100, false);
    const target = await ClickHouseEventStore.open({ connection: shared, database: 'streams_target' });
    await target.close();
    const result = await client.query({
      query: `EXPLAIN PIPELINE ${copyStatement('streams_source', 'streams_target', 2, 0)}`,
      format: 'TabSeparatedRaw',
      clickhouse_settings: COPY_SETTINGS,
    });
    const sinks = (await result.text()).match(/label="MergeTreeSink/g) ?? [];
    // Two for the events table and two for the view's table; one each is a copy on one core.
    assert.equal(sinks.length, 4);
  });

  it('refuses factors whose commit sequences could collide', () => {
    assert.throws(() => copyStatement('a', 'b', 17, 0), /factor of 1 to 16/);
    assert.throws(() => copyStatement('a', 'b', 2, 2), /copy 2 of 2/);
  });
});

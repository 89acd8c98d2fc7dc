import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { pino } from 'pino';

import { RetentionSweeper } from '../../src/retention/retention-sweeper.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { parseRecord, storedEvent, tempDir } from './builders.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);
const silent = pino({ level: 'silent' });

/** A store that counts deleteOlderThan calls and the chunk sizes asked for. */
class CountingStore extends SqliteEventStore {
  readonly deletes: { cutoffMs: number; maxEvents: number; deleted: number }[] = [];

  override async deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number> {
    const deleted = await super.deleteOlderThan(cutoffMs, maxEvents);
    this.deletes.push({ cutoffMs, maxEvents, deleted });
    return deleted;
  }
}

async function remainingNames(store: SqliteEventStore): Promise<string[]> {
  const page = await store.lookup({ filter: { fields: {} }, limit: 1000 });
  return page.records.map((record) => parseRecord(record).eventName);
}

describe('RetentionSweeper', () => {
  const temp = tempDir();
  let files = 0;
  const stores: SqliteEventStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    temp.remove();
  });

  async function storeWith(ages: [string, number][]): Promise<CountingStore> {
    const store = new CountingStore({ path: join(temp.dir, `retention-${files++}.db`) });
    stores.push(store);
    await store.insert(ages.map(([eventName, ageMs]) => storedEvent({ timeMs: NOW - ageMs, eventName })));
    return store;
  }

  it('deletes only events older than retentionDays, in chunks, reporting each chunk', async () => {
    const store = await storeWith([
      ['Old1', 40 * DAY_MS],
      ['Old2', 35 * DAY_MS],
      ['Old3', 31 * DAY_MS],
      ['Old4', 30 * DAY_MS + 1],
      ['Old5', 30 * DAY_MS + 1],
      ['Edge', 30 * DAY_MS],
      ['Recent', 29 * DAY_MS],
      ['Today', 0],
    ]);
    const reported: number[] = [];
    const sweeper = new RetentionSweeper(
      store,
      {
        retentionDays: 30,
        intervalMs: 60_000,
        chunkSize: 2,
        pauseMs: 0,
        onDeleted: (count) => reported.push(count),
      },
      silent,
    );
    assert.equal(await sweeper.sweep(NOW), 5);
    assert.deepEqual(reported, [2, 2, 1]);
    assert.deepEqual(
      store.deletes.map(({ maxEvents, deleted }) => [maxEvents, deleted]),
      [
        [2, 2],
        [2, 2],
        [2, 1],
      ],
    );
    assert.ok(store.deletes.every(({ cutoffMs }) => cutoffMs === NOW - 30 * DAY_MS));
    assert.deepEqual(await remainingNames(store), ['Today', 'Recent', 'Edge']);
  });

  it('asks once more when the last chunk was full, and reports nothing for an empty one', async () => {
    const store = await storeWith([
      ['A', 10 * DAY_MS],
      ['B', 9 * DAY_MS],
      ['C', 8 * DAY_MS],
      ['D', 7 * DAY_MS],
      ['Kept', DAY_MS],
    ]);
    const reported: number[] = [];
    const sweeper = new RetentionSweeper(
      store,
      {
        retentionDays: 2,
        intervalMs: 60_000,
        chunkSize: 2,
        pauseMs: 0,
        onDeleted: (count) => reported.push(count),
      },
      silent,
    );
    assert.equal(await sweeper.sweep(NOW), 4);
    assert.deepEqual(reported, [2, 2]);
    assert.deepEqual(
      store.deletes.map(({ deleted }) => deleted),
      [2, 2, 0],
    );
    assert.deepEqual(await remainingNames(store), ['Kept']);
  });

  it('deletes nothing when nothing has expired', async () => {
    const store = await storeWith([
      ['A', DAY_MS],
      ['B', 0],
    ]);
    const reported: number[] = [];
    const sweeper = new RetentionSweeper(
      store,
      {
        retentionDays: 7,
        intervalMs: 60_000,
        chunkSize: 100,
        pauseMs: 0,
        onDeleted: (count) => reported.push(count),
      },
      silent,
    );
    assert.equal(await sweeper.sweep(NOW), 0);
    assert.deepEqual(reported, []);
    assert.deepEqual(await remainingNames(store), ['B', 'A']);
  });

  it('measures age from the time it is given', async () => {
    const store = await storeWith([
      ['A', 3 * DAY_MS],
      ['B', DAY_MS],
    ]);
    const sweeper = new RetentionSweeper(
      store,
      { retentionDays: 1, intervalMs: 60_000, chunkSize: 10, pauseMs: 0 },
      silent,
    );
    assert.equal(await sweeper.sweep(NOW - 2 * DAY_MS), 0);
    assert.equal(await sweeper.sweep(NOW), 1);
    assert.deepEqual(await remainingNames(store), ['B']);
    assert.equal(await sweeper.sweep(NOW + 10 * DAY_MS), 1);
    assert.deepEqual(await remainingNames(store), []);
  });

  it('stops sweeping once stopped', async () => {
    const store = await storeWith([['Old', 10 * DAY_MS]]);
    const sweeper = new RetentionSweeper(
      store,
      { retentionDays: 1, intervalMs: 60_000, chunkSize: 10, pauseMs: 0 },
      silent,
    );
    await sweeper.stop();
    assert.equal(await sweeper.sweep(NOW), 0);
    assert.deepEqual(await remainingNames(store), ['Old']);
  });
});

/*
 * The SQLite engine: the shared EventStore contract (../support/event-store-contract.ts), then
 * what only the file-based engine does (per-event retention chunks, its file, its schema version,
 * its tables left intact by injection attempts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import {
  BASE,
  dataSet,
  eventStoreContract,
  filter,
  lookupAll,
  names,
} from '../support/event-store-contract.js';
import { storedEvent, tempDir } from './builders.js';

/** Reads the SQLite file directly, beside the store. */
function inspect<T>(path: string, query: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

const contractDir = tempDir();
after(() => {
  contractDir.remove();
});
eventStoreContract({
  name: 'SQLite',
  open: (label) => Promise.resolve(new SqliteEventStore({ path: join(contractDir.dir, `${label}.db`) })),
});

describe('SqliteEventStore', () => {
  const temp = tempDir();
  after(() => {
    temp.remove();
  });

  it('keeps its tables through injection attempts', async () => {
    const path = join(temp.dir, 'injection.db');
    const store = new SqliteEventStore({ path });
    try {
      await store.insert(dataSet());
      for (const attempt of ["' OR 1=1 --", '"); DROP TABLE events; --', "x'); DELETE FROM events; --"]) {
        assert.deepEqual(
          (await store.lookup({ filter: filter({ username: [attempt] }), limit: 50 })).records,
          [],
        );
        assert.deepEqual(
          (await store.lookup({ filter: filter({}, { text: attempt }), limit: 50 })).records,
          [],
        );
      }
    } finally {
      await store.close();
    }
    assert.deepEqual(
      inspect(path, (db) =>
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
          )
          .pluck()
          .all(),
      ),
      [
        'api_series',
        'event_resources',
        'events',
        // The free-text index (an FTS5 table and its shadow tables).
        'events_text',
        'events_text_config',
        'events_text_data',
        'events_text_docsize',
        'events_text_idx',
        'minute_counts',
        'store_meta',
      ],
    );
    assert.equal(
      inspect(path, (db) => db.prepare('SELECT COUNT(*) FROM events').pluck().get()),
      6,
    );
  });

  it('stores the resources of a duplicate once', async () => {
    const path = join(temp.dir, 'resources.db');
    const store = new SqliteEventStore({ path });
    const event = storedEvent({ timeMs: BASE + 12_000, resources: [{ type: 'User', name: 'once' }] });
    try {
      await store.insert([event]);
      await store.insert([event]);
    } finally {
      await store.close();
    }
    assert.equal(
      inspect(path, (db) =>
        db.prepare("SELECT COUNT(*) FROM event_resources WHERE resource_name = 'once'").pluck().get(),
      ),
      1,
    );
  });

  describe('deleteOlderThan', () => {
    const path = join(temp.dir, 'delete.db');
    let store: SqliteEventStore;
    before(async () => {
      store = new SqliteEventStore({ path });
      await store.insert(
        Array.from({ length: 7 }, (_, i) =>
          storedEvent({
            timeMs: BASE + i * 1000,
            eventName: `Call${i}`,
            resources: [
              { type: 'User', name: `u${i}` },
              { type: 'Group', name: `g${i}` },
            ],
          }),
        ),
      );
    });
    after(() => store.close());

    const resourceNames = () =>
      inspect(path, (db) =>
        db.prepare('SELECT resource_name FROM event_resources ORDER BY resource_name').pluck().all(),
      );

    it('deletes the oldest events first, at most maxEvents per call, with their resources', async () => {
      const cutoff = BASE + 5000; // Call0..Call4 are older; Call5 sits exactly on the cutoff and stays
      assert.equal(await store.deleteOlderThan(cutoff, 2), 2);
      assert.deepEqual((await lookupAll(store, filter(), 50)).flat(), [
        'Call6',
        'Call5',
        'Call4',
        'Call3',
        'Call2',
      ]);
      assert.deepEqual(resourceNames(), ['g2', 'g3', 'g4', 'g5', 'g6', 'u2', 'u3', 'u4', 'u5', 'u6']);
      assert.equal(await store.deleteOlderThan(cutoff, 2), 2);
      assert.equal(await store.deleteOlderThan(cutoff, 2), 1);
      assert.equal(await store.deleteOlderThan(cutoff, 2), 0);
      assert.deepEqual((await lookupAll(store, filter(), 50)).flat(), ['Call6', 'Call5']);
      assert.deepEqual(resourceNames(), ['g5', 'g6', 'u5', 'u6']);
      assert.deepEqual(await store.distinctValues('resourceType', filter(), 10), [
        { value: 'Group', count: 2 },
        { value: 'User', count: 2 },
      ]);
    });
  });

  describe('committedRecords across reopening', () => {
    it('keeps numbering past what retention deleted when the emptied file is reopened', async () => {
      const path = join(temp.dir, 'commit-order.db');
      const first = new SqliteEventStore({ path });
      await first.insert([storedEvent({ timeMs: BASE + 2000, eventName: 'Second' })]);
      const [only] = await first.committedRecords(0, 10);
      assert.equal(await first.deleteOlderThan(BASE + 10_000, 100), 1);
      await first.close();

      const reopened = new SqliteEventStore({ path });
      await reopened.insert([storedEvent({ timeMs: BASE + 40_000, eventName: 'AfterReopen' })]);
      const afterReopen = await reopened.committedRecords(only?.seq ?? 0, 10);
      assert.equal(afterReopen.length, 1, 'numbering continues across reopening an emptied store');
      await reopened.close();
    });
  });

  describe('the file', () => {
    const path = join(temp.dir, 'nested', 'dir', 'reopen.db');

    it('creates missing directories, keeps data and secrets across reopening', async () => {
      const first = new SqliteEventStore({ path });
      const events = dataSet();
      await first.insert(events);
      const secret = await first.secret('paging');
      assert.equal(secret.length, 32);
      assert.deepEqual(await first.secret('paging'), secret);
      const other = await first.secret('other');
      assert.notDeepEqual(other, secret);
      await first.ping();
      await first.close();
      await first.close(); // closing twice is harmless

      const second = new SqliteEventStore({ path });
      try {
        assert.deepEqual(await second.secret('paging'), secret);
        assert.deepEqual(await second.secret('other'), other);
        assert.equal((await second.lookup({ filter: filter(), limit: 50 })).records.length, 5);
        assert.deepEqual(await second.insert(events), { inserted: 0, duplicates: 6 });
        assert.deepEqual(
          names(await second.lookup({ filter: filter({ resourceName: ['admins'] }), limit: 50 })),
          ['DeleteUser'],
        );
      } finally {
        await second.close();
      }
      assert.equal(
        inspect(path, (db) => db.pragma('user_version', { simple: true })),
        SCHEMA_VERSION,
      );
    });

    it('refuses a file written by a newer schema', async () => {
      const newer = join(temp.dir, 'newer.db');
      await new SqliteEventStore({ path: newer }).close();
      const db = new Database(newer);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(() => new SqliteEventStore({ path: newer }), /written by a newer crumbtrail/);
    });

    it('works in memory', async () => {
      const store = new SqliteEventStore({ path: ':memory:' });
      try {
        assert.deepEqual(await store.insert(dataSet()), { inserted: 6, duplicates: 0 });
        assert.equal((await store.lookup({ filter: filter(), limit: 50 })).records.length, 5);
      } finally {
        await store.close();
      }
    });
  });
});

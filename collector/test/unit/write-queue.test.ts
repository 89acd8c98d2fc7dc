import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import type { StoredEvent } from '../../src/events/cloudtrail-record.js';
import type {
  ApiSeries,
  AttributionCounts,
  AttributionQuery,
  MinuteCount,
  MinuteRange,
  CallCount,
  CommittedRecord,
  EventFilter,
  EventStore,
  InsertOutcome,
  LookupField,
  LookupPage,
  LookupRequest,
  ValueCount,
} from '../../src/store/event-store.js';
import { toEventRow } from '../../src/store/event-row.js';
import { packRows, unpackRows } from '../../src/store/packed-rows.js';
import type { PackedRows } from '../../src/store/packed-rows.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { StoreOverloadedError, StoreUnavailableError, WriteQueue } from '../../src/store/write-queue.js';
import { gate, nextTurn, storedEvent, tempDir } from './builders.js';

const BASE = Date.UTC(2024, 0, 1);

/**
 * A real SqliteEventStore behind a delegating store that records each insert, can hold inserts
 * until the test opens a gate, and can be told to fail the next inserts.
 */
class InstrumentedStore implements EventStore {
  /** Event names of each insert call, in call order. */
  readonly inserts: string[][] = [];
  /** While set, each insert waits for this promise before committing. */
  hold: Promise<void> | undefined;
  /** How many of the next inserts fail. */
  failNext = 0;
  /** Inserts whose event names match fail (a batch the store cannot take). */
  failWhen: ((names: string[]) => boolean) | undefined;
  /** Resolves the next time insert is called. */
  private insertStarted: (() => void) | undefined;

  constructor(readonly inner: SqliteEventStore) {}

  /** Resolves once insert() has been called (again). */
  nextInsert(): Promise<void> {
    return new Promise((resolve) => {
      this.insertStarted = resolve;
    });
  }

  insert(events: readonly StoredEvent[]): Promise<InsertOutcome> {
    return this.insertPacked([packRows(events.map(toEventRow))]);
  }

  async insertPacked(batches: readonly PackedRows[]): Promise<InsertOutcome> {
    const names = batches.flatMap(unpackRows).map((row) => row.eventName);
    this.inserts.push(names);
    this.insertStarted?.();
    if (this.hold !== undefined) await this.hold;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('disk I/O error');
    }
    if (this.failWhen?.(names) === true) {
      throw new Error('cannot store this batch');
    }
    return this.inner.insertPacked(batches);
  }

  lookup(request: LookupRequest): Promise<LookupPage> {
    return this.inner.lookup(request);
  }
  getEvent(eventId: string): Promise<string | undefined> {
    return this.inner.getEvent(eventId);
  }
  committedRecords(afterSeq: number, limit: number, throughSeq?: number): Promise<CommittedRecord[]> {
    return this.inner.committedRecords(afterSeq, limit, throughSeq);
  }
  distinctValues(field: LookupField, filter: EventFilter, limit: number): Promise<ValueCount[]> {
    return this.inner.distinctValues(field, filter, limit);
  }
  callCounts(
    filter: EventFilter,
    stepMs: number,
    grouping?: { groupBy: LookupField; maxGroups: number },
  ): Promise<CallCount[]> {
    return this.inner.callCounts(filter, stepMs, grouping);
  }
  deleteOlderThan(cutoffMs: number, maxEvents: number): Promise<number> {
    return this.inner.deleteOlderThan(cutoffMs, maxEvents);
  }
  secret(name: string): Promise<Buffer> {
    return this.inner.secret(name);
  }
  apiSeries(): Promise<ApiSeries[]> {
    return this.inner.apiSeries();
  }
  minuteCounts(ranges: readonly MinuteRange[]): Promise<MinuteCount[]> {
    return this.inner.minuteCounts(ranges);
  }
  attributionCounts(query: AttributionQuery): Promise<AttributionCounts> {
    return this.inner.attributionCounts(query);
  }
  readState(name: string): Promise<string | undefined> {
    return this.inner.readState(name);
  }
  writeState(name: string, value: string): Promise<void> {
    return this.inner.writeState(name, value);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

let eventNumber = 0;

/** A batch of `size` events named `${prefix}0`, `${prefix}1`, …, packed as ingest threads pack them. */
function batch(prefix: string, size: number): PackedRows {
  return packRows(
    Array.from({ length: size }, (_, i) =>
      toEventRow(storedEvent({ timeMs: BASE + eventNumber++, eventName: `${prefix}${i}` })),
    ),
  );
}

/** Tracks whether a promise has settled, and how. */
function track(promise: Promise<void>): {
  state: () => 'pending' | 'resolved' | 'rejected';
  error: () => unknown;
} {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let error: unknown;
  promise.then(
    () => {
      state = 'resolved';
    },
    (reason: unknown) => {
      state = 'rejected';
      error = reason;
    },
  );
  return { state: () => state, error: () => error };
}

async function storedNames(store: EventStore): Promise<string[]> {
  const page = await store.lookup({ filter: { fields: {} }, limit: 1000 });
  return page.records.map((record) => (JSON.parse(record) as { eventName: string }).eventName).sort();
}

describe('WriteQueue', () => {
  const temp = tempDir();
  let files = 0;
  const stores: InstrumentedStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    temp.remove();
  });

  function newStore(): InstrumentedStore {
    const store = new InstrumentedStore(
      new SqliteEventStore({ path: join(temp.dir, `queue-${files++}.db`) }),
    );
    stores.push(store);
    return store;
  }

  describe('group commit', () => {
    it('commits batches enqueued together in one store transaction', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1000 });
      await Promise.all([
        queue.enqueue(batch('a', 2)),
        queue.enqueue(batch('b', 3)),
        queue.enqueue(batch('c', 1)),
      ]);
      assert.deepEqual(store.inserts, [['a0', 'a1', 'b0', 'b1', 'b2', 'c0']]);
      assert.deepEqual(await storedNames(store), ['a0', 'a1', 'b0', 'b1', 'b2', 'c0']);
    });

    it('gathers the batches that arrive during a slow commit into the next one', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, {
        maxPendingEvents: 1000,
        maxEventsPerCommit: 1000,
        maxCommitsInFlight: 1,
      });
      const slow = gate();
      store.hold = slow.promise;
      const started = store.nextInsert();
      const first = track(queue.enqueue(batch('first', 1)));
      await started;
      const later = [
        queue.enqueue(batch('x', 1)),
        queue.enqueue(batch('y', 2)),
        queue.enqueue(batch('z', 1)),
      ].map(track);
      await nextTurn();
      await nextTurn();
      assert.equal(store.inserts.length, 1, 'nothing else is committed while the first commit runs');
      assert.equal(first.state(), 'pending', 'not acknowledged before its commit completes');
      assert.ok(later.every((batchState) => batchState.state() === 'pending'));
      assert.equal(queue.depth, 5);

      store.hold = undefined;
      slow.open();
      await queue.drain();
      // Two commits for four enqueues.
      assert.deepEqual(store.inserts, [['first0'], ['x0', 'y0', 'y1', 'z0']]);
      assert.equal(first.state(), 'resolved');
      assert.ok(later.every((batchState) => batchState.state() === 'resolved'));
      assert.equal(queue.depth, 0);
      assert.deepEqual(await storedNames(store), ['first0', 'x0', 'y0', 'y1', 'z0']);
    });

    it('pipelines: hands the next group over while a commit runs, but never acknowledges early', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1000 });
      const slow = gate();
      store.hold = slow.promise;
      const started = store.nextInsert();
      const first = track(queue.enqueue(batch('first', 1)));
      await started;
      const secondStarted = store.nextInsert();
      const second = track(queue.enqueue(batch('second', 2)));
      await secondStarted;
      const third = track(queue.enqueue(batch('third', 1)));
      await nextTurn();
      await nextTurn();
      // Two commits in flight (the default), the third group waits for a free slot.
      assert.equal(store.inserts.length, 2);
      assert.deepEqual(
        [first.state(), second.state(), third.state()],
        ['pending', 'pending', 'pending'],
        'nothing is acknowledged before its commit completes',
      );
      store.hold = undefined;
      slow.open();
      await queue.drain();
      assert.deepEqual(store.inserts, [['first0'], ['second0', 'second1'], ['third0']]);
      assert.deepEqual([first.state(), second.state(), third.state()], ['resolved', 'resolved', 'resolved']);
    });

    it('keeps each commit within maxEventsPerCommit, but never splits a batch', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 3 });
      await Promise.all([
        queue.enqueue(batch('a', 2)),
        queue.enqueue(batch('b', 1)),
        queue.enqueue(batch('c', 2)),
        queue.enqueue(batch('d', 5)),
        queue.enqueue(batch('e', 1)),
      ]);
      assert.deepEqual(store.inserts, [
        ['a0', 'a1', 'b0'],
        ['c0', 'c1'],
        ['d0', 'd1', 'd2', 'd3', 'd4'],
        ['e0'],
      ]);
    });

    it('reports each commit to onCommit, duplicates included', async () => {
      const store = newStore();
      const commits: [InsertOutcome, number][] = [];
      const queue = new WriteQueue(store, {
        maxPendingEvents: 1000,
        maxEventsPerCommit: 1000,
        onCommit: (outcome, events, seconds) => {
          assert.ok(seconds >= 0);
          commits.push([outcome, events]);
        },
      });
      const events = batch('d', 3);
      await queue.enqueue(events);
      await queue.enqueue(packRows([...unpackRows(events), ...unpackRows(batch('n', 1))]));
      assert.deepEqual(commits, [
        [{ inserted: 3, duplicates: 0 }, 3],
        [{ inserted: 1, duplicates: 3 }, 4],
      ]);
    });

    it('resolves an empty enqueue at once without touching the store', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1, maxEventsPerCommit: 1 });
      await queue.enqueue(packRows([]));
      await queue.drain();
      assert.deepEqual(store.inserts, []);
    });
  });

  describe('backpressure', () => {
    it('refuses a batch that would exceed maxPendingEvents, and accepts again once drained', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 5, maxEventsPerCommit: 100 });
      const slow = gate();
      store.hold = slow.promise;
      const held = queue.enqueue(batch('held', 3));
      const fits = queue.enqueue(batch('fits', 2)); // 5 pending: at the limit, not over it
      assert.equal(queue.depth, 5);
      await assert.rejects(queue.enqueue(batch('over', 1)), (error: unknown) => {
        assert.ok(error instanceof StoreOverloadedError);
        assert.equal(error.name, 'StoreOverloadedError');
        assert.match(error.message, /5 events are waiting/);
        return true;
      });
      assert.equal(queue.depth, 5, 'a refused batch is not queued');

      store.hold = undefined;
      slow.open();
      await Promise.all([held, fits]);
      await queue.drain();
      await queue.enqueue(batch('after', 4));
      const names = await storedNames(store);
      assert.ok(!names.some((name) => name.startsWith('over')), 'the refused batch was not stored');
      assert.equal(names.length, 9);
    });

    it('accepts a single batch larger than the limit into an empty queue', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 5, maxEventsPerCommit: 3 });
      const slow = gate();
      store.hold = slow.promise;
      const oversized = track(queue.enqueue(batch('big', 8)));
      assert.equal(queue.depth, 8);
      await assert.rejects(queue.enqueue(batch('more', 1)), StoreOverloadedError);
      store.hold = undefined;
      slow.open();
      await queue.drain();
      assert.equal(oversized.state(), 'resolved');
      assert.deepEqual(store.inserts, [['big0', 'big1', 'big2', 'big3', 'big4', 'big5', 'big6', 'big7']]);
    });
  });

  describe('store failures', () => {
    it('rejects every batch when the store fails every commit, then works again', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1000 });
      // The group commit, then each of the three batches alone.
      store.failNext = 4;
      const results = await Promise.allSettled([
        queue.enqueue(batch('f', 1)),
        queue.enqueue(batch('g', 2)),
        queue.enqueue(batch('h', 1)),
      ]);
      assert.deepEqual(store.inserts, [['f0', 'g0', 'g1', 'h0'], ['f0'], ['g0', 'g1'], ['h0']]);
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        const reason: unknown = result.reason;
        assert.ok(reason instanceof StoreUnavailableError);
        assert.equal(reason.name, 'StoreUnavailableError');
        assert.match(reason.message, /the store could not commit: disk I\/O error/);
      }
      assert.equal(queue.depth, 0, 'failed events no longer count as pending');
      assert.equal(queue.lastCommitFailure, 'disk I/O error');
      assert.deepEqual(await storedNames(store), []);

      await queue.enqueue(batch('ok', 2));
      assert.deepEqual(await storedNames(store), ['ok0', 'ok1']);
      assert.equal(queue.lastCommitFailure, undefined);
    });

    it('tells readiness whether writes commit again, by retrying the failed commit', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1000 });
      assert.equal(await queue.stillFailing(), undefined, 'nothing failed');
      store.failNext = 2;
      await assert.rejects(queue.enqueue(batch('lost', 2)), StoreUnavailableError);
      assert.equal(await queue.stillFailing(), 'disk I/O error', 'the retry fails too');
      assert.equal(await queue.stillFailing(), undefined, 'the store takes writes again');
      assert.deepEqual(await storedNames(store), ['lost0', 'lost1'], 'stored once, as a retry would');
      assert.equal(queue.lastCommitFailure, undefined);
    });

    it('commits the batches of a failed group one by one, so one bad batch fails alone', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1000 });
      store.failWhen = (names) => names.includes('poison0');
      const [good, poison, other] = await Promise.allSettled([
        queue.enqueue(batch('good', 2)),
        queue.enqueue(batch('poison', 1)),
        queue.enqueue(batch('other', 1)),
      ]);
      assert.equal(good.status, 'fulfilled');
      assert.equal(poison.status, 'rejected');
      assert.equal(other.status, 'fulfilled');
      assert.deepEqual((await storedNames(store)).sort(), ['good0', 'good1', 'other0']);
    });

    it('fails only the commit group that failed', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1 });
      store.failNext = 1;
      const [first, second] = await Promise.allSettled([
        queue.enqueue(batch('p', 1)),
        queue.enqueue(batch('q', 1)),
      ]);
      assert.equal(first.status, 'rejected');
      assert.equal(second.status, 'fulfilled');
      assert.deepEqual(await storedNames(store), ['q0']);
    });
  });

  describe('drain', () => {
    it('resolves once everything enqueued so far is committed', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 2 });
      const pending = [
        queue.enqueue(batch('r', 2)),
        queue.enqueue(batch('s', 2)),
        queue.enqueue(batch('t', 1)),
      ].map(track);
      await queue.drain();
      assert.equal(queue.depth, 0);
      assert.ok(pending.every((state) => state.state() === 'resolved'));
      assert.deepEqual(await storedNames(store), ['r0', 'r1', 's0', 's1', 't0']);
    });

    it('resolves after a failed commit too', async () => {
      const store = newStore();
      const queue = new WriteQueue(store, { maxPendingEvents: 1000, maxEventsPerCommit: 1000 });
      store.failNext = 1;
      const failed = track(queue.enqueue(batch('u', 1)));
      await queue.drain();
      assert.equal(failed.state(), 'rejected');
      assert.ok(failed.error() instanceof StoreUnavailableError);
    });

    it('resolves at once for an idle queue', async () => {
      const store = newStore();
      await new WriteQueue(store, { maxPendingEvents: 1, maxEventsPerCommit: 1 }).drain();
      assert.deepEqual(store.inserts, []);
    });
  });
});

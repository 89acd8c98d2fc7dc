/*
 * Free text on the SQLite engine: what `q=` matches (ASCII case-insensitive substring of the
 * record's JSON text, the term written as JSON writes it, every character literal), pinned by a
 * model of that rule. The same answers must come back whether the trigram index has caught up
 * with the events, lags behind them, or has not started, and after retention deleted some.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';

import Database from 'better-sqlite3';

import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { TEXT_INDEX_TABLE } from '../../src/store/sqlite/text-index.js';
import { BASE, filter, names } from '../support/event-store-contract.js';
import { storedEvent, tempDir } from './builders.js';

/** The matching rule, written independently of the SQL: LIKE folds ASCII letters only. */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (char) => char.toLowerCase());
}
function modelMatches(record: string, term: string): boolean {
  return asciiLower(record).includes(asciiLower(JSON.stringify(term).slice(1, -1)));
}

const NOTES: readonly [string, string][] = [
  ['Quoted', 'say "hi" (a OR b) NEAR x* -y ^z {col}: +w'],
  ['Percent', '100%_done'],
  ['Unicode', 'Ünïcode ÉCOLE straße 😀x'],
  ['Plain', 'aws-cli/2.0 req-4242'],
  ['Escapes', 'C:\\tmp\\x a\tb'],
  ['Injection', "x'); DELETE FROM events; --"],
];

/** Terms: FTS5 query syntax, LIKE wildcards, SQL, quotes, short terms, non-ASCII case. */
const TERMS: readonly string[] = [
  '"hi"',
  'say "hi"',
  '"',
  '""',
  '(a OR b)',
  'a OR b',
  'OR',
  'NEAR',
  'NEAR x',
  'NEAR(',
  'x*',
  '*',
  '-y',
  ' -y',
  '^z',
  '{col}:',
  '+w',
  "'",
  "' OR 1=1 --",
  '"); DROP TABLE events; --',
  'DELETE FROM',
  '%',
  '_',
  '100%_done',
  '100_%done',
  'Create%',
  'ÉCOLE',
  'école',
  'ÜNÏCODE',
  'STRASSE',
  'straße',
  '😀x',
  '😀',
  'AWS-CLI',
  'req-4242',
  'Req-4243',
  'a',
  'ab',
  'abc',
  'no-such-text',
  '\\',
  'C:\\tmp',
  'a\tb',
  '\u0000',
  'Quoted',
  'eventName',
  '{"',
  '":"',
];

const EVENTS = NOTES.map(([eventName, note], i) =>
  storedEvent({ timeMs: BASE + (i + 1) * 1000, eventName, requestParameters: JSON.stringify({ note }) }),
);
/**
 * Newer than every NOTES event and more than the lookup's recent window (4096 events): a term
 * found only in NOTES events must come from the index, or from the not yet indexed tail.
 */
const FILLER = Array.from({ length: 4200 }, (_, i) =>
  storedEvent({ timeMs: BASE + 3_600_000 + i * 1000, eventName: 'Filler', userName: `filler-${i % 7}` }),
);
/** A page size that keeps paging cheap when a term matches thousands of fillers. */
function pageSize(expected: number): number {
  return expected > 50 ? 1000 : 1;
}

async function allRecords(store: SqliteEventStore): Promise<string[]> {
  const records: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.lookup({ filter: filter(), limit: 1000, cursor });
    records.push(...page.records);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return records;
}

async function expectModel(store: SqliteEventStore, state: string): Promise<void> {
  const records = await allRecords(store);
  for (const term of TERMS) {
    const expected = records.filter((record) => modelMatches(record, term));
    const page = await store.lookup({ filter: filter({}, { text: term }), limit: 50 });
    assert.deepEqual(page.records, expected.slice(0, 50), `${state}: ${JSON.stringify(term)}`);
    // Following cursors: the same events in the same order.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const next = await store.lookup({
        filter: filter({}, { text: term }),
        limit: pageSize(expected.length),
        cursor,
      });
      paged.push(...next.records);
      cursor = next.cursor;
    } while (cursor !== undefined);
    assert.deepEqual(paged, expected, `${state}, paged: ${JSON.stringify(term)}`);
    const counts = await store.callCounts(filter({}, { text: term }), 3_600_000);
    assert.equal(
      counts.reduce((sum, bucket) => sum + bucket.count, 0),
      expected.length,
      `${state}, counted: ${JSON.stringify(term)}`,
    );
  }
}

/** Rows in the trigram index, read from the file itself. */
function indexedRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT COUNT(*) FROM ${TEXT_INDEX_TABLE}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('SQLite free text', () => {
  const temp = tempDir();
  after(() => {
    temp.remove();
  });

  describe('matching rule', () => {
    let store: SqliteEventStore;
    before(async () => {
      store = new SqliteEventStore({ path: join(temp.dir, 'rule.db') });
      await store.insert(EVENTS);
    });
    after(() => store.close());

    it('matches what the model matches, for every term', async () => {
      await expectModel(store, 'stored');
    });

    it('matches FTS5 syntax, wildcards and quotes literally', async () => {
      const text = async (q: string) =>
        names(await store.lookup({ filter: filter({}, { text: q }), limit: 50 }));
      assert.deepEqual(await text('(a OR b)'), ['Quoted']);
      assert.deepEqual(await text('NEAR x*'), ['Quoted']);
      assert.deepEqual(await text('a OR c'), []);
      assert.deepEqual(await text('x* -y'), ['Quoted']);
      assert.deepEqual(await text('say "hi"'), ['Quoted']);
      assert.deepEqual(await text('100%_done'), ['Percent']);
      assert.deepEqual(await text('100_%done'), []);
      assert.deepEqual(await text('école'), []);
      assert.deepEqual(await text('ÉCOLE'), ['Unicode']);
      assert.deepEqual(await text('aws-CLI/2'), ['Plain']);
      assert.deepEqual(await text('DELETE FROM events'), ['Injection']);
      assert.equal((await allRecords(store)).length, NOTES.length);
    });
  });

  describe('the same answers whatever the index holds', () => {
    const path = join(temp.dir, 'states.db');
    let store: SqliteEventStore;
    before(async () => {
      // Manual: nothing indexes until the test says so.
      store = new SqliteEventStore({ path, textIndexing: 'manual' });
      await store.insert(EVENTS);
      await store.insert(FILLER);
    });
    after(() => store.close());

    it('before anything is indexed (every event in the unindexed tail)', async () => {
      assert.equal(indexedRows(path), 0);
      assert.equal(await store.textIndexBacklog(), EVENTS.length + FILLER.length);
      await expectModel(store, 'unindexed');
    });

    it('with part of the events indexed', async () => {
      assert.equal(await store.indexText(3), 3);
      assert.equal(await store.textIndexBacklog(), EVENTS.length + FILLER.length - 3);
      await expectModel(store, 'partly indexed');
    });

    it('with every event indexed, and new events after it', async () => {
      while ((await store.indexText(1000)) > 0);
      assert.equal(indexedRows(path), EVENTS.length + FILLER.length);
      assert.equal(await store.textIndexBacklog(), 0);
      await expectModel(store, 'indexed');
      await store.insert([
        storedEvent({
          timeMs: BASE + 500,
          eventName: 'Late',
          requestParameters: JSON.stringify({ note: 'req-4242 late' }),
        }),
      ]);
      assert.equal(await store.textIndexBacklog(), 1, 'the late event waits for the writer');
      await expectModel(store, 'indexed, one late event');
    });

    it('after retention deleted indexed and unindexed events', async () => {
      // The first three NOTES events and the late one go; the index loses their rows.
      const before = indexedRows(path);
      assert.equal(await store.deleteOlderThan(BASE + 3500, 100), 4);
      assert.equal(indexedRows(path), before - 3);
      await expectModel(store, 'after retention');
      while ((await store.indexText(1000)) > 0);
      await expectModel(store, 'after retention, indexed');
    });
  });

  it('builds the index in the background for events already stored (a file from before the index)', async () => {
    const path = join(temp.dir, 'background.db');
    const manual = new SqliteEventStore({ path, textIndexing: 'manual' });
    await manual.insert([...EVENTS, ...FILLER]);
    await manual.close();
    assert.equal(indexedRows(path), 0);
    const store = new SqliteEventStore({ path });
    try {
      // The writer indexes once idle; no clock is involved in what the test asserts.
      while (indexedRows(path) < EVENTS.length + FILLER.length) await setTimeout(50);
      await expectModel(store, 'indexed in the background');
    } finally {
      await store.close();
    }
  });
});

/*
 * What only the ClickHouse engine does, run on chdb (26.7) and on a real 18.16 server: literals
 * that survive any text (fuzzed, sent to the engine and read back), a filter on every field with
 * hostile values, the versioned schema, retention by month partitions, two collectors on one
 * database, and records served byte for byte.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import type { ClickHouseClient } from '@clickhouse/client';
import fc from 'fast-check';

import type { CloudTrailRecord, StoredEvent } from '../../src/events/cloudtrail-record.js';
import type { LookupField } from '../../src/store/event-store.js';
import type {
  ClickHouseEventStore,
  ClickHouseStoreOptions,
} from '../../src/store/clickhouse/clickhouse-event-store.js';
import { filterToClickHouse } from '../../src/store/clickhouse/clickhouse-filter-sql.js';
import {
  CLICKHOUSE_SCHEMA_VERSION,
  supportsTextIndex,
} from '../../src/store/clickhouse/clickhouse-schema.js';
import { sqlString, wellFormed } from '../../src/store/clickhouse/sql-literal.js';
import { storedEvent } from '../unit/builders.js';
import { BASE, dataSet, filter, names } from './event-store-contract.js';

export interface ClickHouseEngine {
  name: string;
  open(database: string, extra?: Partial<ClickHouseStoreOptions>): Promise<ClickHouseEventStore>;
  /** A raw client to the same engine (to read tables beside the store); the test file closes it. */
  client(): ClickHouseClient;
}

/** Text that has broken escaping somewhere: quotes, backslashes, NUL, newlines, lone surrogates… */
export const HOSTILE_VALUES = [
  "'",
  "\\'",
  "\\\\'",
  "' OR 1=1 --",
  "x') OR ('1'='1",
  '\\',
  'a\\',
  '\u0000',
  'nul\u0000inside',
  'line\nbreak\r\n',
  '\t\b\f\v\u001b',
  '\\x27',
  '\\0',
  '{name:String}',
  '?',
  '$1',
  '"',
  '`',
  '\uD800',
  'lone \uDC00 low',
  '\uFFFD',
  'é😀漢',
  '\u2028\u2029',
  '%_',
  ';SELECT 1',
];

async function selectBack(client: ClickHouseClient, values: readonly string[]): Promise<string[]> {
  const result = await client.query({
    query: `SELECT [${values.map(sqlString).join(', ')}] AS v`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ v: string[] }>();
  return row?.v ?? [];
}

/** An event whose every lookup column holds `value` (set on the record after mapping, as tests may). */
function eventWith(value: string, timeMs: number): StoredEvent<CloudTrailRecord> {
  const event = storedEvent({ timeMs, eventName: 'Hostile' });
  event.record.eventName = value;
  event.record.eventSource = value;
  event.record.userIdentity.accessKeyId = value;
  event.record.errorCode = value;
  event.record.sourceIPAddress = value;
  event.record.resources = [{ type: value, name: value }];
  return { ...event, username: value };
}

const FIELDS_HOLDING_VALUE: LookupField[] = [
  'eventName',
  'eventSource',
  'username',
  'accessKeyId',
  'errorCode',
  'sourceIPAddress',
  'resourceType',
  'resourceName',
];

export function clickHouseEngineTests(engine: ClickHouseEngine): void {
  describe(`ClickHouse engine: ${engine.name}`, { timeout: 180_000 }, () => {
    it('reads back every literal as the text it was made from (hostile values, then fuzzed)', async () => {
      const client = engine.client();
      {
        assert.deepEqual(await selectBack(client, HOSTILE_VALUES), HOSTILE_VALUES.map(wellFormed));
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 30 }),
            async (values) => {
              assert.deepEqual(await selectBack(client, values), values.map(wellFormed));
            },
          ),
          { numRuns: 60 },
        );
      }
    });

    it('finds a hostile value by every filter, and only that event', async () => {
      const store = await engine.open('hostile');
      const events = HOSTILE_VALUES.map((value, i) => eventWith(value, BASE + i * 1000));
      assert.deepEqual(await store.insert(events), { inserted: events.length, duplicates: 0 });
      for (const [i, value] of HOSTILE_VALUES.entries()) {
        const id = events[i]?.record.eventID ?? '';
        // Lone surrogates are stored as U+FFFD (well-formed UTF-8): such values match each other.
        const expected = events
          .filter((_, j) => wellFormed(HOSTILE_VALUES[j] ?? '') === wellFormed(value))
          .map((event) => event.record.eventID)
          .reverse();
        for (const field of FIELDS_HOLDING_VALUE) {
          const page = await store.lookup({ filter: filter({ [field]: [value] }), limit: 50 });
          assert.deepEqual(
            page.records.map((text) => (JSON.parse(text) as CloudTrailRecord).eventID),
            expected,
            `${field} = ${JSON.stringify(value)}`,
          );
        }
        const byText = await store.lookup({ filter: filter({}, { text: value }), limit: 50 });
        assert.ok(
          byText.records.some((text) => (JSON.parse(text) as CloudTrailRecord).eventID === id),
          `text ${JSON.stringify(value)}`,
        );
        assert.equal(await store.getEvent(value), undefined);
      }
      assert.equal((await store.lookup({ filter: filter(), limit: 100 })).records.length, events.length);
    });

    it('serves the record byte for byte', async () => {
      const store = await engine.open('bytes');
      const event = storedEvent({
        timeMs: BASE + 1000,
        eventName: 'Bytes',
        requestParameters: '{"s":"é😀\\u0000\\"\\\\/"}',
      });
      const json = JSON.stringify(event.record);
      await store.insert([{ ...event, json }]);
      assert.equal(await store.getEvent(event.record.eventID), json);
      assert.deepEqual((await store.lookup({ filter: filter(), limit: 5 })).records, [json]);
    });

    it('creates its schema once, finds it current on reopening, and refuses a newer one', async () => {
      const first = await engine.open('schema');
      await first.insert(dataSet());
      const again = await engine.open('schema');
      assert.equal((await again.lookup({ filter: filter(), limit: 50 })).records.length, 5);
      const client = engine.client();
      {
        const versions = await (
          await client.query({
            query: 'SELECT version FROM schema.schema_migrations ORDER BY version',
            format: 'JSONEachRow',
          })
        ).json<{ version: number | string }>();
        assert.deepEqual(
          versions.map((row) => Number(row.version)),
          Array.from({ length: CLICKHOUSE_SCHEMA_VERSION }, (_, i) => i + 1),
        );
        await client.insert({
          table: 'schema.schema_migrations',
          values: [{ version: CLICKHOUSE_SCHEMA_VERSION + 1, applied_ms: 0 }],
          format: 'JSONEachRow',
        });
      }
      await assert.rejects(engine.open('schema'), /written by a newer crumbtrail/);
    });

    it('drops whole months once all of a month is past the cutoff, counts with them', async () => {
      const store = await engine.open('retention');
      const at = (month: number, day: number) => Date.UTC(2024, month, day, 12);
      await store.insert([
        storedEvent({ timeMs: at(0, 10), eventName: 'January' }),
        storedEvent({ timeMs: at(1, 10), eventName: 'February' }),
        storedEvent({ timeMs: at(2, 5), eventName: 'EarlyMarch' }),
        storedEvent({ timeMs: at(2, 25), eventName: 'LateMarch' }),
      ]);
      const januaryMinute = Math.floor(at(0, 10) / 60_000);
      assert.equal((await store.minuteCounts([{ from: januaryMinute, to: januaryMinute }])).length, 1);
      // Cutoff mid-March: January and February go; March stays whole until April's cutoff passes it.
      assert.equal(await store.deleteOlderThan(at(2, 15), 1), 2);
      assert.deepEqual(names(await store.lookup({ filter: filter(), limit: 50 })), [
        'LateMarch',
        'EarlyMarch',
      ]);
      assert.deepEqual(await store.minuteCounts([{ from: januaryMinute, to: januaryMinute }]), []);
      assert.equal(await store.deleteOlderThan(at(2, 15), 1), 0);
      assert.equal(await store.deleteOlderThan(Date.UTC(2024, 3, 1), 1), 2);
      assert.deepEqual((await store.lookup({ filter: filter(), limit: 50 })).records, []);
    });

    it('agrees on one secret among collectors that create it at the same moment', async () => {
      const stores = [await engine.open('secret_race')];
      for (let i = 1; i < 4; i++) stores.push(await engine.open('secret_race'));
      // None exists yet: all four read "none", insert a candidate and read back at once.
      const secrets = await Promise.all(stores.map((store) => store.secret('paging-token-key')));
      assert.equal(new Set(secrets.map((secret) => secret.toString('hex'))).size, 1, 'one secret');
      assert.deepEqual(await stores[0]?.secret('paging-token-key'), secrets[0], 'and it stays');
    });

    it('leases a job to one collector at a time, taken over once its holder stops renewing', async () => {
      const store = await engine.open('lease');
      let now = Date.UTC(2026, 0, 1);
      const options = { durationMs: 60_000, settleMs: 0, now: () => now, sleep: () => Promise.resolve() };
      const a = store.lease('insights', 'collector-a', options);
      const b = store.lease('insights', 'collector-b', options);
      assert.deepEqual(await a.tryAcquire(), { term: 1, validUntilMs: now + 60_000 });
      now += 1000;
      assert.equal(await b.tryAcquire(), undefined, 'held by a');
      now += 30_000;
      assert.deepEqual(await a.tryAcquire(), { term: 1, validUntilMs: now + 60_000 }, 'a renews');
      now += 59_000;
      assert.equal(await b.tryAcquire(), undefined, 'a renewed 59 s ago: still held');
      now += 2000;
      assert.deepEqual(await b.tryAcquire(), { term: 2, validUntilMs: now + 60_000 }, 'lapsed: b takes over');
      now += 1000;
      assert.equal(await a.tryAcquire(), undefined, 'a, back from a pause, is not the holder any more');
      assert.deepEqual(await b.tryAcquire(), { term: 2, validUntilMs: now + 60_000 });
    });

    it('gives a lease claimed by two collectors at once to the earlier claim only', async () => {
      const store = await engine.open('lease_race');
      let arrived = 0;
      let release: () => void = () => undefined;
      const bothClaimed = new Promise<void>((resolveBarrier) => (release = resolveBarrier));
      // Both read the lapsed lease and claim before either reads the claims back.
      const sleep = (): Promise<void> => {
        arrived++;
        if (arrived === 2) release();
        return bothClaimed;
      };
      const start = Date.UTC(2026, 0, 1);
      const a = store.lease('insights', 'collector-z', {
        durationMs: 60_000,
        settleMs: 1,
        now: () => start,
        sleep,
      });
      const b = store.lease('insights', 'collector-a', {
        durationMs: 60_000,
        settleMs: 1,
        now: () => start + 5,
        sleep,
      });
      const [held, lost] = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
      assert.deepEqual(held, { term: 1, validUntilMs: start + 60_000 });
      assert.equal(lost, undefined);
    });

    it('answers free text and rare values through skip indexes where the server has them, and scans where not', async () => {
      const store = await engine.open('text_index');
      const client = engine.client();
      const [row] = await (
        await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      ).json<{ v: string }>();
      const version = row?.v ?? '';
      const created = await (
        await client.query({ query: 'SHOW CREATE TABLE text_index.events', format: 'TabSeparatedRaw' })
      ).text();
      await store.insert([
        storedEvent({
          timeMs: BASE + 1000,
          eventName: 'Needle',
          requestParameters: '{"note":"Haystack-4242"}',
        }),
        storedEvent({ timeMs: BASE + 2000, eventName: 'Hay', requestParameters: '{"note":"hay"}' }),
      ]);
      assert.deepEqual(
        names(await store.lookup({ filter: filter({}, { text: 'HAYSTACK-42' }), limit: 10 })),
        ['Needle'],
      );
      if (!supportsTextIndex(version)) {
        assert.doesNotMatch(created, /INDEX/, `${version}: no skip indexes`);
        return;
      }
      assert.match(created, /INDEX record_4grams lowerUTF8\(record\) TYPE text\(tokenizer = ngrams\(4\)\)/);
      assert.match(created, /INDEX lookup_resource_names resource_names TYPE bloom_filter GRANULARITY 1/);
      // The conditions the store sends are ones the indexes answer: for a value no event holds,
      // the index named leaves no granule to read (a scan would read them all).
      const granulesLeft = async (where: string, index: string): Promise<string | undefined> => {
        const plan = await (
          await client.query({
            query: `EXPLAIN indexes = 1 SELECT event_id FROM text_index.events WHERE ${where}`,
            format: 'TabSeparatedRaw',
          })
        ).text();
        const section = plan.slice(plan.indexOf(`Name: ${index}`));
        return plan.includes(`Name: ${index}`) ? /Granules: (\d+)\//.exec(section)?.[1] : undefined;
      };
      const absent = { text: 'ZQ-NOWHERE-4242' };
      assert.equal(
        await granulesLeft(filterToClickHouse(filter({}, absent), 'indexed'), 'record_4grams'),
        '0',
      );
      assert.equal(
        await granulesLeft(
          filterToClickHouse(filter({}, { text: 'HAYSTACK-42' }), 'indexed'),
          'record_4grams',
        ),
        '1',
      );
      for (const [fields, index] of [
        [{ resourceName: ['bucket-nowhere'] }, 'lookup_resource_names'],
        [{ accessKeyId: ['AKIANOWHERE'] }, 'lookup_access_key_id'],
      ] as const) {
        assert.equal(await granulesLeft(filterToClickHouse(filter(fields), 'indexed'), index), '0', index);
      }
      // Turned off, none is added, and free text still finds the same event (by a scan).
      const unindexed = await engine.open('text_no_index', { textIndex: false });
      await unindexed.insert([
        storedEvent({ timeMs: BASE, eventName: 'Needle', requestParameters: '{"n":"Haystack-4242"}' }),
      ]);
      const plain = await (
        await client.query({ query: 'SHOW CREATE TABLE text_no_index.events', format: 'TabSeparatedRaw' })
      ).text();
      assert.doesNotMatch(plain, /record_4grams/);
      assert.match(plain, /INDEX lookup_username/, 'the small bloom filters stay');
      assert.deepEqual(
        names(await unindexed.lookup({ filter: filter({}, { text: 'haystack-42' }), limit: 10 })),
        ['Needle'],
      );
    });

    it("replaces an earlier version's trigram index with the 4-gram one, and finds terms too short for a 4-gram", async () => {
      const client = engine.client();
      const [row] = await (
        await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      ).json<{ v: string }>();
      const first = await engine.open('text_upgrade');
      const indexes = async (): Promise<string[]> =>
        (
          await (
            await client.query({
              query:
                "SELECT name FROM system.data_skipping_indices WHERE database = 'text_upgrade' AND table = 'events' ORDER BY name",
              format: 'JSONEachRow',
            })
          ).json<{ name: string }>()
        ).map((index) => index.name);
      if (supportsTextIndex(row?.v ?? '')) {
        // The database as crumbtrail before the 4-gram index left it.
        await client.command({
          query:
            'ALTER TABLE text_upgrade.events DROP INDEX record_4grams, ADD INDEX record_text lowerUTF8(record) TYPE text(tokenizer = ngrams(3))',
        });
        assert.ok((await indexes()).includes('record_text'));
      }
      await first.insert([
        storedEvent({ timeMs: BASE + 1000, eventName: 'Short', requestParameters: '{"note":"Zq7"}' }),
        storedEvent({ timeMs: BASE + 2000, eventName: 'Other', requestParameters: '{"note":"other"}' }),
      ]);
      const upgraded = await engine.open('text_upgrade');
      if (supportsTextIndex(row?.v ?? '')) {
        assert.deepEqual(
          (await indexes()).filter((name) => name.startsWith('record_')),
          ['record_4grams'],
        );
      }
      // Three characters: no 4-gram, so the index cannot answer it; the lookup still finds it.
      for (const text of ['zq7', 'ZQ7', 'q7']) {
        assert.deepEqual(
          names(await upgraded.lookup({ filter: filter({}, { text }), limit: 10 })),
          ['Short'],
          text,
        );
      }
    });

    it('opens a database whose schema is current without altering it, even while a mutation waits', async () => {
      // Even a no-op ALTER of the table waits for its running merges and mutations: with merges
      // stopped and a DELETE pending, the skip-index ALTER of every open timed out on 26.7 (a
      // collector could not start), and behind long merges it held a start for minutes.
      const client = engine.client();
      const [row] = await (
        await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
      ).json<{ v: string }>();
      // The DELETE is left waiting: 18.16 never waits for a mutation (and has no mutations_sync).
      const leaveWaiting = Number((row?.v ?? '').split('.')[0]) > 18 ? { mutations_sync: '0' } : {};
      const first = await engine.open('reopen_busy');
      await first.insert([
        storedEvent({ timeMs: BASE + 1000, eventName: 'Kept' }),
        storedEvent({ timeMs: BASE + 2000, eventName: 'Deleted' }),
      ]);
      await client.command({ query: 'SYSTEM STOP MERGES reopen_busy.events' });
      try {
        await client.command({
          query: "ALTER TABLE reopen_busy.events DELETE WHERE event_name = 'Deleted'",
          clickhouse_settings: leaveWaiting,
        });
        const again = await engine.open('reopen_busy');
        assert.deepEqual(names(await again.lookup({ filter: filter({ eventName: ['Kept'] }), limit: 10 })), [
          'Kept',
        ]);
      } finally {
        await client.command({ query: 'SYSTEM START MERGES reopen_busy.events' });
      }
    });

    it('keeps events in granules of 1,024 rows, so fetching a record reads ~2 MB, not 10-16', async () => {
      const store = await engine.open('granules');
      await store.insert(
        Array.from({ length: 3000 }, (_, i) => storedEvent({ timeMs: BASE + i, eventName: 'Granular' })),
      );
      const parts = await (
        await engine.client().query({
          query: `SELECT rows, marks FROM system.parts
                  WHERE active AND database = 'granules' AND table = 'events'`,
          format: 'JSONEachRow',
        })
      ).json<{ rows: string | number; marks: string | number }>();
      assert.equal(
        parts.reduce((sum, part) => sum + Number(part.rows), 0),
        3000,
      );
      const large = parts.filter((part) => Number(part.rows) > 1024);
      assert.ok(large.length > 0, 'one insert, one part of 3,000 rows');
      // A mark per 1,024 rows (26.7 adds a final one per part); 8,192-row granules make one (two on 26.7).
      for (const part of large)
        assert.ok(Number(part.marks) >= Math.ceil(Number(part.rows) / 1024), JSON.stringify(part));
    });

    it('pages newest first through events years apart, each once, whatever another collector wrote since', async () => {
      const now = Date.UTC(2026, 11, 3);
      const year = 365 * 24 * 3600_000;
      const at = (offsetMs: number, name: string): StoredEvent<CloudTrailRecord> =>
        storedEvent({ timeMs: now + offsetMs, eventName: name });
      const spread = [
        -5 * year,
        -year,
        -40 * 86_400_000,
        -3 * 86_400_000,
        -7_200_000,
        -61_000,
        -59_000,
        -1000,
        0,
      ];
      const first = [
        ...spread.map((offset, i) => at(offset, i % 2 === 0 ? 'Even' : 'Odd')),
        // A minute of dense traffic: pages end inside windows as well as at their edges.
        ...Array.from({ length: 30 }, (_, i) => at(-30_000 + i * 500 + 1, i % 2 === 0 ? 'Even' : 'Odd')),
      ];
      const writer = await engine.open('windows', { now: () => now });
      await writer.insert(first);
      // This reader learns the table's extent now; the writer then adds events far outside it.
      const reader = await engine.open('windows', { now: () => now });
      const later = [-20 * year, -2 * year, -90_000, 3000, 86_400_000, 5 * year].map((offset, i) =>
        at(offset, i % 2 === 0 ? 'Even' : 'Odd'),
      );
      await writer.insert(later);
      const all = [...first, ...later].sort((x, y) => y.eventTimeMs - x.eventTimeMs);
      const ids = (records: readonly string[]): string[] =>
        records.map((text) => (JSON.parse(text) as { eventID: string }).eventID);
      const cases: {
        name: string;
        filter: ReturnType<typeof filter>;
        expected: StoredEvent<CloudTrailRecord>[];
      }[] = [
        { name: 'no filter', filter: filter(), expected: all },
        {
          name: 'one name',
          filter: filter({ eventName: ['Odd'] }),
          expected: all.filter((e) => e.record.eventName === 'Odd'),
        },
        {
          name: 'a range',
          filter: filter({}, { startTimeMs: now - 2 * year, endTimeMs: now + 3000 }),
          expected: all.filter((e) => e.eventTimeMs >= now - 2 * year && e.eventTimeMs <= now + 3000),
        },
      ];
      for (const store of [reader, writer]) {
        for (const lookupCase of cases) {
          for (const limit of [1, 3, 50]) {
            const seen: string[] = [];
            let cursor: string | undefined;
            do {
              const page = await store.lookup({
                filter: lookupCase.filter,
                limit,
                ...(cursor === undefined ? {} : { cursor }),
              });
              seen.push(...ids(page.records));
              cursor = page.cursor;
            } while (cursor !== undefined);
            assert.deepEqual(
              seen,
              lookupCase.expected.map((e) => e.record.eventID),
              `${lookupCase.name}, pages of ${limit}`,
            );
          }
        }
      }
    });

    it('stores an event once when two collectors export it, one after the other or at once', async () => {
      const a = await engine.open('two_collectors');
      const b = await engine.open('two_collectors');
      const events = dataSet();
      assert.deepEqual(await a.insert(events), { inserted: 6, duplicates: 0 });
      assert.deepEqual(await b.insert(events), { inserted: 0, duplicates: 6 });
      const racing = Array.from({ length: 50 }, (_, i) =>
        storedEvent({ timeMs: BASE + 100_000 + i, eventName: `Race${i}` }),
      );
      await Promise.all([a.insert(racing), b.insert(racing)]);
      const all = await a.lookup({ filter: filter(), limit: 500 });
      assert.equal(all.records.length, 55);
      assert.equal(new Set(all.records).size, 55);
      const committed = await b.committedRecords(0, 1000);
      assert.equal(
        new Set(committed.map((row) => row.eventId)).size,
        committed.length,
        'no id twice in commit order',
      );
      assert.equal(committed.length, 56);
      assert.deepEqual(await a.secret('shared'), await b.secret('shared'));
      await a.writeState('progress', 'one');
      await b.writeState('progress', 'two');
      assert.equal(await a.readState('progress'), 'two');
      assert.equal(await a.readState('never-written'), undefined);
    });
  });
}

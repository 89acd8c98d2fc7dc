/*
 * What Insights needs from the SQLite store, on real files, inline and on worker threads: the
 * per-minute counts and API series kept in step with the events (duplicates, insight events and
 * retention included), attribution counts, small named state values, and the upgrade of a
 * version-1 file (counts backfilled from the events already stored).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import type { StoredEvent } from '../../src/events/cloudtrail-record.js';
import type { ApiSeries, AttributionQuery, MinuteCount } from '../../src/store/event-store.js';
import { toEventRow } from '../../src/store/event-row.js';
import { SCHEMA_V1, SCHEMA_VERSION } from '../../src/store/sqlite/schema.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import type { EventSpec } from './builders.js';
import { insightEvent, storedEvent, tempDir } from './builders.js';

const MINUTE = 60_000;
/** Monday 2024-01-01 10:00 UTC, in minutes since the epoch. */
const M = Date.UTC(2024, 0, 1, 10) / MINUTE;
const IAM = 'iam.example.com';
const S3 = 's3.example.com';

/** Epoch milliseconds `seconds` into minute `minute`. */
function ms(minute: number, seconds = 0): number {
  return minute * MINUTE + seconds * 1000;
}

interface CallSpec extends EventSpec {
  arn?: string;
  userAgent?: string;
}

/** An API call event; the caller's ARN and user agent go into the record as the mapping writes them. */
function call(spec: CallSpec): StoredEvent {
  const { arn, userAgent, ...rest } = spec;
  const event = storedEvent({ eventSource: IAM, ...rest });
  if (arn !== undefined) event.record.userIdentity.arn = arn;
  if (userAgent !== undefined) event.record.userAgent = userAgent;
  return event;
}

function count(
  minute: number,
  eventName: string,
  writeCalls: number,
  readCalls: number,
  errors: number,
  eventSource = IAM,
): MinuteCount {
  return { minute, eventSource, eventName, writeCalls, readCalls, errors };
}

function byMinuteAndApi(rows: readonly MinuteCount[]): MinuteCount[] {
  return [...rows].sort(
    (a, b) =>
      a.minute - b.minute ||
      a.eventSource.localeCompare(b.eventSource) ||
      a.eventName.localeCompare(b.eventName),
  );
}

function byApi(series: readonly ApiSeries[]): ApiSeries[] {
  return [...series].sort(
    (a, b) => a.eventSource.localeCompare(b.eventSource) || a.eventName.localeCompare(b.eventName),
  );
}

/** Writes a version-1 database holding `events`, as the version-1 writer stored them. */
function createVersion1Database(path: string, events: readonly StoredEvent[]): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA_V1);
    const insert = db.prepare(
      `INSERT INTO events (event_id, event_time, event_name, event_source, username, access_key_id,
         read_only, error_code, source_ip, event_category, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const event of events) {
      const row = toEventRow(event);
      insert.run(
        row.eventId,
        row.eventTimeMs,
        row.eventName,
        row.eventSource,
        row.username,
        row.accessKeyId,
        row.readOnly,
        row.errorCode,
        row.sourceIp,
        row.eventCategory,
        row.record,
      );
    }
    db.pragma('user_version = 1');
  } finally {
    db.close();
  }
}

for (const threads of [false, true]) {
  describe(`SqliteEventStore for Insights (${threads ? 'worker threads' : 'inline'})`, () => {
    const temp = tempDir('crumbtrail-insight-store-');
    let files = 0;
    const stores: SqliteEventStore[] = [];
    after(async () => {
      await Promise.all(stores.map((store) => store.close()));
      temp.remove();
    });

    /**
     * Each threaded store starts two worker threads (~0.5 s under tsx): the paths that differ
     * between the modes (writes, reads, state, opening) run in both, the rest inline only.
     */
    const inlineOnly = threads ? (_name: string, _test: () => Promise<void>): void => undefined : it;

    function newPath(): string {
      return join(temp.dir, `store-${files++}.db`);
    }

    function open(path = newPath()): SqliteEventStore {
      const store = new SqliteEventStore({ path, threads });
      stores.push(store);
      return store;
    }

    describe('minute counts and API series', () => {
      it('counts write calls, read calls and errors per minute and API, across batches', async () => {
        const store = open();
        const first = [
          call({ timeMs: ms(M, 1), eventName: 'CreateUser' }),
          call({ timeMs: ms(M, 2), eventName: 'CreateUser' }),
          call({ timeMs: ms(M, 3), eventName: 'GetUser', method: 'GET' }),
        ];
        const second = [
          call({ timeMs: ms(M, 59), eventName: 'CreateUser', errorCode: 'Throttling' }),
          call({ timeMs: ms(M, 30), eventName: 'GetUser', method: 'GET', errorCode: 'NoSuchEntity' }),
          call({ timeMs: ms(M + 1), eventName: 'CreateUser' }),
          call({ timeMs: ms(M + 1, 5), eventName: 'PutObject', eventSource: S3, method: 'PUT' }),
        ];
        await store.insert(first);
        await store.insert(second);
        assert.deepEqual(byMinuteAndApi(await store.minuteCounts([{ from: M - 10, to: M + 10 }])), [
          count(M, 'CreateUser', 3, 0, 1),
          count(M, 'GetUser', 0, 2, 1),
          count(M + 1, 'CreateUser', 1, 0, 0),
          count(M + 1, 'PutObject', 1, 0, 0, S3),
        ]);
        assert.deepEqual(byApi(await store.apiSeries()), [
          { eventSource: IAM, eventName: 'CreateUser', firstMinute: M },
          { eventSource: IAM, eventName: 'GetUser', firstMinute: M },
          { eventSource: S3, eventName: 'PutObject', firstMinute: M + 1 },
        ]);

        // A retried export changes nothing, in one batch or spread over several.
        assert.deepEqual(await store.insert([...first, ...second]), { inserted: 0, duplicates: 7 });
        assert.deepEqual(await store.insert([second[0]!, second[0]!]), { inserted: 0, duplicates: 2 });
        assert.deepEqual(byMinuteAndApi(await store.minuteCounts([{ from: M - 10, to: M + 10 }])), [
          count(M, 'CreateUser', 3, 0, 1),
          count(M, 'GetUser', 0, 2, 1),
          count(M + 1, 'CreateUser', 1, 0, 0),
          count(M + 1, 'PutObject', 1, 0, 0, S3),
        ]);
      });

      inlineOnly('counts a duplicate within one new batch once', async () => {
        const store = open();
        const event = call({ timeMs: ms(M, 10), eventName: 'CreateUser' });
        assert.deepEqual(await store.insert([event, event]), { inserted: 1, duplicates: 1 });
        assert.deepEqual(await store.minuteCounts([{ from: M, to: M }]), [count(M, 'CreateUser', 1, 0, 0)]);
      });

      inlineOnly('does not count insight events, nor make them API series', async () => {
        const store = open();
        await store.insert([
          call({ timeMs: ms(M, 10), eventName: 'CreateUser' }),
          insightEvent({ timeMs: ms(M, 20), eventName: 'CreateUser', eventSource: IAM }),
          insightEvent({ timeMs: ms(M + 2), eventName: 'UnusualCalls', eventSource: IAM }),
        ]);
        assert.deepEqual(await store.minuteCounts([{ from: M - 10, to: M + 10 }]), [
          count(M, 'CreateUser', 1, 0, 0),
        ]);
        assert.deepEqual(await store.apiSeries(), [
          { eventSource: IAM, eventName: 'CreateUser', firstMinute: M },
        ]);
      });

      inlineOnly('an API’s first minute goes back with an older (late) event, never forward', async () => {
        const store = open();
        await store.insert([call({ timeMs: ms(M, 10), eventName: 'GetUser', method: 'GET' })]);
        await store.insert([call({ timeMs: ms(M + 50), eventName: 'GetUser', method: 'GET' })]);
        assert.deepEqual(await store.apiSeries(), [
          { eventSource: IAM, eventName: 'GetUser', firstMinute: M },
        ]);
        await store.insert([call({ timeMs: ms(M - 100, 59), eventName: 'GetUser', method: 'GET' })]);
        assert.deepEqual(await store.apiSeries(), [
          { eventSource: IAM, eventName: 'GetUser', firstMinute: M - 100 },
        ]);
        assert.deepEqual(byMinuteAndApi(await store.minuteCounts([{ from: M - 200, to: M + 200 }])), [
          count(M - 100, 'GetUser', 0, 1, 0),
          count(M, 'GetUser', 0, 1, 0),
          count(M + 50, 'GetUser', 0, 1, 0),
        ]);
      });

      inlineOnly('returns the minutes inside the ranges asked for, and only those', async () => {
        const store = open();
        await store.insert(
          Array.from({ length: 10 }, (_, i) => call({ timeMs: ms(M + i, 30), eventName: 'CreateUser' })),
        );
        const minutes = async (ranges: { from: number; to: number }[]): Promise<number[]> =>
          (await store.minuteCounts(ranges)).map((row) => row.minute).sort((a, b) => a - b);
        assert.deepEqual(
          await minutes([
            { from: M, to: M + 1 },
            { from: M + 5, to: M + 6 },
          ]),
          [M, M + 1, M + 5, M + 6],
        );
        assert.deepEqual(
          await minutes([
            { from: M + 9, to: M + 20 },
            { from: M - 20, to: M - 1 },
          ]),
          [M + 9],
        );
        assert.deepEqual(await minutes([{ from: M + 3, to: M + 3 }]), [M + 3]);
        assert.deepEqual(await minutes([{ from: M + 11, to: M + 20 }]), []);
        assert.deepEqual(await minutes([]), []);
      });

      it('retention removes the counts of whole minutes before the cutoff, once their events are gone', async () => {
        const store = open();
        await store.insert([
          call({ timeMs: ms(M, 1), eventName: 'CreateUser' }),
          call({ timeMs: ms(M, 2), eventName: 'CreateUser' }),
          call({ timeMs: ms(M + 1, 0), eventName: 'CreateUser' }),
          call({ timeMs: ms(M + 2, 10), eventName: 'CreateUser' }),
          call({ timeMs: ms(M + 5, 0), eventName: 'CreateUser' }),
        ]);
        const cutoff = ms(M + 2, 30);
        let deleted = 0;
        let sweeps = 0;
        for (;;) {
          const batch = await store.deleteOlderThan(cutoff, 2);
          deleted += batch;
          sweeps++;
          if (batch < 2) break;
          assert.ok(sweeps < 10, 'retention terminates');
        }
        assert.equal(deleted, 4);
        // Minute M+2 still holds a stored event's worth of time: it keeps its count.
        assert.deepEqual(byMinuteAndApi(await store.minuteCounts([{ from: M - 10, to: M + 10 }])), [
          count(M + 2, 'CreateUser', 1, 0, 0),
          count(M + 5, 'CreateUser', 1, 0, 0),
        ]);
      });
    });

    describe('attribution counts', () => {
      const ALICE = 'arn:example:iam::111122223333:user/alice';
      const CAROL = 'arn:example:iam::111122223333:user/carol';
      const CLI = 'aws-cli/2.15.0';
      const SDK = 'aws-sdk-js/3.600.0';
      const store = ((): { get: () => Promise<SqliteEventStore> } => {
        let opened: Promise<SqliteEventStore> | undefined;
        return {
          get: () => {
            opened ??= (async () => {
              const created = open();
              await created.insert([
                // In the window [M, M + 10):
                call({ timeMs: ms(M), userName: 'alice', arn: ALICE, userAgent: CLI }),
                call({ timeMs: ms(M + 1), userName: 'alice', arn: ALICE, userAgent: CLI }),
                call({ timeMs: ms(M + 2), userName: 'alice', arn: ALICE, userAgent: CLI }),
                call({
                  timeMs: ms(M + 3),
                  userName: 'alice',
                  arn: ALICE,
                  userAgent: CLI,
                  errorCode: 'AccessDenied',
                }),
                call({ timeMs: ms(M + 4), userName: 'bob', userAgent: SDK }),
                call({ timeMs: ms(M + 5), userName: 'bob', userAgent: SDK }),
                call({
                  timeMs: ms(M + 6),
                  userName: 'bob',
                  userAgent: SDK,
                  method: 'GET',
                  errorCode: 'Throttling',
                }),
                call({
                  timeMs: ms(M + 9, 59),
                  userName: 'carol',
                  arn: CAROL,
                  userAgent: SDK,
                  errorCode: 'Throttling',
                }),
                // Not counted: another API, an insight about this one, calls outside the window.
                call({
                  timeMs: ms(M + 5),
                  eventName: 'DeleteUser',
                  userName: 'mallory',
                  userAgent: 'curl/8',
                }),
                call({ timeMs: ms(M + 5), eventSource: S3, userName: 'mallory', userAgent: 'curl/8' }),
                insightEvent({ timeMs: ms(M + 5), eventName: 'CreateUser', eventSource: IAM }),
                call({ timeMs: ms(M - 1, 59), userName: 'mallory', userAgent: 'curl/8' }),
                call({ timeMs: ms(M + 10), userName: 'mallory', userAgent: 'curl/8' }),
              ]);
              return created;
            })();
            return opened;
          },
        };
      })();

      function query(overrides: Partial<AttributionQuery> = {}): AttributionQuery {
        return {
          eventSource: IAM,
          eventName: 'CreateUser',
          fromMs: ms(M),
          toMs: ms(M + 10),
          writeCallsOnly: false,
          errorsOnly: false,
          maxEvents: 1000,
          top: 5,
          ...overrides,
        };
      }

      it('gives the top callers (ARN, else name), user agents and error codes of an API in a window', async () => {
        const counts = await (await store.get()).attributionCounts(query());
        assert.equal(counts.events, 8);
        assert.equal(counts.oldestMs, ms(M));
        assert.deepEqual(counts.top, {
          userIdentityArn: [
            { value: ALICE, count: 4 },
            { value: 'bob', count: 3 },
            { value: CAROL, count: 1 },
          ],
          userAgent: [
            { value: CLI, count: 4 },
            { value: SDK, count: 4 },
          ],
          errorCode: [
            { value: 'Throttling', count: 2 },
            { value: 'AccessDenied', count: 1 },
          ],
        });
      });

      it('counts write calls only, or errors only, when asked', async () => {
        const writes = await (await store.get()).attributionCounts(query({ writeCallsOnly: true }));
        assert.equal(writes.events, 7);
        assert.deepEqual(writes.top.userIdentityArn, [
          { value: ALICE, count: 4 },
          { value: 'bob', count: 2 },
          { value: CAROL, count: 1 },
        ]);
        assert.deepEqual(writes.top.errorCode, [
          { value: 'AccessDenied', count: 1 },
          { value: 'Throttling', count: 1 },
        ]);

        const errors = await (await store.get()).attributionCounts(query({ errorsOnly: true }));
        assert.equal(errors.events, 3);
        assert.equal(errors.oldestMs, ms(M + 3));
        assert.deepEqual(errors.top.userIdentityArn, [
          { value: ALICE, count: 1 },
          { value: CAROL, count: 1 },
          { value: 'bob', count: 1 },
        ]);
        assert.deepEqual(errors.top.userAgent, [
          { value: SDK, count: 2 },
          { value: CLI, count: 1 },
        ]);
      });

      it('reads at most maxEvents of the newest calls and says how far back they go', async () => {
        const counts = await (await store.get()).attributionCounts(query({ maxEvents: 3 }));
        assert.equal(counts.events, 3);
        assert.equal(counts.oldestMs, ms(M + 5));
        assert.deepEqual(counts.top.userIdentityArn, [
          { value: 'bob', count: 2 },
          { value: CAROL, count: 1 },
        ]);
      });

      it('returns at most `top` values per attribute', async () => {
        const counts = await (await store.get()).attributionCounts(query({ top: 1 }));
        assert.deepEqual(counts.top, {
          userIdentityArn: [{ value: ALICE, count: 4 }],
          userAgent: [{ value: CLI, count: 4 }],
          errorCode: [{ value: 'Throttling', count: 2 }],
        });
        assert.equal(counts.events, 8);
      });

      it('an empty window has no events and no oldest time', async () => {
        const counts = await (
          await store.get()
        ).attributionCounts(query({ fromMs: ms(M + 100), toMs: ms(M + 200) }));
        assert.deepEqual(counts, {
          events: 0,
          oldestMs: undefined,
          top: { userIdentityArn: [], userAgent: [], errorCode: [] },
        });
      });
    });

    describe('named state', () => {
      it('reads back what was written, the last value winning, and survives reopening the file', async () => {
        const path = newPath();
        const store = open(path);
        assert.equal(await store.readState('insights.lastEvaluatedMinute'), undefined);
        await store.writeState('insights.lastEvaluatedMinute', '28401000');
        await store.writeState('insights.lastEvaluatedMinute', '28401001');
        await store.writeState('other', 'a value with ünïcode and "quotes"');
        assert.equal(await store.readState('insights.lastEvaluatedMinute'), '28401001');
        assert.equal(await store.readState('other'), 'a value with ünïcode and "quotes"');
        await store.close();

        const reopened = open(path);
        assert.equal(await reopened.readState('insights.lastEvaluatedMinute'), '28401001');
        assert.equal(await reopened.readState('other'), 'a value with ünïcode and "quotes"');
        assert.equal(await reopened.readState('never written'), undefined);
      });

      inlineOnly('keeps state apart from the store’s secrets', async () => {
        const store = open();
        const secret = await store.secret('paging');
        await store.writeState('paging', 'not the secret');
        assert.deepEqual(await store.secret('paging'), secret);
        assert.equal(await store.readState('paging'), 'not the secret');
      });
    });

    describe('upgrading a version-1 file', () => {
      it('backfills minute counts and API series from the events already stored, once', async () => {
        const path = newPath();
        createVersion1Database(path, [
          call({ timeMs: ms(M, 5), eventName: 'CreateUser' }),
          call({ timeMs: ms(M, 6), eventName: 'CreateUser', errorCode: 'Throttling' }),
          call({ timeMs: ms(M + 1, 7), eventName: 'GetUser', method: 'GET' }),
          call({ timeMs: ms(M + 3), eventName: 'CreateUser' }),
          call({ timeMs: ms(M - 30), eventName: 'PutObject', eventSource: S3, method: 'PUT' }),
          insightEvent({ timeMs: ms(M + 2), eventName: 'UnusualCalls', eventSource: IAM }),
        ]);
        const expected = [
          count(M - 30, 'PutObject', 1, 0, 0, S3),
          count(M, 'CreateUser', 2, 0, 1),
          count(M + 1, 'GetUser', 0, 1, 0),
          count(M + 3, 'CreateUser', 1, 0, 0),
        ];

        const store = open(path);
        assert.deepEqual(byMinuteAndApi(await store.minuteCounts([{ from: M - 60, to: M + 60 }])), expected);
        assert.deepEqual(byApi(await store.apiSeries()), [
          { eventSource: IAM, eventName: 'CreateUser', firstMinute: M },
          { eventSource: IAM, eventName: 'GetUser', firstMinute: M + 1 },
          { eventSource: S3, eventName: 'PutObject', firstMinute: M - 30 },
        ]);
        // The old events are still there, and new ones add to the backfilled counts.
        const page = await store.lookup({ filter: { fields: {} }, limit: 10 });
        assert.equal(page.records.length, 5);
        await store.insert([call({ timeMs: ms(M, 50), eventName: 'CreateUser' })]);
        await store.close();

        const version = ((): number => {
          const db = new Database(path, { readonly: true });
          try {
            return db.pragma('user_version', { simple: true }) as number;
          } finally {
            db.close();
          }
        })();
        assert.equal(version, SCHEMA_VERSION);

        // Reopening does not backfill a second time.
        const reopened = open(path);
        assert.deepEqual(byMinuteAndApi(await reopened.minuteCounts([{ from: M - 60, to: M + 60 }])), [
          count(M - 30, 'PutObject', 1, 0, 0, S3),
          count(M, 'CreateUser', 3, 0, 1),
          count(M + 1, 'GetUser', 0, 1, 0),
          count(M + 3, 'CreateUser', 1, 0, 0),
        ]);
      });
    });
  });
}

/*
 * The EventStore contract: one test body every engine passes (SQLite, ClickHouse embedded as chdb,
 * a real ClickHouse 18.16 server). Each engine's test file supplies open(label), which returns an
 * empty store of its own for that label (a file, a database), and runs the contract once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord, StoredEvent } from '../../src/events/cloudtrail-record.js';
import { isInsightRecord } from '../../src/events/cloudtrail-record.js';
import type { EventFilter, EventStore, LookupField, LookupPage } from '../../src/store/event-store.js';
import { InvalidCursorError } from '../../src/store/event-store.js';
import { insightEvent, storedEvent } from '../unit/builders.js';

export const BASE = Date.UTC(2024, 0, 1); // a multiple of every step used below

/** The event names of a page, in order. */
export function names(page: LookupPage): string[] {
  return page.records.map((text) => {
    const record = JSON.parse(text) as AuditRecord;
    return isInsightRecord(record) ? record.insightDetails.eventName : record.eventName;
  });
}

export function filter(
  fields: EventFilter['fields'] = {},
  rest: Omit<EventFilter, 'fields'> = {},
): EventFilter {
  return { fields, ...rest };
}

/** Every record matching a filter, following cursors page by page. */
export async function lookupAll(
  store: EventStore,
  eventFilter: EventFilter,
  limit: number,
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.lookup(
      cursor === undefined ? { filter: eventFilter, limit } : { filter: eventFilter, limit, cursor },
    );
    pages.push(names(page));
    cursor = page.cursor;
    assert.ok(pages.length < 100, 'paging terminates');
  } while (cursor !== undefined);
  return pages;
}

/*
 * The shared data set, oldest first:
 *   +1000 CreateUser   iam alice  AKIA1 POST        10.0.0.1 Management  User:bob
 *   +2000 GetUser      iam alice  -     GET         10.0.0.2 Management  User:bob
 *   +3000 DeleteUser   iam carol  AKIA2 AccessDenied 10.0.0.1 Management User:dave, Group:admins
 *   +3000 PutObject    s3  bob    -     PUT         -        Data        Bucket:(ARN only)
 *   +4000 ListBuckets  s3  alice  AKIA1 GET         10.0.0.3 Management  -   requestParameters with % and _
 *   +5000 UnusualCalls (Insight)
 */
export function dataSet(): StoredEvent[] {
  return [
    storedEvent({
      timeMs: BASE + 1000,
      eventName: 'CreateUser',
      eventSource: 'iam.example.com',
      userName: 'alice',
      accessKeyId: 'AKIA1',
      sourceIp: '10.0.0.1',
      resources: [{ type: 'User', name: 'bob' }],
    }),
    storedEvent({
      timeMs: BASE + 2000,
      eventName: 'GetUser',
      eventSource: 'iam.example.com',
      userName: 'alice',
      method: 'GET',
      sourceIp: '10.0.0.2',
      resources: [{ type: 'User', name: 'bob' }],
    }),
    storedEvent({
      timeMs: BASE + 3000,
      eventName: 'DeleteUser',
      eventSource: 'iam.example.com',
      userName: 'carol',
      accessKeyId: 'AKIA2',
      errorCode: 'AccessDenied',
      sourceIp: '10.0.0.1',
      resources: [
        { type: 'User', name: 'dave' },
        { type: 'Group', name: 'admins' },
      ],
    }),
    storedEvent({
      timeMs: BASE + 3000,
      eventName: 'PutObject',
      eventSource: 's3.example.com',
      userName: 'bob',
      method: 'PUT',
      category: 'Data',
      resources: [{ type: 'Bucket', arn: 'arn:example:s3:::logs' }],
    }),
    storedEvent({
      timeMs: BASE + 4000,
      eventName: 'ListBuckets',
      eventSource: 's3.example.com',
      userName: 'alice',
      accessKeyId: 'AKIA1',
      method: 'GET',
      sourceIp: '10.0.0.3',
      requestParameters: '{"prefix":"100%_done"}',
    }),
    insightEvent({ timeMs: BASE + 5000, eventName: 'UnusualCalls', eventSource: 'iam.example.com' }),
  ];
}

export interface ContractEngine {
  name: string;
  /** A new, empty store; `label` is unique within the run ([a-z_]+). */
  open(label: string): Promise<EventStore>;
}

export function eventStoreContract(engine: ContractEngine): void {
  describe(`EventStore contract: ${engine.name}`, { timeout: 120_000 }, () => {
    describe('insert', () => {
      let store: EventStore;
      before(async () => {
        store = await engine.open('insert');
      });
      after(() => store.close());

      it('stores new events and counts duplicates instead of storing them twice', async () => {
        const events = dataSet();
        assert.deepEqual(await store.insert(events), { inserted: 6, duplicates: 0 });
        const extra = storedEvent({ timeMs: BASE + 9000, eventName: 'Extra' });
        assert.deepEqual(await store.insert([...events, extra]), { inserted: 1, duplicates: 6 });
        assert.deepEqual(await store.insert([extra, extra]), { inserted: 0, duplicates: 2 });
        assert.equal((await store.lookup({ filter: filter(), limit: 50 })).records.length, 6);
        assert.equal((await lookupAll(store, filter({ eventCategory: ['Insight'] }), 50)).flat().length, 1);
      });

      it('counts a duplicate within one batch', async () => {
        const event = storedEvent({ timeMs: BASE + 10_000, eventName: 'Twice' });
        assert.deepEqual(await store.insert([event, event]), { inserted: 1, duplicates: 1 });
      });

      it('accepts an empty batch', async () => {
        assert.deepEqual(await store.insert([]), { inserted: 0, duplicates: 0 });
      });

      it('stores the record as JSON, served whole by getEvent', async () => {
        const event = storedEvent({
          timeMs: BASE + 11_000,
          eventName: 'Fetched',
          resources: [{ type: 'User', name: 'x' }],
        });
        await store.insert([event]);
        const stored = await store.getEvent(event.record.eventID);
        assert.ok(stored !== undefined);
        assert.deepEqual(JSON.parse(stored), event.record);
        assert.equal(await store.getEvent('00000000-0000-7000-8000-000000000000'), undefined);
      });

      it('does not store the resources of a duplicate twice', async () => {
        const event = storedEvent({ timeMs: BASE + 12_000, resources: [{ type: 'User', name: 'once' }] });
        await store.insert([event]);
        await store.insert([event]);
        assert.equal(
          (await store.lookup({ filter: filter({ resourceName: ['once'] }), limit: 50 })).records.length,
          1,
        );
        assert.deepEqual(await store.distinctValues('resourceName', filter({ resourceName: ['once'] }), 10), [
          { value: 'once', count: 1 },
        ]);
      });
    });

    describe('lookup', () => {
      let store: EventStore;
      let events: StoredEvent[];
      before(async () => {
        store = await engine.open('lookup');
        events = dataSet();
        await store.insert(events);
      });
      after(() => store.close());

      it('returns events newest first, later inserts first on equal times, insights left out', async () => {
        const page = await store.lookup({ filter: filter(), limit: 50 });
        assert.deepEqual(names(page), ['ListBuckets', 'PutObject', 'DeleteUser', 'GetUser', 'CreateUser']);
        assert.equal(page.cursor, undefined);
      });

      const single: [string, LookupField, string[], string[]][] = [
        ['eventName', 'eventName', ['GetUser'], ['GetUser']],
        ['eventSource', 'eventSource', ['s3.example.com'], ['ListBuckets', 'PutObject']],
        ['username', 'username', ['alice'], ['ListBuckets', 'GetUser', 'CreateUser']],
        ['accessKeyId', 'accessKeyId', ['AKIA1'], ['ListBuckets', 'CreateUser']],
        ['errorCode', 'errorCode', ['AccessDenied'], ['DeleteUser']],
        ['sourceIPAddress', 'sourceIPAddress', ['10.0.0.1'], ['DeleteUser', 'CreateUser']],
        ['eventCategory Data', 'eventCategory', ['Data'], ['PutObject']],
        [
          'eventCategory Management',
          'eventCategory',
          ['Management'],
          ['ListBuckets', 'DeleteUser', 'GetUser', 'CreateUser'],
        ],
        ['eventCategory Insight', 'eventCategory', ['Insight'], ['UnusualCalls']],
        ['readOnly true', 'readOnly', ['true'], ['ListBuckets', 'GetUser']],
        ['readOnly false', 'readOnly', ['false'], ['PutObject', 'DeleteUser', 'CreateUser']],
        ['resourceType', 'resourceType', ['User'], ['DeleteUser', 'GetUser', 'CreateUser']],
        ['resourceType of a second resource', 'resourceType', ['Group'], ['DeleteUser']],
        ['resourceName', 'resourceName', ['bob'], ['GetUser', 'CreateUser']],
        [
          'resourceName by the ARN of a resource without a name',
          'resourceName',
          ['arn:example:s3:::logs'],
          ['PutObject'],
        ],
        ['a value nothing has', 'eventName', ['NoSuchCall'], []],
        ['a value in the wrong case', 'eventName', ['getuser'], []],
      ];
      for (const [title, field, values, expected] of single) {
        it(`filters by ${title}`, async () => {
          assert.deepEqual(
            names(await store.lookup({ filter: filter({ [field]: values }), limit: 50 })),
            expected,
          );
        });
      }

      it('filters by eventId', async () => {
        const id = events[2]!.record.eventID;
        assert.deepEqual(names(await store.lookup({ filter: filter({ eventId: [id] }), limit: 50 })), [
          'DeleteUser',
        ]);
      });

      it('ORs the values of one field', async () => {
        assert.deepEqual(
          names(
            await store.lookup({
              filter: filter({ eventName: ['CreateUser', 'DeleteUser', 'Nope'] }),
              limit: 50,
            }),
          ),
          ['DeleteUser', 'CreateUser'],
        );
        assert.deepEqual(
          names(
            await store.lookup({ filter: filter({ resourceName: ['dave', 'admins', 'bob'] }), limit: 50 }),
          ),
          ['DeleteUser', 'GetUser', 'CreateUser'],
          'an event matching two values is returned once',
        );
        assert.deepEqual(
          names(await store.lookup({ filter: filter({ readOnly: ['true', 'false'] }), limit: 50 })),
          ['ListBuckets', 'PutObject', 'DeleteUser', 'GetUser', 'CreateUser'],
        );
      });

      it('ANDs different fields', async () => {
        const lookup = async (fields: EventFilter['fields']) =>
          names(await store.lookup({ filter: filter(fields), limit: 50 }));
        assert.deepEqual(await lookup({ eventSource: ['iam.example.com'], username: ['alice'] }), [
          'GetUser',
          'CreateUser',
        ]);
        assert.deepEqual(await lookup({ resourceType: ['User'], username: ['carol'] }), ['DeleteUser']);
        // Resource type and name must hold for the same resource: DeleteUser touched the User "dave"
        // and the Group "admins", so User+admins matches nothing while User+dave matches it.
        assert.deepEqual(await lookup({ resourceType: ['User'], resourceName: ['admins'] }), []);
        assert.deepEqual(await lookup({ resourceType: ['User'], resourceName: ['dave'] }), ['DeleteUser']);
        assert.deepEqual(await lookup({ username: ['alice'], readOnly: ['false'] }), ['CreateUser']);
        assert.deepEqual(
          await lookup({ eventName: ['CreateUser', 'ListBuckets'], eventSource: ['s3.example.com'] }),
          ['ListBuckets'],
        );
        assert.deepEqual(await lookup({ eventName: ['PutObject'], username: ['alice'] }), []);
      });

      it('treats an empty value list as no filter on that field', async () => {
        assert.equal(
          (await store.lookup({ filter: filter({ eventName: [] }), limit: 50 })).records.length,
          5,
        );
      });

      it('applies inclusive time bounds, also to resource lookups', async () => {
        const range = { startTimeMs: BASE + 2000, endTimeMs: BASE + 3000 };
        assert.deepEqual(names(await store.lookup({ filter: filter({}, range), limit: 50 })), [
          'PutObject',
          'DeleteUser',
          'GetUser',
        ]);
        assert.deepEqual(
          names(await store.lookup({ filter: filter({ resourceName: ['bob'] }, range), limit: 50 })),
          ['GetUser'],
        );
        assert.deepEqual(
          names(await store.lookup({ filter: filter({}, { startTimeMs: BASE + 4000 }), limit: 50 })),
          ['ListBuckets'],
        );
        assert.deepEqual(
          names(await store.lookup({ filter: filter({}, { endTimeMs: BASE + 1999 }), limit: 50 })),
          ['CreateUser'],
        );
      });

      it('includes insights only when asked for by eventCategory', async () => {
        const withInsights = await store.lookup({
          filter: filter({ eventCategory: ['Insight', 'Data'] }),
          limit: 50,
        });
        assert.deepEqual(names(withInsights), ['UnusualCalls', 'PutObject']);
        const bySource = await store.lookup({
          filter: filter({ eventSource: ['iam.example.com'] }),
          limit: 50,
        });
        assert.ok(!names(bySource).includes('UnusualCalls'));
      });

      it('matches free text case-insensitively anywhere in the record', async () => {
        const text = async (q: string, fields: EventFilter['fields'] = {}) =>
          names(await store.lookup({ filter: filter(fields, { text: q }), limit: 50 }));
        assert.deepEqual(await text('ALICE'), ['ListBuckets', 'GetUser', 'CreateUser']);
        assert.deepEqual(await text('accessdenied'), ['DeleteUser']);
        assert.deepEqual(await text('s3:::LOGS'), ['PutObject']);
        assert.deepEqual(await text('alice', { eventSource: ['iam.example.com'] }), [
          'GetUser',
          'CreateUser',
        ]);
        assert.deepEqual(await text('no such text anywhere'), []);
      });

      it('matches % and _ in free text literally', async () => {
        const text = async (q: string) =>
          names(await store.lookup({ filter: filter({}, { text: q }), limit: 50 }));
        assert.deepEqual(await text('%'), ['ListBuckets']);
        assert.deepEqual(await text('_'), ['ListBuckets']);
        assert.deepEqual(await text('100%_done'), ['ListBuckets']);
        assert.deepEqual(await text('100_%done'), []);
        assert.deepEqual(await text('Create%'), []);
        assert.deepEqual(await text('Get_ser'), []);
        assert.deepEqual(await text('\\'), []);
      });

      it('treats SQL injection attempts as plain values', async () => {
        const attempts = [
          "' OR 1=1 --",
          '"); DROP TABLE events; --',
          "x'); DELETE FROM events; --",
          '1) OR (1=1',
        ];
        for (const attempt of attempts) {
          for (const field of [
            'eventName',
            'username',
            'resourceName',
            'resourceType',
            'eventId',
            'eventCategory',
          ] as const) {
            const page = await store.lookup({ filter: filter({ [field]: [attempt] }), limit: 50 });
            assert.deepEqual(page.records, [], `${field}: ${attempt}`);
          }
          assert.deepEqual(
            (await store.lookup({ filter: filter({}, { text: attempt }), limit: 50 })).records,
            [],
          );
          assert.deepEqual(await store.distinctValues('eventName', filter({ username: [attempt] }), 10), []);
          assert.deepEqual(await store.callCounts(filter({ eventSource: [attempt] }), 1000), []);
          assert.equal(await store.getEvent(attempt), undefined);
        }
        assert.equal((await store.lookup({ filter: filter(), limit: 50 })).records.length, 5);
        assert.deepEqual(
          names(await store.lookup({ filter: filter({ eventCategory: ['Insight'] }), limit: 50 })),
          ['UnusualCalls'],
        );
      });

      it('pages through every event exactly once, in order', async () => {
        for (const limit of [1, 2, 3, 4]) {
          const pages = await lookupAll(store, filter(), limit);
          assert.deepEqual(
            pages.flat(),
            ['ListBuckets', 'PutObject', 'DeleteUser', 'GetUser', 'CreateUser'],
            `limit ${limit}`,
          );
          assert.ok(pages.every((page) => page.length <= limit && page.length > 0));
        }
      });

      it('gives no cursor when the page holds the last match', async () => {
        assert.equal((await store.lookup({ filter: filter(), limit: 5 })).cursor, undefined);
        assert.notEqual((await store.lookup({ filter: filter(), limit: 4 })).cursor, undefined);
      });

      it('pages with a filter and time bounds', async () => {
        const pages = await lookupAll(
          store,
          filter({ username: ['alice', 'carol'] }, { startTimeMs: BASE + 2000, endTimeMs: BASE + 4000 }),
          1,
        );
        assert.deepEqual(pages, [['ListBuckets'], ['DeleteUser'], ['GetUser']]);
      });

      it('rejects a malformed cursor with InvalidCursorError', async () => {
        for (const cursor of [
          '',
          'abc',
          '1:2:3',
          '1.5:2',
          ':5',
          '5:',
          '1:-2',
          '12345678901234567:1',
          "1:1' OR 1=1",
        ]) {
          let pending: Promise<LookupPage> | undefined;
          assert.doesNotThrow(() => {
            pending = store.lookup({ filter: filter(), limit: 2, cursor });
          }, 'fails through the promise, not by throwing');
          await assert.rejects(pending!, InvalidCursorError, JSON.stringify(cursor));
        }
      });
    });

    describe('free text over characters JSON escapes', () => {
      let store: EventStore;
      before(async () => {
        store = await engine.open('text');
        await store.insert([
          storedEvent({
            timeMs: BASE + 1000,
            eventName: 'Quoted',
            requestParameters: JSON.stringify({ note: 'say "hi"', path: 'C:\\tmp\\x', line: 'a\tb' }),
          }),
          storedEvent({ timeMs: BASE + 2000, eventName: 'Plain', requestParameters: '{"note":"say hi"}' }),
        ]);
      });
      after(() => store.close());

      it('matches quotes, backslashes and tabs as typed', async () => {
        const text = async (q: string) =>
          names(await store.lookup({ filter: filter({}, { text: q }), limit: 50 }));
        assert.deepEqual(await text('say "hi"'), ['Quoted']);
        assert.deepEqual(await text('"HI"'), ['Quoted']);
        assert.deepEqual(await text('C:\\tmp\\x'), ['Quoted']);
        assert.deepEqual(await text('\\'), ['Quoted']);
        assert.deepEqual(await text('a\tb'), ['Quoted']);
        assert.deepEqual(await text('say'), ['Plain', 'Quoted']);
      });
    });

    describe('paging over equal event times', () => {
      let store: EventStore;
      before(async () => {
        store = await engine.open('ties');
        await store.insert(
          Array.from({ length: 11 }, (_, i) =>
            storedEvent({ timeMs: BASE + (i < 8 ? 0 : 1000), eventName: `Call${i}` }),
          ),
        );
      });
      after(() => store.close());

      it('yields every event once, ties in reverse insertion order', async () => {
        const expected = [
          'Call10',
          'Call9',
          'Call8',
          'Call7',
          'Call6',
          'Call5',
          'Call4',
          'Call3',
          'Call2',
          'Call1',
          'Call0',
        ];
        for (const limit of [1, 3, 8]) {
          assert.deepEqual((await lookupAll(store, filter(), limit)).flat(), expected, `limit ${limit}`);
        }
      });
    });

    describe('distinctValues', () => {
      let store: EventStore;
      before(async () => {
        store = await engine.open('values');
        await store.insert(dataSet());
      });
      after(() => store.close());

      it('counts values, most frequent first, then by value', async () => {
        assert.deepEqual(await store.distinctValues('username', filter(), 10), [
          { value: 'alice', count: 3 },
          { value: 'bob', count: 1 },
          { value: 'carol', count: 1 },
        ]);
      });

      it('leaves out events without a value and respects the limit', async () => {
        assert.deepEqual(await store.distinctValues('errorCode', filter(), 10), [
          { value: 'AccessDenied', count: 1 },
        ]);
        assert.deepEqual(await store.distinctValues('accessKeyId', filter(), 10), [
          { value: 'AKIA1', count: 2 },
          { value: 'AKIA2', count: 1 },
        ]);
        assert.deepEqual(await store.distinctValues('username', filter(), 1), [{ value: 'alice', count: 3 }]);
      });

      it('reports readOnly as "true"/"false"', async () => {
        assert.deepEqual(await store.distinctValues('readOnly', filter(), 10), [
          { value: 'false', count: 3 },
          { value: 'true', count: 2 },
        ]);
      });

      it('counts resource fields over the resources', async () => {
        assert.deepEqual(await store.distinctValues('resourceType', filter(), 10), [
          { value: 'User', count: 3 },
          { value: 'Bucket', count: 1 },
          { value: 'Group', count: 1 },
        ]);
        assert.deepEqual(await store.distinctValues('resourceName', filter(), 10), [
          { value: 'bob', count: 2 },
          { value: 'admins', count: 1 },
          { value: 'arn:example:s3:::logs', count: 1 },
          { value: 'dave', count: 1 },
        ]);
      });

      it('applies the filter, and includes insights only when asked', async () => {
        assert.deepEqual(
          await store.distinctValues('username', filter({ eventSource: ['iam.example.com'] }), 10),
          [
            { value: 'alice', count: 2 },
            { value: 'carol', count: 1 },
          ],
        );
        assert.deepEqual(await store.distinctValues('resourceType', filter({ username: ['carol'] }), 10), [
          { value: 'Group', count: 1 },
          { value: 'User', count: 1 },
        ]);
        assert.deepEqual(await store.distinctValues('eventCategory', filter(), 10), [
          { value: 'Management', count: 4 },
          { value: 'Data', count: 1 },
        ]);
        assert.deepEqual(
          await store.distinctValues('eventCategory', filter({ eventCategory: ['Insight', 'Data'] }), 10),
          [
            { value: 'Data', count: 1 },
            { value: 'Insight', count: 1 },
          ],
        );
        assert.deepEqual(
          await store.distinctValues(
            'eventName',
            filter({}, { startTimeMs: BASE + 3000, endTimeMs: BASE + 3000 }),
            10,
          ),
          [
            { value: 'DeleteUser', count: 1 },
            { value: 'PutObject', count: 1 },
          ],
        );
      });
    });

    describe('callCounts', () => {
      let store: EventStore;
      before(async () => {
        store = await engine.open('counts');
        await store.insert(dataSet());
      });
      after(() => store.close());

      it('counts calls per bucket, buckets aligned to the step', async () => {
        assert.deepEqual(await store.callCounts(filter(), 2000), [
          { bucketMs: BASE, count: 1 },
          { bucketMs: BASE + 2000, count: 3 },
          { bucketMs: BASE + 4000, count: 1 },
        ]);
        assert.deepEqual(await store.callCounts(filter(), 60_000), [{ bucketMs: BASE, count: 5 }]);
      });

      it('applies the filter and the time bounds', async () => {
        assert.deepEqual(await store.callCounts(filter({ username: ['alice'] }), 2000), [
          { bucketMs: BASE, count: 1 },
          { bucketMs: BASE + 2000, count: 1 },
          { bucketMs: BASE + 4000, count: 1 },
        ]);
        assert.deepEqual(
          await store.callCounts(filter({}, { startTimeMs: BASE + 2500, endTimeMs: BASE + 3500 }), 1000),
          [{ bucketMs: BASE + 3000, count: 2 }],
        );
      });

      it('groups by a field', async () => {
        const counts = await store.callCounts(filter(), 2000, { groupBy: 'eventSource', maxGroups: 100 });
        assert.deepEqual(
          [...counts].sort((a, b) => a.bucketMs - b.bucketMs || a.group!.localeCompare(b.group!)),
          [
            { bucketMs: BASE, group: 'iam.example.com', count: 1 },
            { bucketMs: BASE + 2000, group: 'iam.example.com', count: 2 },
            { bucketMs: BASE + 2000, group: 's3.example.com', count: 1 },
            { bucketMs: BASE + 4000, group: 's3.example.com', count: 1 },
          ],
        );
      });

      it('groups readOnly as "true"/"false" and missing values as ""', async () => {
        const byReadOnly = await store.callCounts(filter(), 10_000, { groupBy: 'readOnly', maxGroups: 100 });
        assert.deepEqual(
          [...byReadOnly].sort((a, b) => a.group!.localeCompare(b.group!)),
          [
            { bucketMs: BASE, group: 'false', count: 3 },
            { bucketMs: BASE, group: 'true', count: 2 },
          ],
        );
        const byError = await store.callCounts(filter(), 10_000, { groupBy: 'errorCode', maxGroups: 100 });
        assert.deepEqual(
          [...byError].sort((a, b) => a.group!.localeCompare(b.group!)),
          [
            { bucketMs: BASE, group: '', count: 4 },
            { bucketMs: BASE, group: 'AccessDenied', count: 1 },
          ],
        );
      });

      it('counts only the busiest groups when told how many, so a group per event stays bounded', async () => {
        const top = await store.callCounts(filter(), 10_000, { groupBy: 'eventSource', maxGroups: 1 });
        assert.deepEqual(top, [{ bucketMs: BASE, group: 'iam.example.com', count: 3 }]);
        const perEvent = await store.callCounts(filter(), 1000, { groupBy: 'eventId', maxGroups: 2 });
        assert.equal(new Set(perEvent.map((count) => count.group)).size, 2);
        assert.equal(perEvent.length, 2);
      });

      it('groups by a resource field', async () => {
        const counts = await store.callCounts(filter(), 10_000, { groupBy: 'resourceType', maxGroups: 100 });
        assert.deepEqual(
          [...counts].sort((a, b) => a.group!.localeCompare(b.group!)),
          [
            { bucketMs: BASE, group: '', count: 1 },
            { bucketMs: BASE, group: 'Bucket', count: 1 },
            { bucketMs: BASE, group: 'Group', count: 1 },
            { bucketMs: BASE, group: 'User', count: 3 },
          ],
        );
      });
    });

    describe('committedRecords', () => {
      it('lists records in commit order, and a commit sequence never goes back, even once retention emptied the store', async () => {
        const first = await engine.open('commit_order');
        // Inserted newest first: commit order is not event-time order.
        await first.insert([storedEvent({ timeMs: BASE + 2000, eventName: 'Second' })]);
        await first.insert([storedEvent({ timeMs: BASE + 1000, eventName: 'First' })]);
        const committed = await first.committedRecords(0, 10);
        assert.deepEqual(
          committed.map((row) => (JSON.parse(row.record) as { eventName: string }).eventName),
          ['Second', 'First'],
        );
        assert.ok((committed[0]?.seq ?? 0) < (committed[1]?.seq ?? 0));
        const highest = committed[1]?.seq ?? 0;
        assert.deepEqual(await first.committedRecords(committed[0]?.seq ?? 0, 10), [committed[1]]);
        assert.deepEqual(await first.committedRecords(0, 10, committed[0]?.seq), [committed[0]]);

        // Retention takes every event; SQLite alone would number the next one 1 again, and a reader
        // that remembered "delivered through seq N" would never see it.
        // A cutoff months later: engines that drop whole months (ClickHouse) take these too.
        assert.equal(await first.deleteOlderThan(Date.UTC(2024, 3, 1), 100), 2);
        await first.insert([storedEvent({ timeMs: BASE + 20_000, eventName: 'AfterEmpty' })]);
        const afterEmpty = await first.committedRecords(highest, 10);
        assert.equal(afterEmpty.length, 1);
        await first.close();
      });
    });
  });
}

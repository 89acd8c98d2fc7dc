/*
 * The demo's backfill (`--no-live`) into the real collector: two days of history, a Friday and a
 * Saturday, written through the official OTLP exporter. What the collector stores must look like
 * the services' own events (three sources, John's console story, real failures, read-only flags),
 * follow the daily pattern, and be the same events for the same seed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CollectorProcess } from '../../../collector/test/support/collector-process.js';
import { startCollectorProcess } from '../../../collector/test/support/collector-process.js';
import { CONSOLE_USER_AGENT } from '../../demo/traffic/personas.js';
import type { DemoEvent } from './support/collector-queries.js';
import { allEvents, callCount, someEvents, total, valueCounts } from './support/collector-queries.js';
import type { Milestone } from './support/demo-process.js';
import { field, isNumber, isString, runDemoToEnd } from './support/demo-process.js';

const FROM = '2026-03-06T00:00:00.000Z'; // a Friday
const TO = '2026-03-08T00:00:00.000Z';
const HOUR_MS = 3_600_000;
const WINDOW = { startTime: FROM, endTime: new Date(Date.parse(TO) - 1).toISOString() };

const EVERYTHING = { startTime: '2000-01-01T00:00:00Z' };

function backfillArgs(otlpUrl: string, seed: number, days = 2, end = TO): string[] {
  return [
    ...['--otlp', otlpUrl, '--seed', String(seed), '--rate', '0.5'],
    ...['--backfill-days', String(days), '--backfill-end', end, '--no-live'],
  ];
}

const READ_APIS = ['DescribeInstances', 'GetObject', 'GetUser', 'ListBuckets', 'ListUsers'];
const WRITE_APIS = [
  'AttachUserPolicy',
  'CreateUser',
  'DeleteObject',
  'DeleteUser',
  'PutObject',
  'RunInstances',
  'TerminateInstances',
];

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

describe('demo backfill', () => {
  const collectors: CollectorProcess[] = [];
  let collector: CollectorProcess;
  let done: Milestone;
  let events: DemoEvent[];
  let sameSeedIds: string[];
  let otherSeedIds: string[];
  let rerun: { written: number; added: number };

  before(async () => {
    // Three fresh collectors, one per run: the same seed twice, and another seed. The history is
    // from March 2026: kept whatever today's date, which the default 90-day retention would not.
    collectors.push(
      ...(await Promise.all(
        [1, 2, 3].map(() => startCollectorProcess({ args: ['--retention-days', '36500'] })),
      )),
    );
    const [first, second, third] = collectors as [CollectorProcess, CollectorProcess, CollectorProcess];
    collector = first;
    const runs = await Promise.all([
      runDemoToEnd(backfillArgs(first.otlpUrl, 5)),
      runDemoToEnd(backfillArgs(second.otlpUrl, 5)),
      runDemoToEnd(backfillArgs(third.otlpUrl, 6)),
    ]);
    const backfillDone = runs[0].find((line) => line.msg === 'backfill done');
    assert.ok(backfillDone, 'the demo says when the backfill is done');
    done = backfillDone;
    events = await allEvents(first.apiUrl, WINDOW);
    sameSeedIds = (await allEvents(second.apiUrl, WINDOW)).map((event) => event.eventID);
    otherSeedIds = (await allEvents(third.apiUrl, WINDOW)).map((event) => event.eventID);
    // The same seed again over the second half of the window, as a demo started again would.
    const before = total(await valueCounts(second.apiUrl, 'eventSource', EVERYTHING));
    const again = await runDemoToEnd(backfillArgs(second.otlpUrl, 5, 1, TO));
    rerun = {
      written: field(again.find((line) => line.msg === 'backfill done') ?? done, 'events', isNumber),
      added: total(await valueCounts(second.apiUrl, 'eventSource', EVERYTHING)) - before,
    };
  });

  after(async () => {
    await Promise.all(collectors.map((c) => c.stop()));
  });

  it('reports the window and every event it wrote, and the collector stored them all', async () => {
    assert.equal(field(done, 'fromTime', isString), FROM);
    assert.equal(field(done, 'toTime', isString), TO);
    const written = field(done, 'events', isNumber);
    assert.ok(written > 1000, `${written} events`);
    assert.equal(events.length, written);
    assert.equal(
      total(await valueCounts(collector.apiUrl, 'eventSource', { startTime: '2000-01-01T00:00:00Z' })),
      written,
    );
    for (const event of events) {
      const time = Date.parse(event.eventTime);
      assert.ok(time >= Date.parse(FROM) && time < Date.parse(TO), event.eventTime);
    }
  });

  it('has events from all three services, named as the services name them', () => {
    const sources = new Map(events.map((event) => [event.eventSource, event.crumbtrail.serviceName]));
    assert.deepEqual(sorted(sources.keys()), [
      'compute.example.com',
      'iam.example.com',
      'storage.example.com',
    ]);
    assert.equal(sources.get('iam.example.com'), 'iam');
    assert.equal(sources.get('compute.example.com'), 'compute');
    assert.equal(sources.get('storage.example.com'), 'storage');
  });

  it('has John creating Mary through the console', async () => {
    const [created, ...more] = await someEvents(collector.apiUrl, {
      ...WINDOW,
      eventName: 'CreateUser',
      username: 'John',
      resourceName: 'Mary',
    });
    assert.ok(created, 'John created Mary');
    assert.equal(more.length, 0);
    assert.equal(created.sessionCredentialFromConsole, 'true');
    assert.equal(created.userAgent, CONSOLE_USER_AGENT);
    assert.equal(created.sourceIPAddress, '203.0.113.7');
    assert.equal(created.userIdentity.accessKeyId, 'ASIAJOHNCONSOLE0001');
    assert.deepEqual(created.requestParameters, { userName: 'Mary' });
    assert.equal(created.errorCode, undefined);
    // Mallory's attempt to delete her moments later was denied.
    const [denied] = await someEvents(collector.apiUrl, {
      ...WINDOW,
      eventName: 'DeleteUser',
      resourceName: 'Mary',
    });
    assert.equal(denied?.userIdentity.userName, 'mallory');
    assert.equal(denied.errorCode, 'AccessDenied');
    assert.equal(denied.sessionCredentialFromConsole, undefined);
  });

  it('has real failures: AccessDenied and NotFound, with messages', () => {
    const denied = events.filter((event) => event.errorCode === 'AccessDenied');
    const notFound = events.filter((event) => event.errorCode === 'NotFound');
    assert.ok(
      denied.length > 0 && notFound.length > 0,
      `${denied.length} denied, ${notFound.length} not found`,
    );
    assert.ok(denied.some((event) => event.userIdentity.userName === 'mallory'));
    for (const event of [...denied, ...notFound]) {
      assert.ok(event.errorMessage !== undefined && event.errorMessage.length > 0);
      assert.equal(event.crumbtrail.httpStatusCode, event.errorCode === 'AccessDenied' ? 403 : 404);
    }
    assert.ok(events.filter((event) => event.errorCode === undefined).length > events.length * 0.9);
  });

  it('marks reads read-only and writes not', async () => {
    const reads = await valueCounts(collector.apiUrl, 'eventName', { ...WINDOW, readOnly: true });
    const writes = await valueCounts(collector.apiUrl, 'eventName', { ...WINDOW, readOnly: false });
    assert.deepEqual(sorted(reads.keys()), READ_APIS);
    assert.deepEqual(sorted(writes.keys()), WRITE_APIS);
  });

  it('follows the daily pattern: busy weekday afternoons, quiet nights, quieter weekends', async () => {
    const calls = (fromIso: string, hours: number): Promise<number> =>
      callCount(collector.apiUrl, {
        startTime: fromIso,
        endTime: new Date(Date.parse(fromIso) + hours * HOUR_MS - 1).toISOString(),
        step: 3600,
      });
    const fridayNight = await calls('2026-03-06T00:00:00Z', 4);
    const fridayAfternoon = await calls('2026-03-06T11:00:00Z', 4);
    const saturdayAfternoon = await calls('2026-03-07T11:00:00Z', 4);
    assert.ok(
      fridayAfternoon > 2 * fridayNight,
      `Friday: ${fridayAfternoon} by day, ${fridayNight} at night`,
    );
    assert.ok(
      saturdayAfternoon < 0.7 * fridayAfternoon,
      `afternoons: Saturday ${saturdayAfternoon}, Friday ${fridayAfternoon}`,
    );
  });

  it('writes the same events for the same seed, and others for another seed', () => {
    const ids = sorted(events.map((event) => event.eventID));
    assert.deepEqual(sorted(sameSeedIds), ids);
    const idSet = new Set(ids);
    assert.ok(otherSeedIds.length > 1000);
    assert.equal(otherSeedIds.filter((id) => idSet.has(id)).length, 0);
  });

  it('adds almost nothing when run again over the same minutes (a restarted demo)', () => {
    // Each call's ids come from its own seed: the same call gets the same eventID. Only calls whose
    // choice depended on what happened before the shorter window began can differ.
    assert.ok(rerun.written > 1000, `${rerun.written} events written again`);
    assert.ok(rerun.added < rerun.written * 0.05, `${rerun.added} of ${rerun.written} were new`);
  });
});

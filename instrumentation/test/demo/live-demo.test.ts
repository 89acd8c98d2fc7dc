/*
 * The whole demo into the real collector: a short backfill, then live traffic through the three
 * real service processes (Express, Fastify, node:http, each with startAuditTrail), stopped with
 * SIGTERM as a user's Ctrl-C would. Every call a service answered must be in the collector, the
 * console story must be there as the services recorded it, and the live events must look like
 * the backfilled ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CollectorProcess } from '../../../collector/test/support/collector-process.js';
import { startCollectorProcess } from '../../../collector/test/support/collector-process.js';
import { CONSOLE_USER_AGENT } from '../../demo/traffic/personas.js';
import type { DemoEvent, Query } from './support/collector-queries.js';
import { allEvents, someEvents, valueCounts } from './support/collector-queries.js';
import type { DemoProcess, Milestone } from './support/demo-process.js';
import { field, isNumber, isString, startDemo } from './support/demo-process.js';
import { stableFields, recordShape } from './support/record-shape.js';

const POLL_MS = 100;
const WAIT_LIMIT_MS = 30_000;

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe('demo: backfill, then live traffic through the services, stopped by SIGTERM', () => {
  let collector: CollectorProcess;
  let demo: DemoProcess;
  let exitCode: number | null;
  let backfill: Milestone;
  let live: Query;
  let liveEvents: DemoEvent[];

  before(async () => {
    collector = await startCollectorProcess();
    demo = startDemo([
      '--otlp',
      collector.otlpUrl,
      '--seed',
      '11',
      '--backfill-days',
      '0.05',
      '--rate',
      '20',
    ]);
    const started = await demo.milestone('live traffic started');
    backfill = await demo.milestone('backfill done');
    live = { startTime: field(started, 'startTime', isString) };
    // Stop once the console story is told and every service has been called.
    await waitFor('the console story and calls to every service', async () => {
      const sources = await valueCounts(collector.apiUrl, 'eventSource', live);
      const denied = await someEvents(collector.apiUrl, {
        ...live,
        eventName: 'DeleteUser',
        username: 'mallory',
      });
      return sources.size === 3 && denied.length > 0;
    });
    exitCode = await demo.stop();
    liveEvents = await allEvents(collector.apiUrl, live);
  });

  after(async () => {
    await demo.stop();
    await collector.stop();
  });

  it('starts the services, backfills, goes live, and exits 0 on SIGTERM', () => {
    assert.equal(exitCode, 0, demo.stderr());
    const messages = demo.milestones.map((line) => line.msg);
    assert.deepEqual(messages.slice(0, 3), [
      'demo services started',
      'backfill done',
      'live traffic started',
    ]);
    assert.deepEqual(messages.slice(-3), ['stopping', 'live traffic stopped', 'demo stopped']);
    const services = demo.milestones[0];
    for (const name of ['iam', 'compute', 'storage']) assert.ok(isNumber(services?.[name]), `${name} port`);
    assert.equal(demo.milestones.at(-1)?.clean, true);
  });

  it('loses nothing: every call a service answered is in the collector, once', async () => {
    const stopped = await demo.milestone('live traffic stopped');
    assert.equal(stopped.unansweredCalls, 0);
    const answered = field(stopped, 'answeredCalls', isNumber);
    assert.ok(answered >= 5, `${answered} calls`);
    assert.equal(liveEvents.length, answered);
    assert.equal(new Set(liveEvents.map((event) => event.eventID)).size, answered);
    // And the backfill ended where live traffic began.
    assert.ok(Date.parse(field(backfill, 'toTime', isString)) <= Date.parse(String(live.startTime)));
  });

  it('records the calls under the services’ names', () => {
    const services = new Map(liveEvents.map((event) => [event.eventSource, event.crumbtrail.serviceName]));
    assert.equal(services.get('iam.example.com'), 'iam');
    assert.equal(services.get('compute.example.com'), 'compute');
    assert.equal(services.get('storage.example.com'), 'storage');
  });

  it('tells the console story: John creates Mary, mallory may not delete her', () => {
    // John also creates contractors and gives them policies as ordinary traffic (at random times,
    // so before or after the story): the story's calls are the ones naming Mary.
    const storyCalls = (eventName: string): DemoEvent[] =>
      liveEvents.filter(
        (event) =>
          event.userIdentity.userName === 'John' &&
          event.eventName === eventName &&
          event.requestParameters?.['userName'] === 'Mary',
      );
    const [created, ...createdAgain] = storyCalls('CreateUser');
    assert.ok(created, 'John created Mary');
    assert.equal(createdAgain.length, 0, 'Mary is created once');
    assert.equal(created.resources?.[0]?.name, 'Mary');
    assert.equal(created.sessionCredentialFromConsole, 'true');
    assert.equal(created.userAgent, CONSOLE_USER_AGENT);
    assert.equal(created.sourceIPAddress, '203.0.113.7', 'the client address the proxy reported');
    assert.equal(created.userIdentity.accessKeyId, 'ASIAJOHNCONSOLE0001');
    assert.deepEqual(created.requestParameters, { userName: 'Mary' });
    assert.deepEqual(created.responseElements, {
      user: { userName: 'Mary', arn: 'arn:aws:iam::111122223333:user/Mary', path: '/' },
    });
    const [attached] = storyCalls('AttachUserPolicy');
    assert.deepEqual(
      attached?.resources?.map((resource) => resource.name),
      ['Mary', 'ReadOnlyAccess'],
    );
    const denied = liveEvents.find(
      (event) => event.eventName === 'DeleteUser' && event.userIdentity.userName === 'mallory',
    );
    assert.equal(denied?.errorCode, 'AccessDenied');
    assert.match(denied.errorMessage ?? '', /mallory is not authorized to perform: iam:DeleteUser/);
    assert.equal(denied.crumbtrail.httpStatusCode, 403);
    assert.equal(denied.userAgent, 'curl/8.5.0');
    assert.match(denied.userIdentity.accessKeyId ?? '', /^AK[0-9A-F]{16}$/, 'a fingerprint, never the key');
  });

  it('backfills events that look like the live ones', async () => {
    const history = {
      startTime: field(backfill, 'fromTime', isString),
      endTime: field(backfill, 'toTime', isString),
    };
    const groups = new Map<string, DemoEvent>();
    for (const event of liveEvents) {
      groups.set(`${event.eventName} ${event.userIdentity.userName ?? ''} ${event.errorCode ?? ''}`, event);
    }
    let compared = 0;
    for (const liveEvent of groups.values()) {
      const candidates = await someEvents(collector.apiUrl, {
        ...history,
        eventName: liveEvent.eventName,
        username: liveEvent.userIdentity.userName ?? '',
        maxResults: 200,
      });
      const backfilled = candidates.find((event) => event.errorCode === liveEvent.errorCode);
      if (backfilled === undefined) continue;
      compared++;
      const what = `${liveEvent.eventName} by ${liveEvent.userIdentity.userName ?? '?'}`;
      assert.deepEqual(recordShape(backfilled), recordShape(liveEvent), what);
      assert.deepEqual(stableFields(backfilled), stableFields(liveEvent), what);
    }
    const sources = new Set(liveEvents.map((event) => event.eventSource));
    assert.ok(compared >= Math.max(5, sources.size), `compared ${compared} kinds of call`);
  });
});

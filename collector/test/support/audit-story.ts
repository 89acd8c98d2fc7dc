/*
 * A small, fixed audit history for the Grafana plugin's tests (jest and the browser): two and a
 * half hours of IAM and compute traffic on 2026-03-02, the seed story (John creates Mary through
 * the console; Mallory's DeleteUser is denied) and a RunInstances burst that the real Insights
 * engine turns into an insight (Start and End). Written through the real OTLP exporter into a real
 * collector with a stepped Insights clock, so the SQLite file holds exactly what production would.
 *
 *   node --import tsx collector/test/support/audit-story.ts <db-path>
 * prints the story's landmarks as JSON.
 */
import * as A from '@crumbtrail/instrumentation/attributes';
import type { AuditCall } from './otel-client.js';
import type { ApiCallSpec, Caller } from './insights-harness.js';
import { InsightsHarness, MINUTE, callsInMinute, seededCounts } from './insights-harness.js';

export const STORY_START_MS = Date.parse('2026-03-02T08:00:00.000Z');
export const STORY_MINUTES = 150;
/** The RunInstances burst: minutes 120–129 after the start. */
export const BURST_FIRST_MINUTE = 120;
export const BURST_MINUTES = 10;
export const JOHN_CREATES_MARY_MS = STORY_START_MS + 90 * MINUTE + 12_000;
export const MALLORY_DENIED_MS = STORY_START_MS + 95 * MINUTE + 30_000;

const CONSOLE_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36';
const SDK_UA = 'aws-sdk-js/3.600.0 os/linux lang/js md/nodejs#20.19.0';

const alice: Caller = { userName: 'alice', userAgent: SDK_UA };
const bob: Caller = { userName: 'bob', userAgent: SDK_UA };
const mallory: Caller = { userName: 'mallory', userAgent: 'curl/8.5.0' };

const runInstances = (caller: Caller): ApiCallSpec => ({
  eventName: 'RunInstances',
  eventSource: 'compute.example.com',
  readOnly: false,
  caller,
});
const describeInstances: ApiCallSpec = {
  eventName: 'DescribeInstances',
  eventSource: 'compute.example.com',
  readOnly: true,
  caller: bob,
};
const listUsers: ApiCallSpec = {
  eventName: 'ListUsers',
  eventSource: 'iam.example.com',
  readOnly: true,
  caller: alice,
};

function johnCreatesMary(): AuditCall {
  return {
    name: 'POST /users',
    time: new Date(JOHN_CREATES_MARY_MS),
    attributes: {
      [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'CreateUser',
      [A.ATTR_CRUMBTRAIL_EVENT_SOURCE]: 'iam.example.com',
      [A.ATTR_CRUMBTRAIL_IDENTITY_TYPE]: 'IAMUser',
      [A.ATTR_USER_NAME]: 'John',
      [A.ATTR_CRUMBTRAIL_IDENTITY_ARN]: 'arn:aws:iam::111122223333:user/John',
      [A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID]: 'ASIAJOHNCONSOLE0001',
      [A.ATTR_CRUMBTRAIL_CONSOLE_SESSION]: true,
      [A.ATTR_CLIENT_ADDRESS]: '203.0.113.7',
      [A.ATTR_USER_AGENT_ORIGINAL]: CONSOLE_UA,
      [A.ATTR_CRUMBTRAIL_READ_ONLY]: false,
      [A.ATTR_CRUMBTRAIL_RESOURCE_TYPES]: ['User'],
      [A.ATTR_CRUMBTRAIL_RESOURCE_NAMES]: ['Mary'],
      [A.ATTR_CRUMBTRAIL_RESOURCE_ARNS]: ['arn:aws:iam::111122223333:user/Mary'],
      [A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS]: JSON.stringify({ userName: 'Mary' }),
      [A.ATTR_CRUMBTRAIL_REQUEST_ID]: 'req-john-creates-mary',
    },
  };
}

function malloryDeletesMary(): AuditCall {
  return {
    name: 'DELETE /users/:userName',
    time: new Date(MALLORY_DENIED_MS),
    attributes: {
      [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'DeleteUser',
      [A.ATTR_CRUMBTRAIL_EVENT_SOURCE]: 'iam.example.com',
      [A.ATTR_USER_NAME]: 'mallory',
      [A.ATTR_CRUMBTRAIL_IDENTITY_ARN]: 'arn:aws:iam::111122223333:user/mallory',
      [A.ATTR_CLIENT_ADDRESS]: '198.51.100.23',
      [A.ATTR_USER_AGENT_ORIGINAL]: 'curl/8.5.0',
      [A.ATTR_CRUMBTRAIL_READ_ONLY]: false,
      [A.ATTR_CRUMBTRAIL_RESOURCE_TYPES]: ['User'],
      [A.ATTR_CRUMBTRAIL_RESOURCE_NAMES]: ['Mary'],
      [A.ATTR_CRUMBTRAIL_ERROR_CODE]: 'AccessDenied',
      [A.ATTR_CRUMBTRAIL_ERROR_MESSAGE]: 'mallory is not authorized to perform iam:DeleteUser on User/Mary',
    },
  };
}

function minuteOfTraffic(minute: number, count: (low: number, high: number) => number): AuditCall[] {
  const minuteMs = STORY_START_MS + minute * MINUTE;
  const calls = [
    ...callsInMinute(minuteMs, count(3, 6), runInstances(alice)),
    ...callsInMinute(minuteMs, count(4, 8), describeInstances),
    ...callsInMinute(minuteMs, count(1, 3), listUsers),
  ];
  const inBurst = minute >= BURST_FIRST_MINUTE && minute < BURST_FIRST_MINUTE + BURST_MINUTES;
  if (inBurst) calls.push(...callsInMinute(minuteMs, 40, runInstances(mallory)));
  if (minuteMs <= JOHN_CREATES_MARY_MS && JOHN_CREATES_MARY_MS < minuteMs + MINUTE)
    calls.push(johnCreatesMary());
  if (minuteMs <= MALLORY_DENIED_MS && MALLORY_DENIED_MS < minuteMs + MINUTE)
    calls.push(malloryDeletesMary());
  return calls;
}

export interface AuditStory {
  startTime: string;
  endTime: string;
  events: number;
  insights: number;
}

/** Writes the story into a new SQLite file at `dbPath`. */
export async function writeAuditStory(dbPath: string): Promise<AuditStory> {
  const harness = InsightsHarness.withDatabase(dbPath);
  await harness.start();
  const count = seededCounts(7);
  let events = 0;
  let insights = 0;
  try {
    for (let minute = 0; minute < STORY_MINUTES; minute++) {
      const calls = minuteOfTraffic(minute, count);
      events += calls.length;
      await harness.send(calls);
      insights += (await harness.evaluateThrough(STORY_START_MS + minute * MINUTE)).length;
    }
  } finally {
    await harness.stop();
  }
  return {
    startTime: new Date(STORY_START_MS).toISOString(),
    endTime: new Date(STORY_START_MS + STORY_MINUTES * MINUTE).toISOString(),
    events,
    insights,
  };
}

if (process.argv[1] === import.meta.filename) {
  const dbPath = process.argv[2];
  if (dbPath === undefined) {
    console.error('usage: audit-story.ts <db-path>');
    process.exit(2);
  }
  console.log(JSON.stringify(await writeAuditStory(dbPath)));
}

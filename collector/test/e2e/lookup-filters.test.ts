/*
 * Every lookup attribute, alone, repeated (OR) and combined (AND), against a real collector: the
 * expected answer is computed from the calls the test made, so each case checks exactly which
 * events come back, newest first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { exportOrFail, exporterFor, makeSpans } from '../support/otel-client.js';
import type { AuditCall } from '../support/otel-client.js';

interface Call {
  index: number;
  time: number;
  eventName: string;
  eventSource: string;
  username: string | undefined;
  accessKeyId: string;
  errorCode: string | undefined;
  sourceIPAddress: string;
  readOnly: boolean;
  eventCategory: string;
  resources: { type: string; name: string }[];
  comment: string;
}

const NAMES = ['CreateUser', 'DeleteUser', 'ListUsers', 'RunInstances', 'DescribeInstances'];
const USERS = ['alice', 'bob', 'carol', 'dave', undefined];
const BASE = Date.parse('2024-03-01T00:00:00Z');

function buildCalls(count: number): Call[] {
  return Array.from({ length: count }, (_, i) => {
    const eventName = NAMES[i % NAMES.length]!;
    const resources = [{ type: eventName.includes('Instance') ? 'Instance' : 'User', name: `res-${i % 13}` }];
    if (i % 10 === 0) resources.push({ type: 'Policy', name: `policy-${i % 3}` });
    return {
      index: i,
      time: BASE + i * 61_000,
      eventName,
      eventSource: eventName.includes('Instance') ? 'ec2.example.com' : 'iam.example.com',
      username: USERS[i % USERS.length],
      accessKeyId: `AKIA${i % 3}`,
      errorCode: i % 7 === 0 ? 'AccessDenied' : i % 11 === 0 ? 'NotFound' : undefined,
      sourceIPAddress: `10.0.0.${i % 5}`,
      readOnly: eventName.startsWith('List') || eventName.startsWith('Describe'),
      eventCategory: i % 9 === 0 ? 'Data' : 'Management',
      resources,
      comment: `needle_${i % 17}%`,
    };
  });
}

function toAuditCall(call: Call): AuditCall {
  const attributes: AuditCall['attributes'] = {
    [A.ATTR_CRUMBTRAIL_EVENT_NAME]: call.eventName,
    [A.ATTR_CRUMBTRAIL_EVENT_SOURCE]: call.eventSource,
    [A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID]: call.accessKeyId,
    [A.ATTR_CLIENT_ADDRESS]: call.sourceIPAddress,
    [A.ATTR_CRUMBTRAIL_READ_ONLY]: call.readOnly,
    [A.ATTR_CRUMBTRAIL_EVENT_CATEGORY]: call.eventCategory,
    [A.ATTR_CRUMBTRAIL_RESOURCE_TYPES]: call.resources.map((r) => r.type),
    [A.ATTR_CRUMBTRAIL_RESOURCE_NAMES]: call.resources.map((r) => r.name),
    [A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS]: JSON.stringify({ comment: call.comment, index: call.index }),
  };
  if (call.username !== undefined) attributes[A.ATTR_USER_NAME] = call.username;
  if (call.errorCode !== undefined) attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE] = call.errorCode;
  return { name: call.eventName, time: new Date(call.time), attributes };
}

type FieldValues = Record<string, string[]>;

function fieldOf(call: Call, field: string): string[] {
  switch (field) {
    case 'eventName':
      return [call.eventName];
    case 'eventSource':
      return [call.eventSource];
    case 'username':
      return call.username === undefined ? [] : [call.username];
    case 'accessKeyId':
      return [call.accessKeyId];
    case 'errorCode':
      return call.errorCode === undefined ? [] : [call.errorCode];
    case 'sourceIPAddress':
      return [call.sourceIPAddress];
    case 'readOnly':
      return [String(call.readOnly)];
    case 'eventCategory':
      return [call.eventCategory];
    default:
      throw new Error(`no model for ${field}`);
  }
}

const RESOURCE_FIELDS: Record<string, 'type' | 'name'> = { resourceType: 'type', resourceName: 'name' };

/** Resource filters must all hold for one and the same resource. */
function matchesResources(call: Call, filters: FieldValues): boolean {
  const resourceFilters = Object.entries(filters).filter(([field]) => field in RESOURCE_FIELDS);
  if (resourceFilters.length === 0) return true;
  return call.resources.some((resource) =>
    resourceFilters.every(([field, values]) => values.includes(resource[RESOURCE_FIELDS[field]!])),
  );
}

function expected(calls: Call[], filters: FieldValues, range?: [number, number], text?: string): number[] {
  return calls
    .filter((call) =>
      Object.entries(filters)
        .filter(([field]) => !(field in RESOURCE_FIELDS))
        .every(([field, values]) => fieldOf(call, field).some((value) => values.includes(value))),
    )
    .filter((call) => matchesResources(call, filters))
    .filter((call) => range === undefined || (call.time >= range[0] && call.time <= range[1]))
    .filter((call) => text === undefined || call.comment.toLowerCase().includes(text.toLowerCase()))
    .sort((a, b) => b.time - a.time)
    .map((call) => call.index);
}

function queryString(filters: FieldValues, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams(extra);
  for (const [field, values] of Object.entries(filters))
    for (const value of values) params.append(field, value);
  params.set('maxResults', '1000');
  return params.toString();
}

const SINGLE_CASES: FieldValues[] = [
  { eventName: ['CreateUser'] },
  { eventSource: ['ec2.example.com'] },
  { username: ['alice'] },
  { accessKeyId: ['AKIA2'] },
  { errorCode: ['AccessDenied'] },
  { sourceIPAddress: ['10.0.0.3'] },
  { readOnly: ['true'] },
  { readOnly: ['false'] },
  { eventCategory: ['Data'] },
  { resourceType: ['Policy'] },
  { resourceName: ['res-4'] },
];

const REPEATED_CASES: FieldValues[] = [
  { eventName: ['CreateUser', 'DeleteUser'] },
  { username: ['bob', 'carol'] },
  { errorCode: ['AccessDenied', 'NotFound'] },
  { resourceName: ['res-1', 'policy-2'] },
];

function pairCases(): FieldValues[] {
  const pairs: FieldValues[] = [];
  for (let i = 0; i < SINGLE_CASES.length; i++) {
    for (let j = i + 1; j < SINGLE_CASES.length; j++) {
      const merged = { ...SINGLE_CASES[i], ...SINGLE_CASES[j] };
      if (Object.keys(merged).length === 2) pairs.push(merged);
    }
  }
  return pairs;
}

describe('event lookup filters', () => {
  const calls = buildCalls(400);
  let collector: CollectorProcess;
  const indexBySpanId = new Map<string, number>();

  async function lookup(query: string): Promise<number[]> {
    const { status, body } = await getJson<{ events: CloudTrailRecord[]; nextToken?: string }>(
      collector.apiUrl,
      `/api/v1/events?${query}`,
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.nextToken, undefined);
    const times = body.events.map((event) => Date.parse(event.eventTime));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    return body.events.map((event) => indexBySpanId.get(event.crumbtrail.spanId ?? '') ?? -1);
  }

  before(async () => {
    // The calls are dated March 2024: kept whatever today's date, which 90 days would not.
    collector = await startCollectorProcess({ args: ['--retention-days', '36500'] });
    const spans = makeSpans(calls.map(toAuditCall));
    spans.forEach((span, i) => indexBySpanId.set(span.spanContext().spanId, calls[i]!.index));
    await exportOrFail(exporterFor('protobuf', collector.otlpUrl), spans);
  });
  after(async () => {
    await collector.stop();
  });

  it('returns everything, newest first, without filters', async () => {
    assert.deepEqual(await lookup(queryString({})), expected(calls, {}));
  });

  for (const filters of [...SINGLE_CASES, ...REPEATED_CASES]) {
    it(`filters by ${JSON.stringify(filters)}`, async () => {
      const result = await lookup(queryString(filters));
      assert.ok(result.length > 0, 'the case must match something to prove anything');
      assert.deepEqual(result, expected(calls, filters));
    });
  }

  it('ANDs every pair of different attributes', async () => {
    for (const filters of pairCases()) {
      assert.deepEqual(await lookup(queryString(filters)), expected(calls, filters), JSON.stringify(filters));
    }
  });

  it('ANDs four attributes with a time range and free text', async () => {
    const filters = {
      eventSource: ['iam.example.com'],
      readOnly: ['false'],
      accessKeyId: ['AKIA0', 'AKIA1'],
    };
    const range: [number, number] = [BASE + 50 * 61_000, BASE + 300 * 61_000];
    const query = queryString(filters, {
      startTime: new Date(range[0]).toISOString(),
      endTime: String(range[1]),
      q: 'NEEDLE_3%',
    });
    const result = await lookup(query);
    assert.ok(result.length > 0);
    assert.deepEqual(result, expected(calls, filters, range, 'needle_3%'));
  });

  it('treats the time range as inclusive at both ends', async () => {
    const call = calls[123]!;
    const at = new Date(call.time).toISOString();
    assert.deepEqual(await lookup(queryString({}, { startTime: at, endTime: at })), [123]);
  });

  it('matches free text literally: LIKE wildcards in q are not wildcards', async () => {
    assert.deepEqual(
      await lookup(queryString({}, { q: 'needle_1%' })),
      expected(calls, {}, undefined, 'needle_1%'),
    );
    assert.deepEqual(await lookup(queryString({}, { q: 'needle%1' })), []);
  });

  it('never lets a filter value inject SQL', async () => {
    for (const hostile of [
      "alice' OR '1'='1",
      'x"); DROP TABLE events; --',
      "' UNION SELECT record FROM events --",
    ]) {
      assert.deepEqual(await lookup(queryString({ username: [hostile] })), []);
      assert.deepEqual(await lookup(queryString({}, { q: hostile })), []);
    }
    assert.equal((await lookup(queryString({}))).length, calls.length, 'the table is intact');
  });

  it('lists distinct values with counts for Grafana variables', async () => {
    const { status, body } = await getJson<{ values: { value: string; count: number }[] }>(
      collector.apiUrl,
      '/api/v1/values/username?eventSource=iam.example.com',
    );
    assert.equal(status, 200);
    const counts = new Map<string, number>();
    for (const call of calls) {
      if (call.eventSource === 'iam.example.com' && call.username !== undefined) {
        counts.set(call.username, (counts.get(call.username) ?? 0) + 1);
      }
    }
    assert.deepEqual(new Map(body.values.map((v) => [v.value, v.count])), counts);
    const resources = await getJson<{ values: { value: string; count: number }[] }>(
      collector.apiUrl,
      '/api/v1/values/resourceType',
    );
    assert.deepEqual(resources.body.values.map((v) => v.value).sort(), ['Instance', 'Policy', 'User']);
  });

  it('counts calls per time bucket, grouped by a field, zero-filled', async () => {
    const start = BASE;
    const end = BASE + 400 * 61_000;
    const { status, body } = await getJson<{
      step: number;
      series: { group?: string; points: [number, number][] }[];
    }>(collector.apiUrl, `/api/v1/stats/calls?startTime=${start}&endTime=${end}&step=3600&groupBy=eventName`);
    assert.equal(status, 200);
    assert.equal(body.series.length, NAMES.length);
    for (const series of body.series) {
      const points = series.points;
      assert.equal(points[0]![0], Math.floor(start / 3_600_000) * 3_600_000);
      for (const [bucket, count] of points) {
        const want = calls.filter(
          (c) => c.eventName === series.group && c.time >= bucket && c.time < bucket + 3_600_000,
        ).length;
        assert.equal(count, want, `${series.group} at ${new Date(bucket).toISOString()}`);
      }
    }
  });
});

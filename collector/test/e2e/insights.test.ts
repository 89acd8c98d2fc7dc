/*
 * Insights end to end: real spans through the real OTLP exporter into a collector with a real
 * SQLite file, judged by the Insights engine minute by minute, read back through the query API
 * and /metrics. The seed scenario: "CloudTrail Insights might detect that a higher number of EC2
 * instances than usual have recently launched".
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InsightRecord, StoredEvent } from '../../src/events/cloudtrail-record.js';
import { tempDir } from '../unit/builders.js';
import { getJson } from '../support/collector-process.js';
import type { Caller } from '../support/insights-harness.js';
import {
  InsightsHarness,
  MINUTE,
  callsInMinute,
  metricValue,
  seededCounts,
} from '../support/insights-harness.js';
import type { AuditCall } from '../support/otel-client.js';

const SDK: Caller = { userName: 'alice', userAgent: 'aws-sdk-js/3.600.0' };
const OPS: Caller = { userName: 'bob', userAgent: 'aws-cli/2.15.0' };
const MALLORY: Caller = { userName: 'mallory', userAgent: 'boto3/1.34.0 (scripted)' };
const EVE: Caller = { userName: 'eve', userAgent: 'curl/8.5.0' };

const RUN_INSTANCES = { eventName: 'RunInstances', eventSource: 'ec2.example.com', readOnly: false };
const DELETE_USER = { eventName: 'DeleteUser', eventSource: 'iam.example.com', readOnly: false };

/** Monday 2026-03-02 00:00 UTC; the burst comes on Thursday at 10:00. */
const HISTORY_START = Date.UTC(2026, 2, 2);
const BURST_START = HISTORY_START + 3 * 24 * 60 * MINUTE + 10 * 60 * MINUTE;
const BURST_MINUTES = 10;

interface InsightView {
  sharedEventID: string;
  eventName: string;
  insightType: string;
  state: string;
  startTime: string;
  endTime: string | null;
  start: InsightRecord | null;
  end: InsightRecord | null;
}

function usualRunInstances(minuteMs: number, count: number): AuditCall[] {
  const callers = [SDK, OPS];
  return Array.from({ length: count }, (_, i) =>
    callsInMinute(minuteMs + i * 1000, 1, { ...RUN_INSTANCES, caller: callers[i % 2] ?? SDK }),
  ).flat();
}

function topValue(
  record: InsightRecord,
  attribute: string,
  window: 'insight' | 'baseline',
): string | undefined {
  return record.insightDetails.insightContext.attributions.find((entry) => entry.attribute === attribute)?.[
    window
  ][0]?.value;
}

describe('Insights: a burst of RunInstances (the seed scenario)', () => {
  const temp = tempDir('crumbtrail-insights-');
  const dbPath = `${temp.dir}/insights.db`;
  let harness = InsightsHarness.withDatabase(dbPath);
  const transitions: StoredEvent<InsightRecord>[] = [];
  const usual = seededCounts(7);

  before(async () => {
    await harness.start();
    const calls: AuditCall[] = [];
    for (let minute = HISTORY_START; minute < BURST_START + 30 * MINUTE; minute += MINUTE) {
      calls.push(...usualRunInstances(minute, usual(1, 5)));
      const inBurst = minute >= BURST_START && minute < BURST_START + BURST_MINUTES * MINUTE;
      if (inBurst) calls.push(...callsInMinute(minute, 60, { ...RUN_INSTANCES, caller: MALLORY }));
    }
    await harness.send(calls);
    // The first evaluation judges the minute before the burst: nothing unusual.
    assert.deepEqual(await harness.evaluateThrough(BURST_START - MINUTE), []);
  });
  after(async () => {
    await harness.stop();
    temp.remove();
  });

  it('raises an ApiCallRateInsight for RunInstances two minutes into the burst', async () => {
    transitions.push(...(await harness.evaluateThrough(BURST_START)));
    assert.equal(transitions.length, 0, 'one unusual minute starts nothing');
    transitions.push(...(await harness.evaluateThrough(BURST_START + MINUTE)));
    assert.equal(transitions.length, 1);
    const start = transitions[0]?.record;
    assert.ok(start);
    assert.equal(start.eventType, 'AwsCloudTrailInsight');
    assert.equal(start.eventCategory, 'Insight');
    assert.equal(start.eventTime, new Date(BURST_START).toISOString().replace('.000Z', 'Z'));
    const details = start.insightDetails;
    assert.equal(details.state, 'Start');
    assert.equal(details.insightType, 'ApiCallRateInsight');
    assert.equal(details.eventName, 'RunInstances');
    assert.equal(details.eventSource, 'ec2.example.com');
    const { statistics } = details.insightContext;
    assert.ok(
      statistics.baseline.average > 1 && statistics.baseline.average < 5,
      `${statistics.baseline.average}`,
    );
    assert.ok(statistics.insight.average > 55, `${statistics.insight.average}`);
    assert.equal(statistics.baselineDuration, 3 * 24 * 60 + 10 * 60, 'the history there is, up to 7 days');
    assert.equal(start.crumbtrail.insight.baseline, 'seasonal');
    assert.match(start.crumbtrail.insight.summary, /RunInstances \(ec2\.example\.com\) write calls at/);
  });

  it('attributes the burst to the user who launched the instances, and the baseline to the usual callers', () => {
    const start = transitions[0]?.record;
    assert.ok(start);
    assert.equal(topValue(start, 'userIdentityArn', 'insight'), 'arn:aws:iam::111122223333:user/mallory');
    assert.equal(topValue(start, 'userAgent', 'insight'), MALLORY.userAgent);
    const baselineCallers = start.insightDetails.insightContext.attributions
      .find((entry) => entry.attribute === 'userIdentityArn')
      ?.baseline.map((entry) => entry.value)
      .sort();
    assert.deepEqual(baselineCallers, [
      'arn:aws:iam::111122223333:user/alice',
      'arn:aws:iam::111122223333:user/bob',
    ]);
    const errorCodes = start.insightDetails.insightContext.attributions.find(
      (entry) => entry.attribute === 'errorCode',
    );
    assert.deepEqual(errorCodes, { attribute: 'errorCode', insight: [], baseline: [] });
  });

  it('reports the insight as active on /metrics and in /api/v1/insights', async () => {
    transitions.push(...(await harness.evaluateThrough(BURST_START + 2 * MINUTE)));
    const labels = {
      event_source: 'ec2.example.com',
      event_name: 'RunInstances',
      insight_type: 'ApiCallRateInsight',
    };
    const metrics = await harness.metrics();
    assert.equal(metricValue(metrics, 'crumbtrail_insight_active', labels), 1);
    assert.ok((metricValue(metrics, 'crumbtrail_insight_score', labels) ?? 0) > 4);
    assert.ok((metricValue(metrics, 'crumbtrail_insight_observed', labels) ?? 0) > 55);
    assert.ok((metricValue(metrics, 'crumbtrail_insight_expected', labels) ?? 99) < 5);
    assert.equal(
      metricValue(metrics, 'crumbtrail_insight_active', { ...labels, insight_type: 'ApiErrorRateInsight' }),
      0,
    );
    const { body } = await getJson<{ insights: InsightView[] }>(
      harness.running.apiUrl,
      '/api/v1/insights?state=active',
    );
    assert.equal(body.insights.length, 1);
    const [active] = body.insights;
    assert.ok(active);
    assert.equal(active.eventName, 'RunInstances');
    assert.equal(active.endTime, null);
  });

  it('survives a restart mid-insight: the same insight goes on, no second Start', async () => {
    await harness.stop();
    harness = InsightsHarness.withDatabase(dbPath);
    harness.nowMs = BURST_START + 3 * MINUTE;
    await harness.start();
    for (let minute = BURST_START + 3 * MINUTE; minute < BURST_START + 20 * MINUTE; minute += MINUTE) {
      transitions.push(...(await harness.evaluateThrough(minute)));
    }
    assert.deepEqual(
      transitions.map((event) => event.record.insightDetails.state),
      ['Start', 'End'],
    );
  });

  it('ends once traffic is back to normal, with the whole burst in the End statistics', async () => {
    const [start, end] = transitions.map((event) => event.record);
    assert.ok(start && end);
    assert.equal(end.sharedEventID, start.sharedEventID);
    assert.notEqual(end.eventID, start.eventID);
    assert.equal(
      end.eventTime,
      new Date(BURST_START + BURST_MINUTES * MINUTE).toISOString().replace('.000Z', 'Z'),
    );
    const statistics = end.insightDetails.insightContext.statistics;
    assert.equal(statistics.insightDuration, BURST_MINUTES);
    assert.ok(statistics.insight.average > 55, `${statistics.insight.average}`);
    assert.equal(end.crumbtrail.insight.endReason, 'normal');
    assert.equal(topValue(end, 'userIdentityArn', 'insight'), 'arn:aws:iam::111122223333:user/mallory');
    const metrics = await harness.metrics();
    assert.equal(
      metricValue(metrics, 'crumbtrail_insight_active', {
        event_name: 'RunInstances',
        insight_type: 'ApiCallRateInsight',
      }),
      0,
    );
  });

  it('serves the insight pair by /api/v1/insights and its events by /api/v1/events?eventCategory=Insight', async () => {
    const range = `startTime=${BURST_START - 60 * MINUTE}&endTime=${BURST_START + 60 * MINUTE}`;
    const { status, body } = await getJson<{ insights: InsightView[]; truncated: boolean }>(
      harness.running.apiUrl,
      `/api/v1/insights?${range}&eventName=RunInstances&insightType=ApiCallRateInsight&state=ended`,
    );
    assert.equal(status, 200);
    assert.equal(body.truncated, false);
    assert.equal(body.insights.length, 1);
    const [insight] = body.insights;
    assert.ok(insight);
    assert.equal(insight.state, 'ended');
    assert.equal(insight.startTime, new Date(BURST_START).toISOString());
    assert.equal(insight.endTime, new Date(BURST_START + BURST_MINUTES * MINUTE).toISOString());
    assert.equal(insight.start?.insightDetails.state, 'Start');
    assert.equal(insight.end?.insightDetails.state, 'End');

    for (const empty of ['state=active', 'insightType=ApiErrorRateInsight', 'eventName=TerminateInstances']) {
      const other = await getJson<{ insights: InsightView[] }>(
        harness.running.apiUrl,
        `/api/v1/insights?${range}&${empty}`,
      );
      assert.deepEqual(other.body.insights, [], empty);
    }
    const before = await getJson<{ insights: InsightView[] }>(
      harness.running.apiUrl,
      `/api/v1/insights?startTime=${HISTORY_START}&endTime=${BURST_START - MINUTE}`,
    );
    assert.deepEqual(before.body.insights, []);

    const events = await getJson<{ events: InsightRecord[] }>(
      harness.running.apiUrl,
      '/api/v1/events?eventCategory=Insight',
    );
    assert.deepEqual(
      events.body.events.map((event) => event.insightDetails.state),
      ['End', 'Start'],
    );
    const calls = await getJson<{ events: unknown[] }>(
      harness.running.apiUrl,
      `/api/v1/events?eventName=RunInstances&startTime=${BURST_START}&endTime=${BURST_START + 20 * MINUTE}&maxResults=1000`,
    );
    assert.ok(calls.body.events.length > 600, 'insights are left out of lookups without eventCategory');
  });

  it('refuses bad /api/v1/insights parameters with a 400 that names them', async () => {
    for (const [query, parameter] of [
      ['insightType=ApiCallInsight', 'insightType'],
      ['state=open', 'state'],
      ['startTime=yesterday', 'startTime'],
      ['maxResults=0', 'maxResults'],
      ['eventname=RunInstances', 'eventname'],
      [`startTime=${BURST_START}&endTime=${BURST_START - MINUTE}`, 'startTime'],
    ] as const) {
      const { status, body } = await getJson<{ error: string; message: string }>(
        harness.running.apiUrl,
        `/api/v1/insights?${query}`,
      );
      assert.equal(status, 400, query);
      assert.match(body.message, new RegExp(parameter), query);
    }
  });
});

describe('Insights: an error-rate jump while the baseline is still warming up', () => {
  const temp = tempDir('crumbtrail-insights-');
  const harness = InsightsHarness.withDatabase(`${temp.dir}/errors.db`);
  const start = Date.UTC(2026, 2, 2, 8);
  const jump = start + 3 * 60 * MINUTE;
  const transitions: StoredEvent<InsightRecord>[] = [];

  before(async () => {
    await harness.start();
    const calls: AuditCall[] = [];
    for (let minute = start; minute < jump + 20 * MINUTE; minute += MINUTE) {
      const inJump = minute >= jump && minute < jump + 8 * MINUTE;
      calls.push(...callsInMinute(minute, inJump ? 8 : 19, { ...DELETE_USER, caller: SDK }));
      // One failure a minute as usual; during the jump, eve's calls are denied.
      calls.push(...callsInMinute(minute, 1, { ...DELETE_USER, caller: OPS, errorCode: 'NoSuchEntity' }));
      if (inJump)
        calls.push(...callsInMinute(minute, 11, { ...DELETE_USER, caller: EVE, errorCode: 'AccessDenied' }));
    }
    await harness.send(calls);
    await harness.evaluateThrough(jump - MINUTE);
    for (let minute = jump; minute < jump + 20 * MINUTE; minute += MINUTE) {
      transitions.push(...(await harness.evaluateThrough(minute)));
    }
  });
  after(async () => {
    await harness.stop();
    temp.remove();
  });

  it('raises one ApiErrorRateInsight (the call rate did not change) and ends it', () => {
    assert.deepEqual(
      transitions.map((event) => [
        event.record.insightDetails.insightType,
        event.record.insightDetails.state,
      ]),
      [
        ['ApiErrorRateInsight', 'Start'],
        ['ApiErrorRateInsight', 'End'],
      ],
    );
    const end = transitions[1]?.record;
    assert.equal(end?.insightDetails.insightContext.statistics.insightDuration, 8);
  });

  it('reports error fractions, the error code and the caller, and says the baseline is warming up', () => {
    const start = transitions[0]?.record;
    assert.ok(start);
    const { statistics } = start.insightDetails.insightContext;
    assert.ok(Math.abs(statistics.baseline.average - 0.05) < 0.01, `${statistics.baseline.average}`);
    assert.ok(Math.abs(statistics.insight.average - 0.6) < 0.01, `${statistics.insight.average}`);
    assert.equal(topValue(start, 'errorCode', 'insight'), 'AccessDenied');
    assert.equal(topValue(start, 'errorCode', 'baseline'), 'NoSuchEntity');
    assert.equal(topValue(start, 'userIdentityArn', 'insight'), 'arn:aws:iam::111122223333:user/eve');
    assert.equal(start.crumbtrail.insight.baseline, 'warming-up');
    assert.match(start.crumbtrail.insight.summary, /warming up/);
  });
});

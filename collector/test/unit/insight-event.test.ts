/*
 * Insight transitions as stored records (CloudTrail's AwsCloudTrailInsight shape, deterministic
 * IDs, a summary a person can act on), and stored records paired back into insights.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { InsightAttribution, InsightRecord } from '../../src/events/cloudtrail-record.js';
import type { InsightEventInput } from '../../src/insights/insight-event.js';
import { insightEvent } from '../../src/insights/insight-event.js';
import { pairInsightRecords } from '../../src/insights/insight-history.js';
import { MINUTE_MS } from '../../src/insights/insight-settings.js';
import type { InsightFigures, InsightTransition } from '../../src/insights/series-detector.js';

/** 2024-03-05 10:00 UTC, in minutes since the epoch. */
const START = Date.UTC(2024, 2, 5, 10) / MINUTE_MS;

const ATTRIBUTIONS: InsightAttribution[] = [
  {
    attribute: 'userIdentityArn',
    insight: [{ value: 'arn:example:iam::1:user/mallory', average: 38 }],
    baseline: [{ value: 'arn:example:iam::1:user/alice', average: 1.5 }],
  },
  { attribute: 'userAgent', insight: [{ value: 'curl/8.5.0', average: 38 }], baseline: [] },
  { attribute: 'errorCode', insight: [], baseline: [] },
];

function figures(overrides: Partial<InsightFigures> = {}): InsightFigures {
  return {
    startMinute: START,
    endMinute: START + 2,
    insightAverage: 40,
    baselineAverage: 2,
    peakScore: 12.5,
    baselineKind: 'seasonal',
    callsPerMinute: 40,
    ...overrides,
  };
}

function input(
  transition: InsightTransition,
  overrides: Partial<Omit<InsightEventInput, 'transition'>> = {},
): InsightEventInput {
  return {
    subject: { eventSource: 'ec2.example.com', eventName: 'RunInstances', type: 'ApiCallRateInsight' },
    transition,
    attributions: ATTRIBUTIONS,
    baselineMinutes: 10_080,
    threshold: 4,
    countsReadCalls: false,
    ...overrides,
  };
}

function start(overrides: Partial<InsightFigures> = {}): InsightTransition {
  return { state: 'Start', figures: figures(overrides) };
}

function end(
  overrides: Partial<InsightFigures> = {},
  reason: 'normal' | 'max-duration' = 'normal',
): InsightTransition {
  return { state: 'End', figures: figures({ endMinute: START + 25, ...overrides }), reason };
}

describe('insightEvent', () => {
  it('builds an AwsCloudTrailInsight Start record', () => {
    const event = insightEvent(input(start()));
    const { record } = event;
    assert.equal(record.eventType, 'AwsCloudTrailInsight');
    assert.equal(record.eventCategory, 'Insight');
    assert.equal(record.eventVersion, '1.11');
    assert.equal(record.eventTime, '2024-03-05T10:00:00Z');
    assert.equal(event.eventTimeMs, START * MINUTE_MS);
    assert.equal(event.username, undefined);
    assert.equal(typeof record.eventID, 'string');
    assert.equal(typeof record.sharedEventID, 'string');
    assert.notEqual(record.eventID, record.sharedEventID);

    const details = record.insightDetails;
    assert.equal(details.state, 'Start');
    assert.equal(details.eventSource, 'ec2.example.com');
    assert.equal(details.eventName, 'RunInstances');
    assert.equal(details.insightType, 'ApiCallRateInsight');
    assert.deepEqual(details.insightContext.statistics, {
      baseline: { average: 2 },
      insight: { average: 40 },
      baselineDuration: 10_080,
    });
    assert.deepEqual(details.insightContext.attributions, ATTRIBUTIONS);

    const explanation = record.crumbtrail.insight;
    assert.equal(record.crumbtrail.origin, 'insights');
    assert.equal(explanation.score, 12.5);
    assert.equal(explanation.threshold, 4);
    assert.equal(explanation.baseline, 'seasonal');
    assert.equal(explanation.callsPerMinute, 40);
    assert.equal(explanation.endReason, undefined);
    // A record is stored as JSON: nothing in it may be lost on the way.
    assert.deepEqual(JSON.parse(JSON.stringify(record)), record);
  });

  it('builds an End record at the end minute, with the duration and why it ended', () => {
    const { record, eventTimeMs } = insightEvent(input(end({}, 'max-duration')));
    assert.equal(record.insightDetails.state, 'End');
    assert.equal(record.eventTime, '2024-03-05T10:25:00Z');
    assert.equal(eventTimeMs, (START + 25) * MINUTE_MS);
    assert.equal(record.insightDetails.insightContext.statistics.insightDuration, 25);
    assert.equal(record.crumbtrail.insight.endReason, 'max-duration');
  });

  it('a Start and the End of the same insight share a sharedEventID and have different eventIDs', () => {
    const started = insightEvent(input(start())).record;
    // The End's averages cover the whole insight: they differ from the Start's.
    const ended = insightEvent(input(end({ insightAverage: 31, peakScore: 20 }))).record;
    assert.equal(started.sharedEventID, ended.sharedEventID);
    assert.notEqual(started.eventID, ended.eventID);
  });

  it('IDs are deterministic: the same insight twice gives the same IDs, another insight others', () => {
    const first = insightEvent(input(start())).record;
    const again = insightEvent(input(start())).record;
    assert.equal(again.eventID, first.eventID);
    assert.equal(again.sharedEventID, first.sharedEventID);
    assert.deepEqual(again, first);

    const others = [
      insightEvent(input(start({ startMinute: START + 1, endMinute: START + 3 }))).record,
      insightEvent(
        input(start(), {
          subject: {
            eventSource: 'ec2.example.com',
            eventName: 'TerminateInstances',
            type: 'ApiCallRateInsight',
          },
        }),
      ).record,
      insightEvent(
        input(start(), {
          subject: { eventSource: 'ec2.example.com', eventName: 'RunInstances', type: 'ApiErrorRateInsight' },
        }),
      ).record,
    ];
    const ids = new Set([first.eventID, ...others.map((record) => record.eventID)]);
    const shared = new Set([first.sharedEventID, ...others.map((record) => record.sharedEventID)]);
    assert.equal(ids.size, 4);
    assert.equal(shared.size, 4);
  });

  it('the summary names the API and gives the observed and expected rates', () => {
    const { summary } = insightEvent(input(start())).record.crumbtrail.insight;
    assert.match(summary, /RunInstances/);
    assert.match(summary, /ec2\.example\.com/);
    assert.match(summary, /40\/min/);
    assert.match(summary, /2\/min/);
    assert.match(summary, /2024-03-05 10:00/);
    assert.doesNotMatch(summary, /warming up/i);

    const ended = insightEvent(input(end({ insightAverage: 31.5, baselineAverage: 2.25 }))).record;
    assert.match(ended.crumbtrail.insight.summary, /31\.5\/min/);
    assert.match(ended.crumbtrail.insight.summary, /2\.25\/min/);
    assert.match(ended.crumbtrail.insight.summary, /25 min/);
  });

  it('says when the baseline was still warming up', () => {
    const { record } = insightEvent(input(start({ baselineKind: 'warming-up' })));
    assert.equal(record.crumbtrail.insight.baseline, 'warming-up');
    assert.match(record.crumbtrail.insight.summary, /warming up/i);
  });

  it('gives error rates as fractions in the statistics and as percentages in the summary', () => {
    const { record } = insightEvent(
      input(start({ insightAverage: 0.5, baselineAverage: 0.005 }), {
        subject: { eventSource: 'iam.example.com', eventName: 'DeleteUser', type: 'ApiErrorRateInsight' },
      }),
    );
    assert.equal(record.insightDetails.insightType, 'ApiErrorRateInsight');
    assert.equal(record.insightDetails.insightContext.statistics.insight.average, 0.5);
    assert.equal(record.insightDetails.insightContext.statistics.baseline.average, 0.005);
    assert.match(record.crumbtrail.insight.summary, /DeleteUser/);
    assert.match(record.crumbtrail.insight.summary, /50% errors/);
    assert.match(record.crumbtrail.insight.summary, /0\.5% errors/);
  });

  it('tells write-call insights from all-call insights', () => {
    const writes = insightEvent(input(start())).record.crumbtrail.insight.summary;
    const all = insightEvent(input(start(), { countsReadCalls: true })).record.crumbtrail.insight.summary;
    assert.match(writes, /write calls/);
    assert.doesNotMatch(all, /write calls/);
  });
});

describe('pairInsightRecords', () => {
  function records(
    startMinute: number,
    endMinute: number | undefined,
    eventName = 'RunInstances',
  ): InsightRecord[] {
    const subject = { eventSource: 'ec2.example.com', eventName, type: 'ApiCallRateInsight' } as const;
    const span = { startMinute, endMinute: endMinute ?? startMinute + 2 };
    const started = insightEvent(input(start(span), { subject })).record;
    if (endMinute === undefined) return [started];
    return [started, insightEvent(input(end(span), { subject })).record];
  }

  it('pairs a Start with its End', () => {
    const [started, ended] = records(START, START + 25);
    assert.ok(started !== undefined && ended !== undefined);
    const items = pairInsightRecords([ended, started]);
    assert.equal(items.length, 1);
    const [item] = items;
    assert.ok(item !== undefined);
    assert.equal(item.sharedEventID, started.sharedEventID);
    assert.equal(item.state, 'ended');
    assert.equal(item.eventSource, 'ec2.example.com');
    assert.equal(item.eventName, 'RunInstances');
    assert.equal(item.insightType, 'ApiCallRateInsight');
    assert.equal(item.startMinute, START);
    assert.equal(item.endMinute, START + 25);
    assert.equal(item.start, started);
    assert.equal(item.end, ended);
  });

  it('a Start without an End is active', () => {
    const items = pairInsightRecords(records(START, undefined));
    assert.equal(items.length, 1);
    assert.ok(items[0] !== undefined);
    assert.equal(items[0].state, 'active');
    assert.equal(items[0].startMinute, START);
    assert.equal(items[0].endMinute, undefined);
    assert.equal(items[0].end, undefined);
  });

  it('an End whose Start was not read still knows when the insight began', () => {
    const [, ended] = records(START, START + 25);
    assert.ok(ended !== undefined);
    const items = pairInsightRecords([ended]);
    assert.equal(items.length, 1);
    assert.ok(items[0] !== undefined);
    assert.equal(items[0].state, 'ended');
    assert.equal(items[0].start, undefined);
    assert.equal(items[0].startMinute, START);
    assert.equal(items[0].endMinute, START + 25);
  });

  it('keeps insights apart and lists the newest first', () => {
    const items = pairInsightRecords([
      ...records(START, START + 10),
      ...records(START + 60, undefined),
      ...records(START + 5, START + 30, 'TerminateInstances'),
    ]);
    assert.deepEqual(
      items.map((item) => [item.eventName, item.startMinute, item.state]),
      [
        ['RunInstances', START + 60, 'active'],
        ['TerminateInstances', START + 5, 'ended'],
        ['RunInstances', START, 'ended'],
      ],
    );
    assert.equal(new Set(items.map((item) => item.sharedEventID)).size, 3);
  });

  it('pairs nothing out of nothing', () => {
    assert.deepEqual(pairInsightRecords([]), []);
  });
});

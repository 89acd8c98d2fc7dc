/*
 * Collectors sharing a database take turns at Insights. The LeaseKeeper holds only while its lease
 * is known to be valid; an engine standing by writes nothing and keeps no per-API state; the one
 * taking over mid-insight goes on from its predecessor's progress, so the insight events are the
 * ones a single collector would have written (same ids, one Start, one End). Two engines on one
 * real SQLite file stand for two collectors on one database; the lease itself is tested on real
 * ClickHouse engines (clickhouse-engine-tests.ts) and across collector processes
 * (e2e/clickhouse-collectors.test.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';

import type { InsightRecord, StoredEvent } from '../../src/events/cloudtrail-record.js';
import { InsightEngine } from '../../src/insights/insight-engine.js';
import { DEFAULT_DETECTOR_SETTINGS } from '../../src/insights/insight-settings.js';
import type { LeaseGrant, Leadership } from '../../src/insights/insights-leadership.js';
import { LeaseKeeper } from '../../src/insights/insights-leadership.js';
import { InsightMetrics } from '../../src/metrics/insight-metrics.js';
import type { EventStore } from '../../src/store/event-store.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { storedEvent, tempDir } from './builders.js';

const MINUTE = 60_000;
const LATENESS_MS = 15_000;
const SILENT = pino({ level: 'silent' });
/** Monday 2026-03-02; the burst on Thursday at 10:00. */
const HISTORY_START = Date.UTC(2026, 2, 2);
const BURST_START = HISTORY_START + (3 * 24 * 60 + 10 * 60) * MINUTE;

describe('the insights lease keeper', () => {
  it('holds while its lease is valid, keeps it through a failed renewal, and lets go when it lapses', async () => {
    let now = 1_000_000;
    let answer: () => Promise<LeaseGrant | undefined> = () =>
      Promise.resolve({ term: 3, validUntilMs: now + 30_000 });
    const keeper = new LeaseKeeper(
      { tryAcquire: () => answer() },
      { renewMs: 3_600_000, now: () => now },
      SILENT,
    );
    assert.equal(keeper.holds(), false, 'not before the first claim');
    await keeper.start();
    try {
      assert.equal(keeper.holds(), true);
      assert.equal(keeper.term, 3);
      answer = () => Promise.reject(new Error('ClickHouse is unavailable'));
      now += 20_000;
      await keeper.renewNow();
      assert.equal(keeper.holds(), true, 'the lease granted 20 s ago is still valid');
      now += 10_000;
      assert.equal(keeper.holds(), false, 'lapsed: another collector may hold it now');
      assert.equal(keeper.term, undefined);
      answer = () => Promise.resolve({ term: 4, validUntilMs: now + 30_000 });
      await keeper.renewNow();
      assert.equal(keeper.term, 4);
      answer = () => Promise.resolve(undefined);
      await keeper.renewNow();
      assert.equal(keeper.holds(), false, 'another collector took it');
    } finally {
      await keeper.stop();
    }
  });
});

/** Three days of 1–5 RunInstances a minute, then 10 minutes of 60 more, then quiet again. */
function traffic(): StoredEvent[] {
  const events: StoredEvent[] = [];
  let state = 7;
  for (let minute = HISTORY_START; minute < BURST_START + 30 * MINUTE; minute += MINUTE) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const inBurst = minute >= BURST_START && minute < BURST_START + 10 * MINUTE;
    const count = 1 + (state % 5) + (inBurst ? 60 : 0);
    for (let i = 0; i < count; i++) {
      events.push(
        storedEvent({
          timeMs: minute + Math.floor((i * MINUTE) / count),
          eventName: 'RunInstances',
          eventSource: 'ec2.example.com',
        }),
      );
    }
  }
  return events;
}

class Collector {
  readonly registry = new Registry();
  readonly engine: InsightEngine;
  nowMs = 0;

  constructor(store: EventStore, leadership: Leadership) {
    this.engine = new InsightEngine(
      store,
      new InsightMetrics(this.registry),
      {
        settings: DEFAULT_DETECTOR_SETTINGS,
        countsReadCalls: false,
        latenessMs: LATENESS_MS,
        intervalMs: 3_600_000,
        maxSeries: 1000,
        maxCatchUpMinutes: 60,
        now: () => this.nowMs,
        leadership,
      },
      SILENT,
    );
  }

  evaluateThrough(minuteMs: number): Promise<StoredEvent<InsightRecord>[]> {
    this.nowMs = minuteMs + MINUTE + LATENESS_MS;
    return this.engine.evaluateDue();
  }

  async metric(name: string): Promise<number[]> {
    const metric = await this.registry.getSingleMetric(name)?.get();
    return (metric?.values ?? []).map((sample) => sample.value);
  }
}

function identity(event: StoredEvent<InsightRecord>): string {
  const { eventID, sharedEventID, eventTime, insightDetails } = event.record;
  return JSON.stringify({ eventID, sharedEventID, eventTime, insightDetails });
}

describe('Insights on collectors that take turns', () => {
  const temp = tempDir('crumbtrail-leadership-');
  const events = traffic();
  // Evaluated from three hours before: the level and sustained window a takeover rebuilds are full.
  const FIRST = BURST_START - 180 * MINUTE;
  const LAST = BURST_START + 20 * MINUTE;
  const expected: StoredEvent<InsightRecord>[] = [];
  before(async () => {
    const alone = new SqliteEventStore({ path: join(temp.dir, 'alone.db') });
    try {
      await alone.insert(events);
      const single = new Collector(alone, { holds: () => true });
      for (let minute = FIRST; minute <= LAST; minute += MINUTE) {
        expected.push(...(await single.evaluateThrough(minute)));
      }
    } finally {
      await alone.close();
    }
    assert.deepEqual(
      expected.map((event) => event.record.insightDetails.state),
      ['Start', 'End'],
    );
  });
  after(() => {
    temp.remove();
  });

  /** a evaluates until `handover`, b from then on: the events each wrote. */
  async function takingTurns(handover: number, name: string): Promise<{ byA: string[]; byB: string[] }> {
    const shared = new SqliteEventStore({ path: join(temp.dir, `${name}.db`) });
    try {
      await shared.insert(events);
      let holder: 'a' | 'b' = 'a';
      const a = new Collector(shared, { holds: () => holder === 'a' });
      const b = new Collector(shared, { holds: () => holder === 'b' });
      const byA: StoredEvent<InsightRecord>[] = [];
      const byB: StoredEvent<InsightRecord>[] = [];
      for (let minute = FIRST; minute <= LAST; minute += MINUTE) {
        if (minute === handover) holder = 'b';
        byA.push(...(await a.evaluateThrough(minute)));
        byB.push(...(await b.evaluateThrough(minute)));
        if (minute === handover - MINUTE) {
          assert.deepEqual(await b.metric('crumbtrail_insights_evaluating'), [0]);
          assert.deepEqual(
            await b.metric('crumbtrail_insight_active'),
            [],
            'a standby reports no per-API state',
          );
          assert.deepEqual(
            await b.metric('crumbtrail_insight_last_evaluated_timestamp_seconds'),
            [minute / 1000],
            "the holder's progress",
          );
        }
      }
      assert.deepEqual(await a.metric('crumbtrail_insights_evaluating'), [0]);
      assert.deepEqual(await a.metric('crumbtrail_insight_active'), [], 'a dropped its per-API state');
      assert.deepEqual(await b.metric('crumbtrail_insights_evaluating'), [1]);
      const stored = await shared.lookup({ filter: { fields: { eventCategory: ['Insight'] } }, limit: 50 });
      assert.equal(stored.records.length, 2, 'one Start and one End in the shared store');
      return { byA: byA.map(identity), byB: byB.map(identity) };
    } finally {
      await shared.close();
    }
  }

  it('writes what a single collector would when the lease moves between the first unusual minute and the Start', async () => {
    const { byA, byB } = await takingTurns(BURST_START + MINUTE, 'pending');
    assert.deepEqual(byA, []);
    assert.deepEqual(byB, expected.map(identity), 'b raised the Start a would have raised, and its End');
  });

  it('writes what a single collector would when the lease moves mid-insight', async () => {
    const { byA, byB } = await takingTurns(BURST_START + 3 * MINUTE, 'active');
    assert.deepEqual(byA, expected.slice(0, 1).map(identity), 'a raised the Start');
    assert.deepEqual(byB, expected.slice(1).map(identity), 'b ended the same insight, with the same figures');
  });

  it('writes what a single collector would when the lease moves while the insight is ending', async () => {
    const { byA, byB } = await takingTurns(BURST_START + 12 * MINUTE, 'ending');
    assert.deepEqual(byA, expected.slice(0, 1).map(identity));
    assert.deepEqual(byB, expected.slice(1).map(identity));
  });
});

/*
 * The RunInstances burst (--burst-at, --burst-minutes, --burst-rate, --burst-user) through the
 * real compute service into the real collector, in a demo that stops by itself (--live-minutes).
 * The burst is a few seconds at a high rate here; what matters is the rate the collector counts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CollectorProcess } from '../../../collector/test/support/collector-process.js';
import { startCollectorProcess } from '../../../collector/test/support/collector-process.js';
import { callCount } from './support/collector-queries.js';
import type { Milestone } from './support/demo-process.js';
import { field, isNumber, isString, runDemoToEnd } from './support/demo-process.js';

const BURST_RATE = 600;
const BURST_MINUTES = 0.1;

describe('demo: a RunInstances burst', () => {
  let collector: CollectorProcess;
  let milestones: Milestone[];

  before(async () => {
    collector = await startCollectorProcess();
    milestones = await runDemoToEnd([
      ...['--otlp', collector.otlpUrl, '--backfill-days', '0', '--live-minutes', '0.2', '--rate', '0.5'],
      ...['--burst-at', '0.02', '--burst-minutes', String(BURST_MINUTES), '--burst-rate', String(BURST_RATE)],
      ...['--burst-user', 'ci-bot'],
    ]);
  });

  after(async () => {
    await collector.stop();
  });

  function milestone(msg: string): Milestone {
    const found = milestones.find((line) => line.msg === msg);
    assert.ok(found, `the demo printed "${msg}"`);
    return found;
  }

  it('announces the burst and its end, and stops by itself after --live-minutes', () => {
    const started = milestone('burst started');
    assert.equal(started.eventName, 'RunInstances');
    assert.equal(started.eventSource, 'compute.example.com');
    assert.equal(started.userName, 'ci-bot');
    assert.equal(started.callsPerMinute, BURST_RATE);
    assert.equal(milestone('burst ended').calls, BURST_RATE * BURST_MINUTES);
    assert.equal(milestones.at(-1)?.msg, 'demo stopped');
  });

  it('makes the collector count the burst rate of RunInstances by the burst user', async () => {
    const started = milestone('burst started');
    const fromMs = Date.parse(field(started, 'fromTime', isString));
    const toMs = Date.parse(field(started, 'toTime', isString));
    const calls = await callCount(collector.apiUrl, {
      eventName: 'RunInstances',
      username: 'ci-bot',
      startTime: fromMs,
      // The last call is sent just before toTime; its event is when it was answered.
      endTime: toMs + 2_000,
      step: 1,
    });
    const perMinute = calls / BURST_MINUTES;
    assert.ok(perMinute >= BURST_RATE * 0.9, `${perMinute} RunInstances per minute`);
    const answered = field(milestone('live traffic stopped'), 'answeredCalls', isNumber);
    assert.ok(answered >= calls);
  });
});

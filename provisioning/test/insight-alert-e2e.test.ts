/*
 * The whole alerting path with real parts, on 127.0.0.1: the real collector process, the demo's
 * instrumented services and traffic generator, and a real Prometheus (Debian's) scraping the
 * collector and evaluating the repository's own alert rules.
 *
 * The demo backfills three days of history (so Insights has a seasonal baseline at once), then
 * sends live traffic with a RunInstances burst. The test asserts that the collector raises the
 * insight, that Prometheus scrapes crumbtrail_insight_active == 1 and its CrumbtrailUnusualCallRate
 * alert goes pending then firing, and that the insight ends, and the alert resolves, once traffic
 * is back to normal.
 *
 * Real time is the one thing shortened: the collector evaluates every 5 s, judges a minute 5 s
 * after it ends, and starts and ends an insight after one minute (production: 2 and 5). The alert
 * rule's own `for: 1m` is kept, so the test takes about six and a half minutes, screenshots of the plugin included.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CollectorProcess } from '../../collector/test/support/collector-process.js';
import { startCollectorProcess } from '../../collector/test/support/collector-process.js';
import { exitOf, killedOnExit } from '../../collector/test/support/child-processes.js';
import type { DemoProcess } from '../../instrumentation/test/demo/support/demo-process.js';
import { startDemo } from '../../instrumentation/test/demo/support/demo-process.js';
import type { InsightSummary } from '../../plugin/src/shared/cloudtrail-record.js';
import type { PrometheusServer } from './support/prometheus-server.js';
import { startPrometheus } from './support/prometheus-server.js';

const REPO = resolve(import.meta.dirname, '../..');
const RULES = resolve(REPO, 'provisioning/prometheus/rules/crumbtrail.rules.yml');
const SCREENSHOTS = resolve(REPO, 'plugin/harness/stack-screenshots.ts');
const SCREENSHOT_DIRECTORY = resolve(REPO, 'screenshots/stack-e2e');

const BURST = { eventName: 'RunInstances', eventSource: 'compute.example.com', minutes: 4 };
const ACTIVE = `crumbtrail_insight_active{event_name="${BURST.eventName}",insight_type="ApiCallRateInsight"}`;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface StackScreenshots {
  dark: string;
  light: string;
  rows: number;
  regions: { title: string; startMs: number; endMs: number }[];
}

/**
 * The plugin's harness page (real editor, event history and call-rate chart with insight regions)
 * in headless Chromium against this collector, screenshotted in both themes. It runs in a process of
 * its own: the plugin's code builds under the plugin's own TypeScript settings.
 */
async function captureScreenshots(
  collectorUrl: string,
  fromMs: number,
  toMs: number,
): Promise<StackScreenshots> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      SCREENSHOTS,
      '--collector-url',
      collectorUrl,
      '--from',
      new Date(fromMs).toISOString(),
      '--to',
      new Date(toMs).toISOString(),
      '--directory',
      SCREENSHOT_DIRECTORY,
      '--name-prefix',
      'insight-burst',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  killedOnExit(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await exitOf(child);
  if (code !== 0) throw new Error(`stack screenshots failed (${code}): ${stderr}`);
  const lastLine = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(lastLine) as StackScreenshots;
}

/** Polls `read` until it returns a value, or fails naming what it waited for. */
async function eventually<T>(
  what: string,
  timeoutMs: number,
  read: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 2 * SECOND));
  }
  throw new Error(
    `timed out waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}

describe('an API call burst becomes an insight and a firing Prometheus alert', () => {
  let collector: CollectorProcess;
  let prometheus: PrometheusServer;
  let demo: DemoProcess;

  before(async () => {
    collector = await startCollectorProcess({
      args: [
        '--insights-interval-seconds',
        '5',
        '--insights-lateness-seconds',
        '5',
        '--insights-start-after',
        '1',
        '--insights-end-after',
        '1',
      ],
    });
    prometheus = await startPrometheus({ targets: [new URL(collector.apiUrl).host], ruleFiles: [RULES] });
    demo = startDemo([
      '--otlp',
      collector.otlpUrl,
      '--seed',
      '11',
      '--backfill-days',
      '3',
      '--burst-at',
      '1',
      '--burst-minutes',
      String(BURST.minutes),
      '--burst-rate',
      '90',
      '--summary-seconds',
      '600',
    ]);
  });

  after(async () => {
    // `before` may have failed part way: stop what was started.
    const started = [
      demo as DemoProcess | undefined,
      prometheus as PrometheusServer | undefined,
      collector as CollectorProcess | undefined,
    ];
    for (const part of started) await part?.stop();
  });

  it('backfills a baseline, raises the insight, fires the alert, and ends both after the burst', async () => {
    const backfill = await demo.milestone('backfill done', 3 * MINUTE);
    assert.ok(Number(backfill.events) > 10_000, `a baseline of three days: ${JSON.stringify(backfill)}`);
    await demo.milestone('burst started', 3 * MINUTE);

    // The collector raises the insight from the burst's first unusual minute.
    const started = await eventually('the collector to raise the insight', 4 * MINUTE, async () => {
      const response = await fetch(
        `${collector.apiUrl}/api/v1/insights?state=active&eventName=${BURST.eventName}`,
      );
      const body = (await response.json()) as { insights: InsightSummary[] };
      return body.insights[0];
    });
    assert.equal(started.eventSource, BURST.eventSource);
    assert.equal(started.insightType, 'ApiCallRateInsight');
    assert.ok(
      started.insightAverage > 3 * started.baselineAverage,
      `observed ${started.insightAverage}/min against a baseline of ${started.baselineAverage}/min`,
    );

    // Prometheus scrapes the gauge, and the alert rule users deploy goes pending, then firing.
    assert.equal(
      await eventually('Prometheus to scrape active == 1', MINUTE, () =>
        prometheus.instantValue(ACTIVE).then((v) => (v === 1 ? v : undefined)),
      ),
      1,
    );
    const firing = await eventually('CrumbtrailUnusualCallRate to fire', 3 * MINUTE, async () =>
      (await prometheus.alerts()).find(
        (alert) =>
          alert.labels.alertname === 'CrumbtrailUnusualCallRate' &&
          alert.labels.event_name === BURST.eventName &&
          alert.state === 'firing',
      ),
    );
    assert.equal(firing.labels.event_source, BURST.eventSource);
    assert.equal(firing.labels.api, `${BURST.eventSource}/${BURST.eventName}`);
    assert.match(
      firing.annotations.summary ?? '',
      /Unusual API call rate: RunInstances on compute\.example\.com/,
    );

    // Traffic back to normal: the insight ends, the gauge drops and the alert resolves.
    await demo.milestone('burst ended', (BURST.minutes + 2) * MINUTE);
    const ended = await eventually('the insight to end', 4 * MINUTE, async () => {
      const response = await fetch(
        `${collector.apiUrl}/api/v1/insights?state=ended&eventName=${BURST.eventName}`,
      );
      const body = (await response.json()) as { insights: InsightSummary[] };
      return body.insights.find((insight) => insight.startTime === started.startTime);
    });
    assert.ok(ended.endTime !== null && Date.parse(ended.endTime) > Date.parse(ended.startTime));
    await eventually('Prometheus to scrape active == 0', MINUTE, () =>
      prometheus.instantValue(ACTIVE).then((value) => (value === 0 ? value : undefined)),
    );
    await eventually('the alert to resolve', MINUTE, async () => {
      const alerts = await prometheus.alerts();
      return alerts.some((alert) => alert.labels.alertname === 'CrumbtrailUnusualCallRate')
        ? undefined
        : true;
    });

    // The plugin shows it: the event history, and the insight as a region on the call-rate chart.
    const startMs = Date.parse(ended.startTime);
    const shots = await captureScreenshots(collector.apiUrl, startMs - 30 * MINUTE, Date.now());
    assert.ok(shots.rows > 0, 'the event history shows events');
    assert.ok(
      shots.regions.some((region) => region.title.includes(BURST.eventName) && region.startMs === startMs),
      `the insight's region is drawn: ${JSON.stringify(shots.regions)}`,
    );
  });
});

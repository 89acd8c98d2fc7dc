/*
 * Replaying API traffic through a real collector for Insights tests: spans made by the real
 * OpenTelemetry tracer and sent by the real OTLP exporter to an in-process collector (real SQLite
 * file, real query API), whose Insights clock the test moves minute by minute. Only the clock is
 * not real: days of traffic are replayed in seconds.
 */
import type { Attributes } from '@opentelemetry/api';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CollectorConfig } from '../../src/config.js';
import { DEFAULT_CONFIG } from '../../src/config.js';
import type { InsightRecord, StoredEvent } from '../../src/events/cloudtrail-record.js';
import type { RunningCollector } from '../../src/collector-service.js';
import { startCollector } from '../../src/collector-service.js';
import type { AuditCall } from './otel-client.js';
import { exportOrFail, exporterFor, makeSpans } from './otel-client.js';

export const MINUTE = 60_000;
const LATENESS_MS = 15_000;
const SPANS_PER_EXPORT = 2000;

export interface Caller {
  userName: string;
  userAgent: string;
}

export function callerAttributes(caller: Caller): Attributes {
  return {
    [A.ATTR_USER_NAME]: caller.userName,
    [A.ATTR_CRUMBTRAIL_IDENTITY_ARN]: `arn:aws:iam::111122223333:user/${caller.userName}`,
    [A.ATTR_USER_AGENT_ORIGINAL]: caller.userAgent,
  };
}

export interface ApiCallSpec {
  eventName: string;
  eventSource: string;
  readOnly: boolean;
  caller: Caller;
  errorCode?: string;
}

/** `count` calls spread over the minute starting at `minuteMs`. */
export function callsInMinute(minuteMs: number, count: number, spec: ApiCallSpec): AuditCall[] {
  return Array.from({ length: count }, (_, i) => ({
    time: new Date(minuteMs + Math.floor(((i + 0.5) * MINUTE) / count)),
    attributes: {
      [A.ATTR_CRUMBTRAIL_EVENT_NAME]: spec.eventName,
      [A.ATTR_CRUMBTRAIL_EVENT_SOURCE]: spec.eventSource,
      [A.ATTR_CRUMBTRAIL_READ_ONLY]: spec.readOnly,
      ...callerAttributes(spec.caller),
      ...(spec.errorCode === undefined ? {} : { [A.ATTR_CRUMBTRAIL_ERROR_CODE]: spec.errorCode }),
    },
  }));
}

/** A small deterministic generator: the same "random" traffic on every run. */
export function seededCounts(seed: number): (low: number, high: number) => number {
  let state = seed >>> 0;
  return (low, high) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return low + (state % (high - low + 1));
  };
}

export class InsightsHarness {
  nowMs = 0;
  collector: RunningCollector | undefined;

  constructor(private readonly config: CollectorConfig) {}

  static withDatabase(dbPath: string, overrides: Partial<CollectorConfig> = {}): InsightsHarness {
    return new InsightsHarness({
      ...DEFAULT_CONFIG,
      host: '127.0.0.1',
      otlpPort: 0,
      apiPort: 0,
      dbPath,
      logLevel: 'silent',
      // The traffic is dated 2026-03-02 and later: kept whatever today's date, which 90 days would not.
      retentionDays: 36_500,
      ...overrides,
      // The test moves the clock and asks for evaluations; the timer must not race it.
      insights: { ...DEFAULT_CONFIG.insights, intervalMs: 3_600_000, latenessMs: LATENESS_MS },
    });
  }

  get running(): RunningCollector {
    if (this.collector === undefined) throw new Error('collector not started');
    return this.collector;
  }

  async start(): Promise<void> {
    this.collector = await startCollector(this.config, { now: () => this.nowMs });
  }

  async stop(): Promise<void> {
    await this.collector?.stop();
    this.collector = undefined;
  }

  async send(calls: readonly AuditCall[]): Promise<void> {
    const exporter = exporterFor('protobuf', this.running.otlpUrl);
    const spans = makeSpans(calls, { 'service.name': 'replay' });
    for (let i = 0; i < spans.length; i += SPANS_PER_EXPORT) {
      await exportOrFail(exporter, spans.slice(i, i + SPANS_PER_EXPORT));
    }
    await exporter.shutdown();
  }

  /** Moves the clock to just after `minuteMs` ends (plus lateness) and evaluates. */
  async evaluateThrough(minuteMs: number): Promise<StoredEvent<InsightRecord>[]> {
    this.nowMs = minuteMs + MINUTE + LATENESS_MS;
    const engine = this.running.insights;
    if (engine === undefined) throw new Error('Insights is disabled');
    return engine.evaluateDue();
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.running.apiUrl}/metrics`)).text();
  }
}

/** The value of one labelled sample in Prometheus text, or undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const matches = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

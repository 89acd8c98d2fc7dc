/*
 * Insights, evaluated every minute: for each API (event source + name) and insight type, a
 * SeriesDetector judges the newest complete minute against its baseline, read from the store's
 * per-minute counts (so an evaluation costs a few range reads per minute, whatever the number of
 * stored events). Transitions become insight events in the store and every series' state goes to
 * /metrics. Progress is kept in the store: after a restart the engine rebuilds each detector from
 * the stored insights and goes on from the last evaluated minute. Collectors sharing a database take
 * turns (insights-leadership.ts): a standby keeps no detector state, and the one taking over
 * restores it from the store like a restart, so it goes on from its predecessor's last minute.
 */
import type { Logger } from 'pino';
import type { InsightRecord, StoredEvent } from '../events/cloudtrail-record.js';
import type { InsightMetrics } from '../metrics/insight-metrics.js';
import type { ApiSeries, EventStore, MinuteCount, MinuteRange } from '../store/event-store.js';
import { attributionsFor } from './attributions.js';
import type { MinuteCounts } from './baseline-samples.js';
import { insightEvent } from './insight-event.js';
import type { Leadership } from './insights-leadership.js';
import { SOLE_EVALUATOR } from './insights-leadership.js';
import type { InsightSubject } from './insight-event.js';
import { readInsightHistory } from './insight-history.js';
import type { DetectorSettings, InsightType } from './insight-settings.js';
import { INSIGHT_TYPES, MINUTE_MS, MINUTES_PER_DAY } from './insight-settings.js';
import type { DetectorSnapshot, InsightFigures, InsightSpan, InsightTransition } from './series-detector.js';
import { SeriesDetector, historyReplayMinutes } from './series-detector.js';

export interface InsightEngineOptions {
  settings: DetectorSettings;
  /** Count read calls in ApiCallRateInsight too (CloudTrail: write calls only). */
  countsReadCalls: boolean;
  /** How long after a minute ends before it is judged, so that late exports are in. */
  latenessMs: number;
  /** How often to look for minutes to judge. */
  intervalMs: number;
  /** APIs tracked at most (bounds memory and /metrics label sets). */
  maxSeries: number;
  /** After downtime, at most this many missed minutes are judged; older ones only feed baselines. */
  maxCatchUpMinutes: number;
  now: () => number;
  /** Whether this collector evaluates now (collectors sharing a database take turns); always, by default. */
  leadership?: Leadership;
}

const PROGRESS_STATE = 'insights.lastEvaluatedMinute';

/**
 * The progress state: the last evaluated minute, and the snapshots of the detectors with a pending
 * or active insight then, in one value so that they cannot disagree after a crash. A bare number
 * (what older versions wrote, and what is written while nothing is pending) has no snapshots.
 */
interface Progress {
  minute: number;
  detectors: Record<string, DetectorSnapshot>;
}

function progressText(progress: Progress): string {
  return Object.keys(progress.detectors).length === 0 ? String(progress.minute) : JSON.stringify(progress);
}

function parseProgress(text: string | undefined): Progress | undefined {
  if (text === undefined) return undefined;
  if (!text.startsWith('{')) return { minute: Number(text), detectors: {} };
  return JSON.parse(text) as Progress;
}

function seriesKey(eventSource: string, eventName: string): string {
  return `${eventSource}\u0000${eventName}`;
}

const NO_CALLS: MinuteCount = {
  minute: 0,
  eventSource: '',
  eventName: '',
  writeCalls: 0,
  readCalls: 0,
  errors: 0,
};

/** A stored Start's figures, for an insight restored as active. */
function figuresOf(start: InsightRecord): InsightFigures {
  const { statistics } = start.insightDetails.insightContext;
  const minute = Math.floor(Date.parse(start.eventTime) / MINUTE_MS);
  return {
    startMinute: minute,
    endMinute: minute + 1,
    insightAverage: statistics.insight.average,
    baselineAverage: statistics.baseline.average,
    peakScore: start.crumbtrail.insight.score,
    baselineKind: start.crumbtrail.insight.baseline,
    callsPerMinute: start.crumbtrail.insight.callsPerMinute,
    ...(start.crumbtrail.insight.direction === 'decrease' ? { direction: 'decrease' as const } : {}),
  };
}

export class InsightEngine {
  private readonly detectors = new Map<string, SeriesDetector>();
  private tracked: ApiSeries[] = [];
  private lastMinute: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private work: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private restored = false;
  private readonly leadership: Leadership;

  constructor(
    private readonly store: EventStore,
    private readonly metrics: InsightMetrics,
    private readonly options: InsightEngineOptions,
    private readonly log: Logger,
  ) {
    this.leadership = options.leadership ?? SOLE_EVALUATOR;
  }

  /**
   * Rebuilds state from the store, then evaluates on a timer. A store that cannot answer yet does
   * not stop the collector from starting: the state is rebuilt before the first evaluation.
   */
  async start(): Promise<void> {
    this.metrics.evaluating.set(this.leadership.holds() ? 1 : 0);
    await this.ensureRestored().catch((error: unknown) => {
      this.log.warn({ err: error }, 'insights state not restored yet; will retry before evaluating');
    });
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.work.catch(() => undefined);
  }

  /** Judges every complete minute not judged yet; resolves with the insight events written. */
  evaluateDue(): Promise<StoredEvent<InsightRecord>[]> {
    const run = this.work.catch(() => undefined).then(() => this.evaluatePending());
    this.work = run;
    return run;
  }

  private schedule(): void {
    if (this.stopped) return;
    const { intervalMs, latenessMs } = this.options;
    const now = this.options.now();
    // Aligned to minute ends plus the lateness, so each minute is judged as soon as it may be.
    const next = (Math.floor((now - latenessMs) / intervalMs) + 1) * intervalMs + latenessMs;
    this.timer = setTimeout(() => {
      this.evaluateDue()
        .catch((error: unknown) => {
          this.log.error({ err: error }, 'insight evaluation failed; retrying at the next interval');
        })
        .finally(() => {
          this.schedule();
        });
    }, next - now);
  }

  private async ensureRestored(): Promise<void> {
    if (this.restored) return;
    await this.restore();
    this.restored = true;
  }

  private async restore(): Promise<void> {
    const saved = parseProgress(await this.store.readState(PROGRESS_STATE));
    this.lastMinute = saved?.minute;
    const { settings } = this.options;
    const lookBackMinutes = settings.baselineMinutes + settings.maxInsightMinutes;
    const history = await readInsightHistory(this.store, {
      fromMs: this.options.now() - lookBackMinutes * MINUTE_MS,
    });
    const spans = new Map<string, InsightSpan[]>();
    for (const item of history) {
      // An insight ended as the new normal gave its minutes back to the baseline.
      if (item.end?.crumbtrail.insight.endReason === 'max-duration') continue;
      const key = `${item.insightType}\u0000${seriesKey(item.eventSource, item.eventName)}`;
      const list = spans.get(key) ?? [];
      list.push({
        startMinute: item.startMinute,
        endMinute: item.endMinute,
        ...(item.start === undefined ? {} : { startFigures: figuresOf(item.start) }),
      });
      spans.set(key, list);
    }
    for (const [key, list] of spans) {
      const [type] = key.split('\u0000') as [InsightType];
      this.detectorFor(key, type).restore(list);
    }
    for (const [key, snapshot] of Object.entries(saved?.detectors ?? {})) {
      const [type] = key.split('\u0000') as [InsightType];
      if (!INSIGHT_TYPES.includes(type)) continue;
      this.detectorFor(key, type).resume(snapshot);
    }
    await this.refreshSeries();
    if (this.lastMinute !== undefined) await this.replayHistory(this.lastMinute);
    this.log.info(
      {
        series: this.tracked.length,
        activeInsights: history.filter((item) => item.state === 'active').length,
      },
      'insights state restored',
    );
  }

  private detectorFor(key: string, type: InsightType): SeriesDetector {
    let detector = this.detectors.get(key);
    if (detector === undefined) {
      detector = new SeriesDetector(type, this.options.settings);
      this.detectors.set(key, detector);
    }
    return detector;
  }

  private async refreshSeries(): Promise<void> {
    const all = await this.store.apiSeries();
    // Oldest first: when the cap bites, established APIs keep being watched.
    all.sort(
      (a, b) =>
        a.firstMinute - b.firstMinute ||
        seriesKey(a.eventSource, a.eventName).localeCompare(seriesKey(b.eventSource, b.eventName)),
    );
    this.tracked = all.slice(0, this.options.maxSeries);
    this.metrics.series.set(this.tracked.length);
    this.metrics.seriesNotTracked.set(all.length - this.tracked.length);
  }

  /** Drops the detectors (the next holder's writes make them stale) and reports the shared progress. */
  private async standBy(): Promise<void> {
    this.metrics.evaluating.set(0);
    if (this.restored) {
      this.restored = false;
      this.detectors.clear();
      this.tracked = [];
      this.metrics.clearSeriesState();
    }
    // So CrumbtrailInsightsStalled means the same on every collector: Insights as a whole stalled.
    const saved = parseProgress(await this.store.readState(PROGRESS_STATE));
    if (saved !== undefined) this.metrics.lastEvaluatedMinute.set(saved.minute * 60);
  }

  private async evaluatePending(): Promise<StoredEvent<InsightRecord>[]> {
    if (!this.leadership.holds()) {
      await this.standBy();
      return [];
    }
    this.metrics.evaluating.set(1);
    await this.ensureRestored();
    const due = Math.floor((this.options.now() - this.options.latenessMs) / MINUTE_MS) - 1;
    let from = this.lastMinute === undefined ? due : this.lastMinute + 1;
    if (due - from + 1 > this.options.maxCatchUpMinutes) {
      this.log.warn(
        { missedMinutes: due - from + 1, judged: this.options.maxCatchUpMinutes },
        'insights fell behind (collector down or overloaded); older minutes only feed baselines',
      );
      from = due - this.options.maxCatchUpMinutes + 1;
    }
    const written: StoredEvent<InsightRecord>[] = [];
    if (from > due) return written;
    await this.refreshSeries();
    for (let minute = from; minute <= due; minute++) written.push(...(await this.evaluateMinute(minute)));
    return written;
  }

  /** Stored per-minute counts in `ranges`, by API then minute. */
  private async countsByApi(ranges: MinuteRange[]): Promise<Map<string, Map<number, MinuteCount>>> {
    const byApi = new Map<string, Map<number, MinuteCount>>();
    for (const row of await this.store.minuteCounts(ranges)) {
      const key = seriesKey(row.eventSource, row.eventName);
      let minutes = byApi.get(key);
      if (minutes === undefined) {
        minutes = new Map();
        byApi.set(key, minutes);
      }
      minutes.set(row.minute, row);
    }
    return byApi;
  }

  /** What an insight type counts of an API's minutes. */
  private countsOf(type: InsightType, minutes: Map<number, MinuteCount> | undefined): MinuteCounts {
    const at = (m: number): MinuteCount => minutes?.get(m) ?? NO_CALLS;
    return type === 'ApiCallRateInsight' && !this.options.countsReadCalls
      ? { calls: (m) => at(m).writeCalls, errors: (m) => at(m).errors }
      : { calls: (m) => at(m).writeCalls + at(m).readCalls, errors: (m) => at(m).errors };
  }

  /**
   * Rebuilds what the detectors learned from the last evaluated minutes (level, sustained window),
   * so the collector that goes on judges as the one before it would have.
   */
  private async replayHistory(lastMinute: number): Promise<void> {
    const from = lastMinute - historyReplayMinutes(this.options.settings) + 1;
    const first = this.baselineRanges(from);
    const last = this.baselineRanges(lastMinute);
    const ranges = first.map((range, i) => ({ from: range.from, to: last[i]?.to ?? range.to }));
    const byApi = await this.countsByApi(ranges);
    for (const api of this.tracked) {
      const key = seriesKey(api.eventSource, api.eventName);
      for (const type of INSIGHT_TYPES) {
        const detector = this.detectorFor(`${type}\u0000${key}`, type);
        detector.replayHistory(lastMinute, api.firstMinute, this.countsOf(type, byApi.get(key)));
      }
    }
  }

  /** The minutes a detector may compare `minute` with: warm-up window and seasonal slots. */
  private baselineRanges(minute: number): MinuteRange[] {
    const { settings } = this.options;
    const half = settings.slotHalfWidthMinutes;
    const ranges: MinuteRange[] = [{ from: minute - settings.warmupWindowMinutes, to: minute }];
    for (let back = 1; back * MINUTES_PER_DAY <= settings.baselineMinutes; back++) {
      const slot = minute - back * MINUTES_PER_DAY;
      ranges.push({ from: slot - half, to: slot + half });
    }
    return ranges;
  }

  private async evaluateMinute(minute: number): Promise<StoredEvent<InsightRecord>[]> {
    const stopTimer = this.metrics.evaluationSeconds.startTimer();
    const byApi = await this.countsByApi(this.baselineRanges(minute));
    const transitions: Promise<StoredEvent<InsightRecord>>[] = [];
    for (const api of this.tracked) {
      const key = seriesKey(api.eventSource, api.eventName);
      for (const type of INSIGHT_TYPES) {
        const counts = this.countsOf(type, byApi.get(key));
        const detector = this.detectorFor(`${type}\u0000${key}`, type);
        const evaluation = detector.evaluate(minute, api.firstMinute, counts);
        const labels = { event_source: api.eventSource, event_name: api.eventName, insight_type: type };
        this.metrics.active.set(labels, detector.isActive ? 1 : 0);
        this.metrics.score.set(labels, evaluation.score);
        this.metrics.observed.set(labels, evaluation.observed);
        this.metrics.expected.set(labels, evaluation.expected);
        if (evaluation.transition !== undefined) {
          transitions.push(this.eventFor({ ...api, type }, evaluation.transition, minute));
        }
      }
    }
    const events = await Promise.all(transitions);
    // The lease may have lapsed during the reads: then the next holder judges this minute. Had it
    // been written anyway, nothing would differ: insight events have deterministic ids.
    if (!this.leadership.holds()) throw new Error('the insights lease lapsed during the evaluation');
    if (events.length > 0) await this.store.insert(events);
    const detectors: Record<string, DetectorSnapshot> = {};
    for (const [key, detector] of this.detectors) {
      const snapshot = detector.snapshot();
      if (snapshot !== undefined) detectors[key] = snapshot;
    }
    await this.store.writeState(PROGRESS_STATE, progressText({ minute, detectors }));
    this.lastMinute = minute;
    for (const { record } of events) {
      const { insightType, state } = record.insightDetails;
      this.metrics.events.inc({ insight_type: insightType, state });
      this.log.info(
        { insight: record.insightDetails, summary: record.crumbtrail.insight.summary },
        'insight',
      );
    }
    this.metrics.evaluations.inc();
    this.metrics.lastEvaluatedMinute.set(minute * 60);
    stopTimer();
    return events;
  }

  private async eventFor(
    subject: InsightSubject & ApiSeries,
    transition: InsightTransition,
    minute: number,
  ): Promise<StoredEvent<InsightRecord>> {
    const { settings, countsReadCalls } = this.options;
    const { figures } = transition;
    const baselineMinutes = Math.min(settings.baselineMinutes, figures.startMinute - subject.firstMinute);
    const attributions = await attributionsFor(
      this.store,
      subject,
      {
        startMinute: figures.startMinute,
        endMinute: transition.state === 'Start' ? minute + 1 : figures.endMinute,
        baselineMinutes,
      },
      countsReadCalls,
    );
    return insightEvent({
      subject,
      transition,
      attributions,
      baselineMinutes,
      threshold: settings.zThreshold,
      countsReadCalls,
    });
  }
}

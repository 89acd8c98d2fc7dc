/*
 * Insights on /metrics, for Grafana alerting (frontend-only datasource plugins cannot drive alert
 * rules; Prometheus can). Labels are the API and the insight type only: bounded by the number of
 * APIs Insights tracks (--insights-max-series), never by callers or values.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

const SERIES_LABELS = ['event_source', 'event_name', 'insight_type'] as const;

export class InsightMetrics {
  readonly active: Gauge<(typeof SERIES_LABELS)[number]>;
  readonly score: Gauge<(typeof SERIES_LABELS)[number]>;
  readonly observed: Gauge<(typeof SERIES_LABELS)[number]>;
  readonly expected: Gauge<(typeof SERIES_LABELS)[number]>;
  readonly events: Counter<'insight_type' | 'state'>;
  readonly evaluations: Counter;
  readonly evaluationSeconds: Histogram;
  readonly lastEvaluatedMinute: Gauge;
  readonly series: Gauge;
  readonly seriesNotTracked: Gauge;
  readonly evaluating: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.active = new Gauge({
      name: 'crumbtrail_insight_active',
      help: '1 while an insight is active for the API and insight type, 0 otherwise.',
      labelNames: SERIES_LABELS,
      registers,
    });
    this.score = new Gauge({
      name: 'crumbtrail_insight_score',
      help: 'Latest minute z-score against the baseline (0 while the API is too young to judge).',
      labelNames: SERIES_LABELS,
      registers,
    });
    this.observed = new Gauge({
      name: 'crumbtrail_insight_observed',
      help: 'Latest minute: calls per minute (ApiCallRateInsight) or error fraction (ApiErrorRateInsight).',
      labelNames: SERIES_LABELS,
      registers,
    });
    this.expected = new Gauge({
      name: 'crumbtrail_insight_expected',
      help: 'What the baseline expected for the latest minute, in the same unit as crumbtrail_insight_observed.',
      labelNames: SERIES_LABELS,
      registers,
    });
    this.events = new Counter({
      name: 'crumbtrail_insight_events_total',
      help: 'Insight events written, by type and state (Start, End).',
      labelNames: ['insight_type', 'state'] as const,
      registers,
    });
    this.evaluations = new Counter({
      name: 'crumbtrail_insight_evaluations_total',
      help: 'Minutes evaluated by Insights.',
      registers,
    });
    this.evaluationSeconds = new Histogram({
      name: 'crumbtrail_insight_evaluation_duration_seconds',
      help: 'Time to evaluate one minute for every tracked API.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lastEvaluatedMinute = new Gauge({
      name: 'crumbtrail_insight_last_evaluated_timestamp_seconds',
      help: 'Start of the newest minute Insights has evaluated (alert if it stops moving).',
      registers,
    });
    this.series = new Gauge({
      name: 'crumbtrail_insight_series',
      help: 'APIs (event source and name) Insights tracks.',
      registers,
    });
    this.seriesNotTracked = new Gauge({
      name: 'crumbtrail_insight_series_not_tracked',
      help: 'APIs beyond --insights-max-series, not evaluated.',
      registers,
    });
    this.evaluating = new Gauge({
      name: 'crumbtrail_insights_evaluating',
      help: '1 while this collector evaluates Insights; 0 while another one sharing the database does (it holds the lease).',
      registers,
    });
  }

  /** A standby reports no per-API state of its own: the evaluating collector does. */
  clearSeriesState(): void {
    for (const gauge of [this.active, this.score, this.observed, this.expected]) gauge.reset();
    this.series.set(0);
    this.seriesNotTracked.set(0);
  }
}

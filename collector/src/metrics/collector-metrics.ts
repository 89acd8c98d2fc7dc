/*
 * The collector's Prometheus metrics (prom-client), on a registry of its own so that several
 * collectors in one process (tests) do not share counters. Labels are bounded: encodings, status
 * codes and route templates only, never user-supplied values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class CollectorMetrics {
  readonly registry = new Registry();

  readonly exportRequests = new Counter({
    name: 'crumbtrail_export_requests_total',
    help: 'OTLP export requests received, by encoding and HTTP status answered.',
    labelNames: ['encoding', 'status'] as const,
    registers: [this.registry],
  });

  readonly spansReceived = new Counter({
    name: 'crumbtrail_spans_received_total',
    help: 'Spans decoded from OTLP export requests.',
    labelNames: ['encoding'] as const,
    registers: [this.registry],
  });

  readonly spansIgnored = new Counter({
    name: 'crumbtrail_spans_ignored_total',
    help: 'Spans that are not audit spans (no crumbtrail attributes, and not derived from a server span).',
    registers: [this.registry],
  });

  readonly spansRejected = new Counter({
    name: 'crumbtrail_spans_rejected_total',
    help: 'Spans refused as invalid (reported to the exporter as partial success).',
    registers: [this.registry],
  });

  readonly eventsIngested = new Counter({
    name: 'crumbtrail_events_ingested_total',
    help: 'Audit events committed to the store.',
    registers: [this.registry],
  });

  readonly eventsDuplicate = new Counter({
    name: 'crumbtrail_events_duplicate_total',
    help: 'Events already stored (retried exports), not stored again.',
    registers: [this.registry],
  });

  readonly eventsExpired = new Counter({
    name: 'crumbtrail_events_expired_total',
    help: 'Events deleted by retention.',
    registers: [this.registry],
  });

  readonly storeCommits = new Counter({
    name: 'crumbtrail_store_commits_total',
    help: 'Store transactions committed (each holds one or more export batches).',
    registers: [this.registry],
  });

  readonly storeCommitSeconds = new Histogram({
    name: 'crumbtrail_store_commit_duration_seconds',
    help: 'Time to commit one store transaction.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly apiRequestSeconds = new Histogram({
    name: 'crumbtrail_api_request_duration_seconds',
    help: 'Query API request latency, by route template and status.',
    labelNames: ['route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  constructor(
    queueDepth: () => number,
    exportsInProgress: () => { exports: number; bytes: number },
    textIndexBacklog?: () => Promise<number>,
  ) {
    new Gauge({
      name: 'crumbtrail_store_queue_depth',
      help: 'Events accepted and waiting for a store commit.',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
    new Gauge({
      name: 'crumbtrail_exports_in_progress',
      help: 'Export requests being read and decoded (bounded by --max-concurrent-exports).',
      registers: [this.registry],
      collect() {
        this.set(exportsInProgress().exports);
      },
    });
    new Gauge({
      name: 'crumbtrail_export_body_bytes_held',
      help: 'Decompressed body bytes held by exports in progress (bounded by --max-inflight-body-bytes).',
      registers: [this.registry],
      collect() {
        this.set(exportsInProgress().bytes);
      },
    });
    if (textIndexBacklog !== undefined) {
      new Gauge({
        name: 'crumbtrail_text_index_backlog_events',
        help: 'Stored events the free-text index has not taken in yet (built when the writer is idle; free text scans these).',
        registers: [this.registry],
        async collect() {
          try {
            this.set(await textIndexBacklog());
          } catch {
            // A scrape must not fail for it (the store closing, a slow read): the last value stays.
          }
        },
      });
    }
    collectDefaultMetrics({ register: this.registry });
  }
}

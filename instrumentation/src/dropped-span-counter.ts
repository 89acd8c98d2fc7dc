/*
 * A BatchSpanProcessor that accounts for every audit span it is given.
 *
 * The SDK's BatchSpanProcessor drops spans once its queue is full and only says so in a diag
 * message (debug for the first drop, warn for the count once a span fits again), so lost audit
 * events go unnoticed. This wrapper counts what happens to each span — ended, exported, failed to
 * export, dropped, still queued, being exported — and reports drops through diag.warn (at most
 * once per interval) and an optional callback.
 *
 * Accuracy: the processor cannot see the BatchSpanProcessor's private queue, so it wraps the
 * exporter to learn how many spans left the queue (handed to export()) and enforces the queue
 * bound itself: a span that ends while `ended - dropped - handed >= maxQueueSize` is dropped here
 * and never reaches the inner processor. Because the inner processor gets the same maxQueueSize
 * and its real queue is never longer than that estimate, it never drops anything itself, so
 * `dropped` is exact rather than inferred.
 *
 * Shutdown is bounded (shutdownTimeoutMillis) and never rejects: what could not be delivered is
 * reported instead (undelivered-report.ts), and with flushOnExit the queue is also exported when
 * the process ends by itself (exit-flush.ts).
 */
import { TraceFlags, diag } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { ExportResultCode, getNumberFromEnv } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Span, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { flushOnExit } from './exit-flush.js';
import { describeCauses, reportUndelivered } from './undelivered-report.js';
import type { UndeliveredReport } from './undelivered-report.js';

/** What happened to the spans a {@link CountingBatchSpanProcessor} was given, since it was created. */
export interface SpanStats {
  /** Sampled spans that ended (unsampled spans are not exported, so they are not counted). */
  ended: number;
  /** Spans the exporter reported as successfully exported. */
  exported: number;
  /** Spans whose export failed (after the exporter's own retries). */
  failed: number;
  /** Spans lost before export: the queue was full, or the processor had been shut down. */
  dropped: number;
  /** Spans waiting in the queue for an export. */
  queued: number;
  /** Spans handed to the exporter whose result is not known yet. */
  exporting: number;
}

export interface CountingBatchSpanProcessorConfig {
  /**
   * Spans held while waiting for export; a span that ends when it is full is dropped (and
   * counted). Default: OTEL_BSP_MAX_QUEUE_SIZE, else 2048.
   */
  maxQueueSize?: number;
  /** Default: OTEL_BSP_MAX_EXPORT_BATCH_SIZE, else 512; never more than maxQueueSize. */
  maxExportBatchSize?: number;
  /** Default: OTEL_BSP_SCHEDULE_DELAY, else 5000. */
  scheduledDelayMillis?: number;
  /** Default: OTEL_BSP_EXPORT_TIMEOUT, else 30000. */
  exportTimeoutMillis?: number;
  /** Called with the number of spans dropped since the previous report, at the same pace as the warning. */
  onDropped?: (count: number) => void;
  /** Minimum time between two drop reports (diag.warn and onDropped). Default 10000. */
  dropReportIntervalMillis?: number;
  /**
   * How long shutdown() (and the flush when the process ends by itself) waits for the queued spans
   * to be exported before it reports the rest as not sent. Default 5000.
   */
  shutdownTimeoutMillis?: number;
  /**
   * Export the queue when the process ends by itself (its event loop is empty), within
   * shutdownTimeoutMillis, and report at exit what was still queued. Default false.
   */
  flushOnExit?: boolean;
  /**
   * Only spans it accepts are queued and exported (and counted); the others are ignored.
   * Default: every span.
   */
  spanFilter?: (span: ReadableSpan) => boolean;
  /** Where spans go (e.g. the OTLP traces URL), named in reports of what was not sent. */
  destination?: string;
  /**
   * Called with what could not be delivered (count, destination, reason), at shutdown and at
   * process exit, instead of the line written to stderr. diag.warn gets it either way.
   */
  onUndelivered?: (report: UndeliveredReport) => void;
}

const DEFAULT_MAX_QUEUE_SIZE = 2048;
const DEFAULT_MAX_EXPORT_BATCH_SIZE = 512;
const DEFAULT_DROP_REPORT_INTERVAL_MILLIS = 10_000;
const DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5_000;

/** An export failure in a few words: the error's message, and the HTTP status when there is one. */
function describeFailure(error: Error | undefined): string | undefined {
  if (error === undefined) return undefined;
  const code = (error as { code?: unknown }).code;
  const message = error.message.length > 0 ? error.message : error.name;
  return typeof code === 'number' ? `${message} (HTTP ${code})` : message;
}

/** Resolves `outcome`'s value, or `onTimeout` if it takes longer than `timeoutMillis`. */
async function within<T>(outcome: Promise<T>, timeoutMillis: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      resolve(onTimeout);
    }, timeoutMillis);
  });
  try {
    return await Promise.race([outcome, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves a size option: explicit value, else the standard environment variable, else the
 * default. Invalid values are reported and replaced rather than passed on, because the drop
 * accounting depends on knowing the effective queue size. Shared with setup.ts; not package API.
 */
export function resolveSizeOption(
  name: string,
  explicit: number | undefined,
  envVar: string,
  fallback: number,
): number {
  const value = explicit ?? getNumberFromEnv(envVar);
  if (value === undefined) {
    return fallback;
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    diag.warn(
      `crumbtrail: invalid ${name} ${value} (from ${explicit === undefined ? envVar : 'options'}), using ${fallback}`,
    );
    return fallback;
  }
  return value;
}

/** Tells the processor how many spans left the queue and how their export ended. */
interface ExportObserver {
  handed(count: number): void;
  settled(count: number, result: ExportResult): void;
}

/** Passes every call through to the real exporter, reporting batch sizes and results on the way. */
class ObservedSpanExporter implements SpanExporter {
  constructor(
    private readonly _delegate: SpanExporter,
    private readonly _observer: ExportObserver,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const count = spans.length;
    this._observer.handed(count);
    // An exporter must call back exactly once; guard anyway so a misbehaving one cannot make the
    // counts add up to more spans than were ended.
    let settled = false;
    const settle = (result: ExportResult): void => {
      if (settled) {
        return;
      }
      settled = true;
      this._observer.settled(count, result);
      resultCallback(result);
    };
    try {
      this._delegate.export(spans, settle);
    } catch (error) {
      // A throwing exporter would otherwise leave the batch counted as "exporting" forever and
      // the BatchSpanProcessor waiting for its export timeout.
      settle({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  shutdown(): Promise<void> {
    return this._delegate.shutdown();
  }

  forceFlush(): Promise<void> {
    return this._delegate.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * A {@link BatchSpanProcessor} (from @opentelemetry/sdk-trace-base, so OTEL_BSP_* environment
 * variables apply to options left unset) that counts every span and reports every drop.
 */
export class CountingBatchSpanProcessor implements SpanProcessor {
  private readonly _inner: BatchSpanProcessor;
  private readonly _spanFilter: ((span: ReadableSpan) => boolean) | undefined;
  private readonly _maxQueueSize: number;
  private readonly _onDropped: ((count: number) => void) | undefined;
  private readonly _dropReportIntervalMillis: number;

  private _ended = 0;
  private _handed = 0;
  private _exported = 0;
  private _failed = 0;
  private _dropped = 0;
  private _isShutdown = false;
  private _shutdownPromise: Promise<void> | undefined;
  private readonly _shutdownTimeoutMillis: number;
  private readonly _destination: string | undefined;
  private readonly _onUndelivered: ((report: UndeliveredReport) => void) | undefined;
  private readonly _unregisterExitFlush: (() => void) | undefined;
  /** The last export failure, for reports of what was not sent. */
  private _lastFailure: string | undefined;
  /** Spans reported as not delivered so far: each is reported once. */
  private _reportedUndelivered = 0;
  /** Callers of _whenIdle(), resolved once nothing is queued or being exported. */
  private _idleWaiters: (() => void)[] = [];

  /** Drops not reported yet, and when the last report was made. */
  private _unreportedDrops = 0;
  private _lastDropReportAt = Number.NEGATIVE_INFINITY;
  private _dropReportTimer: NodeJS.Timeout | undefined;

  constructor(exporter: SpanExporter, config: CountingBatchSpanProcessorConfig = {}) {
    this._spanFilter = config.spanFilter;
    this._maxQueueSize = resolveSizeOption(
      'maxQueueSize',
      config.maxQueueSize,
      'OTEL_BSP_MAX_QUEUE_SIZE',
      DEFAULT_MAX_QUEUE_SIZE,
    );
    // The BatchSpanProcessor clamps a larger batch size itself but warns on every construction;
    // a small queue with the default batch size is a legitimate choice, so clamp quietly here.
    const maxExportBatchSize = Math.min(
      this._maxQueueSize,
      resolveSizeOption(
        'maxExportBatchSize',
        config.maxExportBatchSize,
        'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
        DEFAULT_MAX_EXPORT_BATCH_SIZE,
      ),
    );
    this._onDropped = config.onDropped;
    this._dropReportIntervalMillis = config.dropReportIntervalMillis ?? DEFAULT_DROP_REPORT_INTERVAL_MILLIS;

    const observer: ExportObserver = {
      handed: (count) => {
        this._handed += count;
      },
      settled: (count, result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          this._exported += count;
        } else {
          this._failed += count;
          this._lastFailure = describeFailure(result.error) ?? this._lastFailure;
        }
        this._wakeIdleWaiters();
      },
    };
    this._inner = new BatchSpanProcessor(new ObservedSpanExporter(exporter, observer), {
      maxQueueSize: this._maxQueueSize,
      maxExportBatchSize,
      // Left undefined when unset so the BatchSpanProcessor applies OTEL_BSP_* and its defaults.
      scheduledDelayMillis: config.scheduledDelayMillis,
      exportTimeoutMillis: config.exportTimeoutMillis,
    });
    this._shutdownTimeoutMillis = config.shutdownTimeoutMillis ?? DEFAULT_SHUTDOWN_TIMEOUT_MILLIS;
    this._destination = config.destination;
    this._onUndelivered = config.onUndelivered;
    this._unregisterExitFlush =
      config.flushOnExit === true
        ? flushOnExit({
            pendingCount: () => this._pending(),
            flushForExit: () => this._flushWithin(this._shutdownTimeoutMillis),
            reportUndelivered: (exiting) => {
              this._reportUndelivered(
                exiting
                  ? 'still queued when the process exited: process.exit() ran before they were exported ' +
                      '(await trail.shutdown() before process.exit(), or let the process end by itself)'
                  : this._notAcknowledged(),
              );
            },
          })
        : undefined;
  }

  /** A snapshot of the counters; `ended = exported + failed + dropped + queued + exporting`. */
  stats(): SpanStats {
    return {
      ended: this._ended,
      exported: this._exported,
      failed: this._failed,
      dropped: this._dropped,
      queued: this._queued(),
      exporting: this._handed - this._exported - this._failed,
    };
  }

  onStart(span: Span, parentContext: Context): void {
    this._inner.onStart(span, parentContext);
  }

  onEnd(span: ReadableSpan): void {
    // The BatchSpanProcessor ignores unsampled spans; counting them would make them look queued forever.
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) {
      return;
    }
    if (this._spanFilter !== undefined && !this._spanFilter(span)) {
      return;
    }
    const queued = this._queued();
    this._ended++;
    // A span ending after shutdown is silently ignored by the BatchSpanProcessor: for an audit
    // trail it is a lost event like any other, so it is counted and reported as dropped.
    if (this._isShutdown || queued >= this._maxQueueSize) {
      this._recordDrop();
      return;
    }
    this._inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this._inner.forceFlush();
  }

  shutdown(): Promise<void> {
    this._shutdownPromise ??= this._shutdown();
    return this._shutdownPromise;
  }

  private async _shutdown(): Promise<void> {
    this._isShutdown = true;
    this._unregisterExitFlush?.();
    const stopped = this._inner.shutdown().then(
      () => this._whenIdle(),
      (error: unknown) => {
        // The failed spans are counted and reported below; the error itself has no more to say.
        diag.debug('crumbtrail: span processor shutdown failed', error);
      },
    );
    await within(stopped, this._shutdownTimeoutMillis, undefined);
    // Report what is still pending now: the timer is unref'ed and may never fire once the
    // process is on its way out.
    this._reportDrops();
    this._reportUndelivered(this._notAcknowledged());
  }

  /** Exports what is queued within `timeoutMillis`; true if everything was settled in time. */
  private _flushWithin(timeoutMillis: number): Promise<boolean> {
    const flushed = this._inner.forceFlush().then(
      () => this._whenIdle(),
      () => this._whenIdle(), // counted as failed, with its reason
    );
    return within(
      flushed.then(() => true),
      timeoutMillis,
      false,
    );
  }

  private _pending(): number {
    return this._queued() + (this._handed - this._exported - this._failed);
  }

  private _whenIdle(): Promise<void> {
    if (this._pending() === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this._idleWaiters.push(resolve);
    });
  }

  private _wakeIdleWaiters(): void {
    if (this._idleWaiters.length === 0 || this._pending() > 0) return;
    const waiters = this._idleWaiters;
    this._idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private _notAcknowledged(): string {
    const last = this._lastFailure === undefined ? '' : ` (last export error: ${this._lastFailure})`;
    return `not acknowledged by the collector within ${this._shutdownTimeoutMillis} ms (down, unreachable or overloaded)${last}`;
  }

  /** Reports the spans lost and not reported yet: failed, dropped, and pending for `pendingBecause`. */
  private _reportUndelivered(pendingBecause: string): void {
    const pending = this._pending();
    const lost = this._failed + this._dropped + pending;
    const count = lost - this._reportedUndelivered;
    if (count <= 0) return;
    this._reportedUndelivered = lost;
    const reason = describeCauses({
      failed: this._failed,
      lastFailure: this._lastFailure,
      pending,
      pendingBecause,
      dropped: this._dropped,
    });
    reportUndelivered({ count, destination: this._destination, reason }, this._onUndelivered);
  }

  private _queued(): number {
    return this._ended - this._dropped - this._handed;
  }

  private _recordDrop(): void {
    this._dropped++;
    this._unreportedDrops++;
    if (this._dropReportTimer !== undefined) {
      return; // a report is already scheduled and will include this drop
    }
    const wait = this._lastDropReportAt + this._dropReportIntervalMillis - Date.now();
    if (wait <= 0) {
      this._reportDrops();
      return;
    }
    // Throttled, but never silent: drops during the quiet period are reported when it ends.
    this._dropReportTimer = setTimeout(() => {
      this._reportDrops();
    }, wait);
    // Reporting must not keep an otherwise finished process alive.
    this._dropReportTimer.unref();
  }

  private _reportDrops(): void {
    if (this._dropReportTimer !== undefined) {
      clearTimeout(this._dropReportTimer);
      this._dropReportTimer = undefined;
    }
    const count = this._unreportedDrops;
    if (count === 0) {
      return;
    }
    this._unreportedDrops = 0;
    this._lastDropReportAt = Date.now();
    const s = this.stats();
    diag.warn(
      `crumbtrail: dropped ${count} audit span(s) since the last report: the export queue was full ` +
        `(maxQueueSize ${this._maxQueueSize})${this._isShutdown ? ' or the span processor was shut down' : ''}. ` +
        `These audit events are lost; check that the collector is reachable or raise maxQueueSize. ` +
        `Totals: ended=${s.ended} exported=${s.exported} failed=${s.failed} dropped=${s.dropped} ` +
        `queued=${s.queued} exporting=${s.exporting}`,
    );
    if (this._onDropped !== undefined) {
      try {
        this._onDropped(count);
      } catch (error) {
        // The callback runs inside span.end() of application code; it must not break the request.
        diag.error('crumbtrail: onDropped callback threw', error);
      }
    }
  }
}

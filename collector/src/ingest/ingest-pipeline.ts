/*
 * Mapped batches → stored events: counts what was ignored or rejected, and waits for the commit
 * of what became events. Shared by every receiver (and by the benchmark, which measures it
 * without HTTP). The mapping itself (map-spans.ts) runs where the export is decoded, usually on
 * an ingest thread; the pipeline holds what it needs to know: which event times it accepts now.
 */
import type { MappingOptions } from '../events/span-to-event.js';
import type { CollectorMetrics } from '../metrics/collector-metrics.js';
import type { DecodedSpan } from '../otlp/decoded-span.js';
import type { WriteQueue } from '../store/write-queue.js';
import type { MappedBatch } from './map-spans.js';
import { mapSpans } from './map-spans.js';

export type { MappedBatch } from './map-spans.js';

export interface IngestResult {
  accepted: number;
  ignored: number;
  rejected: number;
  /** Why spans were rejected: the first few reasons, for the partial-success message. */
  rejectionMessage: string;
}

export interface IngestOptions {
  deriveFromServerSpans: boolean;
  /** Proxies whose forwarded client address derived events believe. */
  trustedProxies?: readonly string[];
  /** Events older than this are refused (they would be deleted by the next retention sweep). */
  retentionMs?: number;
  /** Events ending later than now + this are refused. */
  maxFutureSkewMs?: number;
  now?: () => number;
}

export class IngestPipeline {
  constructor(
    private readonly queue: WriteQueue,
    private readonly options: IngestOptions,
    private readonly metrics: CollectorMetrics,
  ) {}

  /** How spans arriving now are mapped (plain data: it is sent to the ingest threads). */
  mappingOptions(): MappingOptions {
    const { retentionMs, maxFutureSkewMs, deriveFromServerSpans, trustedProxies } = this.options;
    const derivation = {
      deriveFromServerSpans,
      ...(trustedProxies === undefined || trustedProxies.length === 0 ? {} : { trustedProxies }),
    };
    if (retentionMs === undefined && maxFutureSkewMs === undefined) return derivation;
    const now = (this.options.now ?? Date.now)();
    return {
      ...derivation,
      acceptedTimes: {
        fromMs: retentionMs === undefined ? -Infinity : now - retentionMs,
        toMs: maxFutureSkewMs === undefined ? Infinity : now + maxFutureSkewMs,
      },
    };
  }

  /** Resolves once the batch's events are committed (throws if they cannot be). */
  async store(batch: MappedBatch): Promise<IngestResult> {
    await this.queue.enqueue(batch.rows);
    this.metrics.spansIgnored.inc(batch.ignored);
    this.metrics.spansRejected.inc(batch.rejected);
    const more = batch.rejected - batch.reasons.length;
    const rejectionMessage =
      batch.rejected === 0
        ? ''
        : `${batch.rejected} span(s) rejected: ${batch.reasons.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
    return {
      accepted: batch.rows.count,
      ignored: batch.ignored,
      rejected: batch.rejected,
      rejectionMessage,
    };
  }

  /** Maps the spans on this thread and resolves once their events are committed. */
  ingest(spans: readonly DecodedSpan[]): Promise<IngestResult> {
    return this.store(mapSpans(spans, this.mappingOptions()));
  }
}

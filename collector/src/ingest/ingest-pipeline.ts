/*
 * Decoded spans → stored events: maps each span, counts what was ignored or rejected, and waits
 * for the commit of what became events. Shared by every receiver (and by the benchmark, which
 * measures it without HTTP).
 *
 * Mapping is per span and never throws: a span that cannot become a record (whatever the
 * reason) is rejected alone, reported as OTLP partial success, and never reaches the store, so
 * it cannot fail a commit group holding other exporters' batches.
 */
import type { StoredEvent } from '../events/cloudtrail-record.js';
import type { MappingOptions, MappingResult } from '../events/span-to-event.js';
import { spanToEvent } from '../events/span-to-event.js';
import type { CollectorMetrics } from '../metrics/collector-metrics.js';
import type { DecodedSpan } from '../otlp/decoded-span.js';
import type { WriteQueue } from '../store/write-queue.js';

export interface IngestResult {
  accepted: number;
  ignored: number;
  rejected: number;
  /** Why spans were rejected: the first few reasons, for the partial-success message. */
  rejectionMessage: string;
}

/** One export's spans, mapped: what goes to the store and what was left out. */
export interface MappedBatch {
  events: StoredEvent[];
  ignored: number;
  rejected: number;
  reasons: string[];
}

export interface IngestOptions {
  deriveFromServerSpans: boolean;
  /** Events older than this are refused (they would be deleted by the next retention sweep). */
  retentionMs?: number;
  /** Events ending later than now + this are refused. */
  maxFutureSkewMs?: number;
  now?: () => number;
}

/** Reasons quoted in one partial-success message; the rest are counted. */
const MAX_QUOTED_REASONS = 3;

function mapSafely(span: DecodedSpan, options: MappingOptions): MappingResult {
  try {
    return spanToEvent(span, options);
  } catch (error) {
    // A mapping bug must cost one span, not the batch (nor, in a commit group, other batches).
    return { outcome: 'rejected', reason: `a span could not be stored: ${(error as Error).message}` };
  }
}

export class IngestPipeline {
  constructor(
    private readonly queue: WriteQueue,
    private readonly options: IngestOptions,
    private readonly metrics: CollectorMetrics,
  ) {}

  private mappingOptions(): MappingOptions {
    const { retentionMs, maxFutureSkewMs, deriveFromServerSpans } = this.options;
    if (retentionMs === undefined && maxFutureSkewMs === undefined) return { deriveFromServerSpans };
    const now = (this.options.now ?? Date.now)();
    return {
      deriveFromServerSpans,
      acceptedTimes: {
        fromMs: retentionMs === undefined ? -Infinity : now - retentionMs,
        toMs: maxFutureSkewMs === undefined ? Infinity : now + maxFutureSkewMs,
      },
    };
  }

  /** Maps the spans (synchronous, CPU only). */
  map(spans: readonly DecodedSpan[]): MappedBatch {
    const options = this.mappingOptions();
    const batch: MappedBatch = { events: [], ignored: 0, rejected: 0, reasons: [] };
    for (const span of spans) {
      const result = mapSafely(span, options);
      if (result.outcome === 'event') {
        batch.events.push(result.event);
      } else if (result.outcome === 'ignored') {
        batch.ignored++;
      } else {
        batch.rejected++;
        if (batch.reasons.length < MAX_QUOTED_REASONS) batch.reasons.push(result.reason);
      }
    }
    return batch;
  }

  /** Resolves once the batch's events are committed (throws if they cannot be). */
  async store(batch: MappedBatch): Promise<IngestResult> {
    await this.queue.enqueue(batch.events);
    this.metrics.spansIgnored.inc(batch.ignored);
    this.metrics.spansRejected.inc(batch.rejected);
    const more = batch.rejected - batch.reasons.length;
    const rejectionMessage =
      batch.rejected === 0
        ? ''
        : `${batch.rejected} span(s) rejected: ${batch.reasons.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
    return {
      accepted: batch.events.length,
      ignored: batch.ignored,
      rejected: batch.rejected,
      rejectionMessage,
    };
  }

  /** Maps the spans and resolves once their events are committed. */
  ingest(spans: readonly DecodedSpan[]): Promise<IngestResult> {
    return this.store(this.map(spans));
  }
}

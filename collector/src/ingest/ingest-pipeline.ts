/*
 * Decoded spans → stored events: maps each span, counts what was ignored or rejected, and waits
 * for the commit of what became events. Shared by every receiver (and by the benchmark, which
 * measures it without HTTP).
 */
import type { StoredEvent } from '../events/cloudtrail-record.js';
import type { MappingOptions } from '../events/span-to-event.js';
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

/** Reasons quoted in one partial-success message; the rest are counted. */
const MAX_QUOTED_REASONS = 3;

export class IngestPipeline {
  constructor(
    private readonly queue: WriteQueue,
    private readonly mapping: MappingOptions,
    private readonly metrics: CollectorMetrics,
  ) {}

  /** Maps the spans and resolves once their events are committed (throws if they cannot be). */
  async ingest(spans: readonly DecodedSpan[]): Promise<IngestResult> {
    const events: StoredEvent[] = [];
    const reasons: string[] = [];
    let ignored = 0;
    let rejected = 0;
    for (const span of spans) {
      const result = spanToEvent(span, this.mapping);
      if (result.outcome === 'event') {
        events.push(result.event);
      } else if (result.outcome === 'ignored') {
        ignored++;
      } else {
        rejected++;
        if (reasons.length < MAX_QUOTED_REASONS) reasons.push(result.reason);
      }
    }
    await this.queue.enqueue(events);
    this.metrics.spansIgnored.inc(ignored);
    this.metrics.spansRejected.inc(rejected);
    const more = rejected - reasons.length;
    const rejectionMessage =
      rejected === 0
        ? ''
        : `${rejected} span(s) rejected: ${reasons.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
    return { accepted: events.length, ignored, rejected, rejectionMessage };
  }
}

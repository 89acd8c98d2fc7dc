/*
 * Decoded spans → packed event rows, and what was left out. Pure and synchronous: it runs on an
 * ingest thread (decode-worker.ts), or inline. Mapping is per span and never throws: a span that
 * cannot become a record (whatever the reason) is rejected alone, reported as OTLP partial
 * success, and never reaches the store, so it cannot fail a commit group holding other
 * exporters' batches.
 */
import type { MappingOptions, MappingResult } from '../events/span-to-event.js';
import { spanToEvent } from '../events/span-to-event.js';
import type { DecodedSpan } from '../otlp/decoded-span.js';
import type { EventRow } from '../store/event-row.js';
import { toEventRow } from '../store/event-row.js';
import { packRows } from '../store/packed-rows.js';
import type { PackedRows } from '../store/packed-rows.js';

/** One export's spans, mapped: what goes to the store and what was left out. */
export interface MappedBatch {
  rows: PackedRows;
  ignored: number;
  rejected: number;
  /** Why spans were rejected: the first few reasons, for the partial-success message. */
  reasons: string[];
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

export function mapSpans(spans: readonly DecodedSpan[], options: MappingOptions): MappedBatch {
  const rows: EventRow[] = [];
  let ignored = 0;
  let rejected = 0;
  const reasons: string[] = [];
  for (const span of spans) {
    const result = mapSafely(span, options);
    if (result.outcome === 'event') {
      rows.push(toEventRow(result.event));
    } else if (result.outcome === 'ignored') {
      ignored++;
    } else {
      rejected++;
      if (reasons.length < MAX_QUOTED_REASONS) reasons.push(result.reason);
    }
  }
  return { rows: packRows(rows), ignored, rejected, reasons };
}

/*
 * What a span processor could not deliver, in words: how many audit events, where they were going
 * and why they are lost. Written to stderr (the process may be on its way out, with no logger left
 * to ask; nothing about lost audit events may be silent) and to diag.warn, or handed to the
 * application's own callback instead of stderr.
 */
import { diag } from '@opentelemetry/api';

/** Audit events that will not reach the collector, reported once each. */
export interface UndeliveredReport {
  /** Audit events lost since the previous report. */
  count: number;
  /** Where they were going (the OTLP traces URL), when known. */
  destination: string | undefined;
  /** Why, in words: failed exports with their error, events not acknowledged in time, drops. */
  reason: string;
}

/** The parts of a reason, each given only when its count is not zero. */
export interface UndeliveredCauses {
  failed: number;
  lastFailure: string | undefined;
  /** Still queued or being exported, with what stopped the wait for them. */
  pending: number;
  pendingBecause: string;
  dropped: number;
}

function plural(count: number, noun: string): string {
  return `${count} audit ${noun}${count === 1 ? '' : 's'}`;
}

export function describeCauses(causes: UndeliveredCauses): string {
  const parts: string[] = [];
  if (causes.failed > 0) {
    parts.push(`${causes.failed} failed to export (${causes.lastFailure ?? 'the exporter gave no reason'})`);
  }
  if (causes.pending > 0) parts.push(`${causes.pending} ${causes.pendingBecause}`);
  if (causes.dropped > 0) {
    parts.push(`${causes.dropped} dropped (the export queue was full, or they ended after shutdown)`);
  }
  return parts.join('; ');
}

export function formatReport(report: UndeliveredReport): string {
  const destination = report.destination === undefined ? '' : ` to ${report.destination}`;
  return `crumbtrail: ${plural(report.count, 'event')} not sent${destination}: ${report.reason}. They are lost.`;
}

/** Reports through `onUndelivered` when given, else on stderr; always through diag.warn too. */
export function reportUndelivered(
  report: UndeliveredReport,
  onUndelivered: ((report: UndeliveredReport) => void) | undefined,
): void {
  const message = formatReport(report);
  diag.warn(message);
  if (onUndelivered === undefined) {
    // Synchronous for files and pipes on Linux: it lands even from an 'exit' listener.
    process.stderr.write(`${message}\n`);
    return;
  }
  try {
    onUndelivered(report);
  } catch (error) {
    diag.error('crumbtrail: onUndelivered callback threw', error);
  }
}

/*
 * Sends finished spans to the collector with the official OTLP/HTTP protobuf exporter, in batches,
 * one batch at a time: the exporter retries what the collector asks it to (429, 503), and a batch
 * it still cannot deliver ends the backfill with an error rather than a silent gap in the history.
 */
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Spans per OTLP request: large enough to be quick, far below the collector's body limit. */
export const SPANS_PER_EXPORT = 2_000;
const TRACES_PATH = '/v1/traces';

export class OtlpBatchSender {
  readonly url: string;
  private readonly exporter: OTLPTraceExporter;

  /** `otlp`: the collector's OTLP/HTTP base URL (a full …/v1/traces URL is kept as is). */
  constructor(otlp: string) {
    const base = otlp.replace(/\/+$/, '');
    this.url = base.endsWith(TRACES_PATH) ? base : `${base}${TRACES_PATH}`;
    this.exporter = new OTLPTraceExporter({ url: this.url });
  }

  /** Sends the spans and resolves once the collector has acknowledged all of them; returns how many. */
  async send(spans: readonly ReadableSpan[]): Promise<number> {
    for (let i = 0; i < spans.length; i += SPANS_PER_EXPORT) {
      await this.sendBatch(spans.slice(i, i + SPANS_PER_EXPORT));
    }
    return spans.length;
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  private sendBatch(spans: ReadableSpan[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) resolve();
        else {
          const reason = result.error?.message ?? 'unknown error';
          reject(new Error(`the collector at ${this.url} did not take the backfill: ${reason}`));
        }
      });
    });
  }
}

/*
 * A span processor that only keeps finished spans until they are taken: the backfill exports them
 * itself, in large batches, and waits for each batch to be acknowledged before it makes more.
 */
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

export class FinishedSpans implements SpanProcessor {
  private spans: ReadableSpan[] = [];

  get count(): number {
    return this.spans.length;
  }

  take(): ReadableSpan[] {
    const taken = this.spans;
    this.spans = [];
    return taken;
  }

  onStart(): void {
    // Nothing to do until a span ends.
  }

  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/*
 * The minutes a detector leaves out of its baselines: its insights' spans, in start order. A
 * detector's insights never overlap (one starts only when none is active), so a binary search
 * finds the one span that may hold a minute, and spans no baseline can reach any more are
 * dropped from the front: a lookup costs O(log n) in the spans of one baseline window, however
 * many insights the series has had (issue 13: a scan of every span cost 134 µs a minute on a
 * series with 227 insights).
 */
import type { InsightSpan } from './series-detector.js';

export class ExcludedSpans {
  private spans: InsightSpan[] = [];
  /** Spans before this index are forgotten (compacted away now and then). */
  private first = 0;

  replace(spans: readonly InsightSpan[]): void {
    this.spans = spans.map((span) => ({ ...span })).sort((a, b) => a.startMinute - b.startMinute);
    this.first = 0;
  }

  get size(): number {
    return this.spans.length - this.first;
  }

  /** The spans still held, oldest first (copies). */
  list(): InsightSpan[] {
    return this.spans.slice(this.first).map((span) => ({ ...span }));
  }

  add(span: InsightSpan): void {
    this.spans.push(span);
  }

  /** The active insight's span, if any: always the newest. */
  open(): InsightSpan | undefined {
    const last = this.spans[this.spans.length - 1];
    return last !== undefined && this.spans.length > this.first && last.endMinute === undefined
      ? last
      : undefined;
  }

  /** Drops a span (an insight ended as the new normal gives its minutes back). */
  remove(span: InsightSpan): void {
    const index = this.spans.indexOf(span, this.first);
    if (index >= 0) this.spans.splice(index, 1);
  }

  has(minute: number): boolean {
    if (this.first >= this.spans.length) return false;
    let low = this.first;
    let high = this.spans.length - 1;
    // The last span starting at or before `minute`.
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.spans[middle]?.startMinute ?? Number.POSITIVE_INFINITY) <= minute) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    const span = found >= 0 ? this.spans[found] : undefined;
    return span !== undefined && (span.endMinute === undefined || minute < span.endMinute);
  }

  /** Forgets spans that ended at or before `minute`. */
  forgetBefore(minute: number): void {
    while (this.first < this.spans.length) {
      const end = this.spans[this.first]?.endMinute;
      if (end === undefined || end > minute) break;
      this.first++;
    }
    if (this.first > 64 && this.first * 2 > this.spans.length) {
      this.spans = this.spans.slice(this.first);
      this.first = 0;
    }
  }
}

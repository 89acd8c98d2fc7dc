/*
 * The time windows of a ClickHouse lookup (time-windows.ts): whatever the hints say and however
 * many matches each window finds, they are disjoint, newest first, and together hold every time
 * the lookup can match, so a wrong hint or estimate costs reads but never loses or repeats an event.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import fc from 'fast-check';

import type { TimeWindow, WindowPlan } from '../../src/store/clickhouse/time-windows.js';
import {
  EMPTY_WINDOW_GROWTH,
  FIRST_WINDOW_MS,
  LookupWindows,
  MAX_WINDOWS,
  TimeExtent,
  WINDOW_GROWTH,
} from '../../src/store/clickhouse/time-windows.js';

const YEAR_MS = 365 * 24 * 3600_000;
const MINUTE_MS = 60_000;
const NOW = Date.UTC(2026, 11, 3);

function holds(window: TimeWindow, time: number): boolean {
  return (
    (window.fromMs === undefined || time >= window.fromMs) &&
    (window.toMs === undefined || time < window.toMs)
  );
}

/** Every window of a lookup, each told that `found(i)` matches were found so far. */
function windowsOf(plan: WindowPlan, wanted: number, found: (index: number) => number): TimeWindow[] {
  const windows = new LookupWindows(plan, wanted);
  const out: TimeWindow[] = [];
  for (let window = windows.next(0); window !== undefined; window = windows.next(found(out.length))) {
    out.push(window);
    assert.ok(out.length <= MAX_WINDOWS, 'at most MAX_WINDOWS');
  }
  return out;
}

const time = fc.integer({ min: NOW - 40 * YEAR_MS, max: NOW + 40 * YEAR_MS });
const plan: fc.Arbitrary<WindowPlan> = fc.record({
  lowerMs: fc.option(time, { nil: undefined }),
  upperMs: fc.option(time, { nil: undefined }),
  hints: fc.record({
    newestMs: fc.option(time, { nil: undefined }),
    oldestMs: fc.option(time, { nil: undefined }),
  }),
  nowMs: time,
});

describe('ClickHouse lookup windows', () => {
  it('put every time in exactly one window, newest windows first, whatever the hints and matches', () => {
    fc.assert(
      fc.property(
        plan,
        fc.integer({ min: 1, max: 1001 }),
        fc.array(fc.nat(2000), { minLength: MAX_WINDOWS, maxLength: MAX_WINDOWS }),
        fc.array(time, { minLength: 1, maxLength: 40 }),
        (windowPlan, wanted, foundCounts, times) => {
          // Matches only ever add up.
          let total = 0;
          const found = foundCounts.map((count) => (total += count % (wanted + 1)));
          const windows = windowsOf(windowPlan, wanted, (index) =>
            Math.min(wanted - 1, found[index - 1] ?? 0),
          );
          assert.equal(windows[0]?.toMs, undefined, 'the first window is open above');
          assert.equal(windows.at(-1)?.fromMs, undefined, 'the last window is open below');
          for (let i = 1; i < windows.length; i++) assert.equal(windows[i]?.toMs, windows[i - 1]?.fromMs);
          for (const bound of windows.flatMap((w) => [w.fromMs, w.toMs])) {
            assert.ok(
              bound === undefined || Number.isSafeInteger(bound),
              `bound ${bound} goes into SQL as an integer`,
            );
          }
          for (const at of [...times, ...windows.flatMap((w) => [w.fromMs ?? 0, (w.fromMs ?? 0) - 1])]) {
            assert.equal(windows.filter((window) => holds(window, at)).length, 1, `time ${at}`);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('start a minute before the newest event known, or before the lookup end when that is older', () => {
    const newest = NOW - YEAR_MS;
    assert.deepEqual(new LookupWindows({ hints: { newestMs: newest }, nowMs: NOW }, 51).next(0), {
      fromMs: newest - FIRST_WINDOW_MS,
    });
    const end = newest - 3600_000;
    assert.deepEqual(
      new LookupWindows({ upperMs: end, hints: { newestMs: newest }, nowMs: NOW }, 51).next(0),
      {
        fromMs: end - FIRST_WINDOW_MS,
      },
    );
    assert.deepEqual(new LookupWindows({ hints: {}, nowMs: NOW }, 51).next(0), {
      fromMs: NOW - FIRST_WINDOW_MS,
    });
  });

  it('reach back sixteenfold while nothing matched, and stop at the oldest event known or the lookup start', () => {
    const hints = { newestMs: NOW, oldestMs: NOW - 300 * MINUTE_MS };
    const reach = (minutes: number): number => NOW - minutes * MINUTE_MS;
    // 1, 16 and 256 minutes back, then everything older (4,096 minutes would pass the oldest event).
    assert.deepEqual(
      windowsOf({ hints, nowMs: NOW }, 51, () => 0),
      [
        { fromMs: reach(1) },
        { fromMs: reach(16), toMs: reach(1) },
        { fromMs: reach(256), toMs: reach(16) },
        { toMs: reach(256) },
      ],
    );
    assert.equal(EMPTY_WINDOW_GROWTH, 16);
    const started = windowsOf({ lowerMs: reach(2), hints: { newestMs: NOW }, nowMs: NOW }, 51, () => 0);
    assert.deepEqual(started, [{ fromMs: reach(1) }, { toMs: reach(1) }]);
  });

  it('read the rest of time at once after an empty first window, when an index answers the lookup', () => {
    const hints = { newestMs: NOW, oldestMs: NOW - 300 * MINUTE_MS };
    assert.deepEqual(
      windowsOf({ hints, nowMs: NOW, indexed: true }, 51, () => 0),
      [{ fromMs: NOW - MINUTE_MS }, { toMs: NOW - MINUTE_MS }],
    );
    // With matches in the first window, it grows as any lookup does.
    assert.equal(windowsOf({ hints, nowMs: NOW, indexed: true }, 51, () => 10).length > 2, true);
  });

  it('reach as far back as the matches so far say the page needs, at least fourfold', () => {
    const hints = { newestMs: NOW };
    // 10 of 51 in the first minute: about 6.4 minutes should hold the rest (with a quarter to spare).
    const [, second] = windowsOf({ hints, nowMs: NOW }, 51, () => 10);
    assert.equal(second?.fromMs, NOW - Math.ceil(MINUTE_MS * (51 / 10) * 1.25));
    // 40 of 51: the estimate (1.6 minutes) is under fourfold, so fourfold it is.
    const [, fourfold] = windowsOf({ hints, nowMs: NOW }, 51, () => 40);
    assert.equal(fourfold?.fromMs, NOW - WINDOW_GROWTH * MINUTE_MS);
  });

  it('learn the newest time from lookups, and the oldest only once the table was read', () => {
    const extent = new TimeExtent();
    extent.inserted([NOW - 5, NOW - 10]);
    assert.deepEqual(
      extent.hints(),
      { newestMs: NOW - 5 },
      'older events may exist that this store never saw',
    );
    extent.readTable(NOW - 7, NOW - YEAR_MS);
    assert.deepEqual(extent.hints(), { newestMs: NOW - 5, oldestMs: NOW - YEAR_MS });
    extent.found([NOW + 1, NOW - 2 * YEAR_MS]);
    assert.deepEqual(
      extent.hints(),
      { newestMs: NOW + 1, oldestMs: NOW - YEAR_MS },
      "a page's oldest row is not the table's",
    );
    extent.inserted([NOW - 3 * YEAR_MS]);
    assert.deepEqual(extent.hints(), { newestMs: NOW + 1, oldestMs: NOW - 3 * YEAR_MS });
  });
});

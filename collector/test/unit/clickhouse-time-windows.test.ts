/*
 * The time windows of a ClickHouse lookup (time-windows.ts): whatever the hints say, they are
 * disjoint, newest first, and together hold every time the lookup can match, so a wrong hint can
 * cost reads but never lose or repeat an event.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import fc from 'fast-check';

import type { TimeWindow, WindowPlan } from '../../src/store/clickhouse/time-windows.js';
import {
  FIRST_WINDOW_MS,
  lookupWindows,
  MAX_WINDOWS,
  TimeExtent,
} from '../../src/store/clickhouse/time-windows.js';

const YEAR_MS = 365 * 24 * 3600_000;
const NOW = Date.UTC(2026, 11, 3);

function holds(window: TimeWindow, time: number): boolean {
  return (
    (window.fromMs === undefined || time >= window.fromMs) &&
    (window.toMs === undefined || time < window.toMs)
  );
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
  it('put every time in exactly one window, newest windows first, whatever the hints', () => {
    fc.assert(
      fc.property(plan, fc.array(time, { minLength: 1, maxLength: 40 }), (windowPlan, times) => {
        const windows = [...lookupWindows(windowPlan)];
        assert.ok(windows.length >= 1 && windows.length <= MAX_WINDOWS);
        assert.equal(windows[0]?.toMs, undefined, 'the first window is open above');
        assert.equal(windows.at(-1)?.fromMs, undefined, 'the last window is open below');
        for (let i = 1; i < windows.length; i++) assert.equal(windows[i]?.toMs, windows[i - 1]?.fromMs);
        for (const at of [...times, ...windows.flatMap((w) => [w.fromMs ?? 0, (w.fromMs ?? 0) - 1])]) {
          assert.equal(windows.filter((window) => holds(window, at)).length, 1, `time ${at}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('start a minute before the newest event known, or before the lookup end when that is older', () => {
    const newest = NOW - YEAR_MS;
    const [first] = lookupWindows({ hints: { newestMs: newest }, nowMs: NOW });
    assert.deepEqual(first, { fromMs: newest - FIRST_WINDOW_MS });
    const end = newest - 3600_000;
    const [bounded] = lookupWindows({ upperMs: end, hints: { newestMs: newest }, nowMs: NOW });
    assert.deepEqual(bounded, { fromMs: end - FIRST_WINDOW_MS });
    const [fromClock] = lookupWindows({ hints: {}, nowMs: NOW });
    assert.deepEqual(fromClock, { fromMs: NOW - FIRST_WINDOW_MS });
  });

  it('grow fourfold, and stop at the oldest event known or the lookup start', () => {
    const newest = NOW;
    const spans = [
      ...lookupWindows({ hints: { newestMs: newest, oldestMs: newest - 30 * 60_000 }, nowMs: NOW }),
    ];
    // 1, 4 and 16 minutes back, then everything older (64 minutes would pass the oldest event).
    assert.deepEqual(spans, [
      { fromMs: newest - 60_000 },
      { fromMs: newest - 4 * 60_000, toMs: newest - 60_000 },
      { fromMs: newest - 16 * 60_000, toMs: newest - 4 * 60_000 },
      { toMs: newest - 16 * 60_000 },
    ]);
    const started = [
      ...lookupWindows({ lowerMs: newest - 2 * 60_000, hints: { newestMs: newest }, nowMs: NOW }),
    ];
    assert.deepEqual(started, [{ fromMs: newest - 60_000 }, { toMs: newest - 60_000 }]);
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

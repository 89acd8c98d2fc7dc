import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { deterministicEventId } from '../../src/events/event-id.js';
import {
  START_MS,
  SPAN_ID,
  TRACE_ID,
  auditSpan,
  nanosFromMs,
  recordOf,
  spanIdFor,
  traceIdFor,
} from './builders.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The first 48 bits of a UUID as a number. */
function timeBits(id: string): number {
  return parseInt(id.replaceAll('-', '').slice(0, 12), 16);
}

describe('eventID', () => {
  it('is the same for the same trace, span and time (a retried export)', () => {
    const first = recordOf(auditSpan({ 'user.name': 'alice' }));
    const retried = recordOf(auditSpan({ 'user.name': 'alice', 'crumbtrail.request.id': 'changed' }));
    assert.equal(first.eventID, retried.eventID);
    assert.equal(deterministicEventId(START_MS, TRACE_ID + SPAN_ID), first.eventID);
  });

  it('differs for a different span, a different trace or a different time', () => {
    const base = recordOf(auditSpan()).eventID;
    const otherSpan = recordOf(auditSpan({}, { spanId: spanIdFor(99) })).eventID;
    const otherTrace = recordOf(auditSpan({}, { traceId: traceIdFor(99) })).eventID;
    const otherTime = recordOf(auditSpan({}, { startTimeUnixNano: nanosFromMs(START_MS + 1) })).eventID;
    assert.equal(new Set([base, otherSpan, otherTrace, otherTime]).size, 4);
  });

  it('does not collide across many spans at the same millisecond', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) ids.add(deterministicEventId(START_MS, TRACE_ID + spanIdFor(i)));
    assert.equal(ids.size, 2000);
  });

  it('is laid out as a UUIDv7: version 7, variant 10xx', () => {
    for (let i = 0; i < 500; i++) {
      const id = deterministicEventId(START_MS + i * 7919, traceIdFor(i) + spanIdFor(i));
      assert.match(id, UUID_V7);
    }
  });

  it('carries the event time in milliseconds in its first 48 bits', () => {
    for (const ms of [0, 1, 0xfff, 0x1000, START_MS, 253_402_300_799_999, 0xffffffffffff]) {
      const id = deterministicEventId(ms, TRACE_ID + SPAN_ID);
      assert.match(id, UUID_V7);
      assert.equal(timeBits(id), ms);
    }
    assert.equal(timeBits(recordOf(auditSpan()).eventID), START_MS);
  });

  it('clamps times outside 48 bits', () => {
    assert.equal(timeBits(deterministicEventId(-5, 'x')), 0);
    assert.equal(timeBits(deterministicEventId(2 ** 50, 'x')), 0xffffffffffff);
  });

  it('sorts in event-time order', () => {
    const times = [
      0,
      9,
      10,
      15,
      16,
      255,
      256,
      4095,
      4096,
      START_MS - 1,
      START_MS,
      START_MS + 1,
      2 ** 47,
      2 ** 48 - 1,
    ];
    const ids = times.map((ms, i) => deterministicEventId(ms, traceIdFor(times.length - i) + spanIdFor(i)));
    assert.deepEqual([...ids].sort(), ids);
  });
});

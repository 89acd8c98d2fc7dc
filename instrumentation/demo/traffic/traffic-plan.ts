/*
 * The traffic of one minute: how many calls each persona's activities make (a Poisson count around
 * their rate at that time of day, times --rate) and when. Every minute has its own random stream,
 * derived from the seed and the minute, and every call its own seed, so a minute's traffic (and
 * the ids the backfill gives its calls) is the same whichever window it is planned in: a backfill
 * run again over the same minutes writes the same events, which the collector stores once.
 */
import type { ApiCall } from './api-calls.js';
import type { Persona } from './personas.js';
import { PERSONAS } from './personas.js';
import { SeededRandom, seedFor } from './seeded-random.js';
import type { World } from './world.js';

export const MINUTE_MS = 60_000;
/** Independent streams of the seed. */
const MINUTE_STREAM = 1;
const CALL_STREAM = 2;

export interface PlannedCall {
  timeMs: number;
  persona: Persona;
  /** Picks the call when it is made (the world may have changed since it was planned). */
  choose: (world: World, random: SeededRandom) => ApiCall | undefined;
  /** The call's own seed: for what the services make up for it (ids), whatever the world. */
  seed: number;
  /** Set on the calls of a burst: which one of how many. */
  burst?: { index: number; total: number };
}

export function floorToMinute(timeMs: number): number {
  return Math.floor(timeMs / MINUTE_MS) * MINUTE_MS;
}

export interface MinutePlan {
  /** In time order. */
  calls: PlannedCall[];
  /** The minute's stream, for the calls' choices as they are made, in order. */
  random: SeededRandom;
}

/** The background traffic of the minute starting at `minuteMs`. */
export function planMinute(seed: number, minuteMs: number, rate: number): MinutePlan {
  const minute = minuteMs / MINUTE_MS;
  const random = new SeededRandom(seedFor(seed, MINUTE_STREAM, minute));
  const calls: PlannedCall[] = [];
  const middleOfMinute = minuteMs + MINUTE_MS / 2;
  for (const persona of PERSONAS) {
    const level = persona.pattern(middleOfMinute) * rate;
    for (const activity of persona.activities) {
      const count = random.poisson(activity.perMinute * level);
      for (let i = 0; i < count; i++) {
        calls.push({
          timeMs: minuteMs + random.int(0, MINUTE_MS - 1),
          persona,
          choose: activity.choose,
          seed: seedFor(seed, CALL_STREAM, minute, calls.length),
        });
      }
    }
  }
  return { calls: sortByTime(calls), random };
}

/** The planned calls that fall in [fromMs, toMs). */
export function callsBetween(calls: readonly PlannedCall[], fromMs: number, toMs: number): PlannedCall[] {
  return calls.filter((call) => call.timeMs >= fromMs && call.timeMs < toMs);
}

/** In time order; calls planned for the same moment keep their order. */
export function sortByTime(calls: PlannedCall[]): PlannedCall[] {
  return calls.sort((a, b) => a.timeMs - b.timeMs);
}

/*
 * The stories the demo tells on top of the everyday traffic:
 *   - John signs in to the console and creates Mary, gives her read-only access and looks her up;
 *     moments later mallory tries to delete her, and is denied. Shortly after live traffic starts,
 *     and once in the backfilled history.
 *   - A burst of RunInstances (ci-bot going wild, by default) at --burst-rate calls a minute: far
 *     above what is usual at that time of day, so Insights raises an ApiCallRateInsight.
 */
import { managedPolicyArn } from '../directory/account.js';
import type { ApiCall } from './api-calls.js';
import type { Persona } from './personas.js';
import { CI_RUNNER_LAUNCH, always, personaNamed } from './personas.js';
import type { PlannedCall } from './traffic-plan.js';
import { MINUTE_MS } from './traffic-plan.js';
import { seedFor } from './seeded-random.js';

const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** In the history, John creates Mary at 10:12 UTC: a working morning. */
const STORY_TIME_OF_DAY_MS = 10 * HOUR_MS + 12 * MINUTE_MS;
/** How long the story takes, from John's first click to mallory's attempt. */
const STORY_DURATION_MS = 10_000;
/** Streams of the seed for the stories' calls (see PlannedCall.seed). */
const STORY_STREAM = 3;
const BURST_STREAM = 4;

function persona(userName: string): Persona {
  const found = personaNamed(userName);
  if (found === undefined) throw new Error(`no persona named ${userName}`);
  return found;
}

export function johnCreatesMary(startMs: number, seed: number): PlannedCall[] {
  const john = persona('John');
  const steps: [number, Persona, ApiCall][] = [
    [0, john, { api: 'ListUsers' }],
    [1_500, john, { api: 'CreateUser', userName: 'Mary' }],
    [
      3_000,
      john,
      { api: 'AttachUserPolicy', userName: 'Mary', policyArn: managedPolicyArn('ReadOnlyAccess') },
    ],
    [4_000, john, { api: 'GetUser', userName: 'Mary' }],
    [6_000, persona('mallory'), { api: 'DeleteUser', userName: 'Mary' }],
  ];
  return steps.map(([afterMs, caller, call], step) => ({
    timeMs: startMs + afterMs,
    persona: caller,
    choose: always(call),
    seed: seedFor(seed, STORY_STREAM, startMs, step),
  }));
}

/**
 * When the story happened in a history of [fromMs, toMs): the latest 10:12 UTC in it, or its
 * middle when it is shorter than the gap between two mornings.
 */
export function storyTimeInHistory(fromMs: number, toMs: number): number {
  const lastStart = toMs - STORY_DURATION_MS;
  let time = Math.floor(lastStart / DAY_MS) * DAY_MS + STORY_TIME_OF_DAY_MS;
  if (time > lastStart) time -= DAY_MS;
  return time >= fromMs ? time : Math.floor((fromMs + lastStart) / 2);
}

export interface BurstOptions {
  /** Minutes after live traffic starts. */
  atMinutes: number;
  minutes: number;
  callsPerMinute: number;
  userName: string;
}

export const BURST_EVENT_NAME = CI_RUNNER_LAUNCH.api;

/** The burst's calls, evenly spaced. */
export function burstCalls(burst: BurstOptions, liveStartMs: number, seed: number): PlannedCall[] {
  const caller = persona(burst.userName);
  const total = Math.round(burst.minutes * burst.callsPerMinute);
  const startMs = liveStartMs + burst.atMinutes * MINUTE_MS;
  const spacingMs = MINUTE_MS / burst.callsPerMinute;
  return Array.from({ length: total }, (_, index) => ({
    timeMs: Math.round(startMs + index * spacingMs),
    persona: caller,
    choose: always(CI_RUNNER_LAUNCH),
    seed: seedFor(seed, BURST_STREAM, startMs, index),
    burst: { index, total },
  }));
}

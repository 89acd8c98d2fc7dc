/*
 * Live traffic: the personas' calls as real HTTP requests to the running services, at the wall-clock
 * times the traffic plan gives them, with the console story shortly after the start and the burst
 * when asked for. Each call is sent when its time comes and not awaited before the next one, as
 * independent clients would; a stop waits for the calls in flight, so every call made is answered
 * (or counted as unanswered) before the services are stopped.
 */
import { EVENT_SOURCES } from '../directory/account.js';
import { isoTime, milestone } from '../runner/milestones.js';
import type { ApiCall } from './api-calls.js';
import { specOf } from './api-catalog.js';
import type { ServiceUrls } from './http-client.js';
import { callService } from './http-client.js';
import type { BurstOptions } from './stories.js';
import { BURST_EVENT_NAME, burstCalls, johnCreatesMary } from './stories.js';
import type { TrafficSummary } from './traffic-stats.js';
import { TrafficStats } from './traffic-stats.js';
import type { PlannedCall } from './traffic-plan.js';
import { MINUTE_MS, callsBetween, floorToMinute, planMinute, sortByTime } from './traffic-plan.js';
import { World } from './world.js';

/** John signs in to the console this long after live traffic starts. */
const STORY_DELAY_MS = 1_000;

export interface LiveTrafficOptions {
  urls: ServiceUrls;
  seed: number;
  rate: number;
  /** Stop after this many minutes; undefined: until the signal. */
  minutes?: number;
  /** Stop after this many calls; undefined: no limit. */
  calls?: number;
  burst?: BurstOptions;
  summaryEveryMs: number;
  signal: AbortSignal;
}

/** Resolves at `timeMs`, or at once when the signal aborts. */
function sleepUntil(timeMs: number, signal: AbortSignal): Promise<void> {
  const delayMs = timeMs - Date.now();
  if (delayMs <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, delayMs);
    signal.addEventListener('abort', wake, { once: true });
  });
}

export async function runLiveTraffic(options: LiveTrafficOptions): Promise<TrafficSummary> {
  const { signal } = options;
  const startMs = Date.now();
  const endMs =
    options.minutes === undefined ? Number.POSITIVE_INFINITY : startMs + options.minutes * MINUTE_MS;
  const callLimit = options.calls ?? Number.POSITIVE_INFINITY;
  const storyAndBurst = sortByTime([
    ...johnCreatesMary(startMs + STORY_DELAY_MS, options.seed),
    ...(options.burst === undefined ? [] : burstCalls(options.burst, startMs, options.seed)),
  ]);
  const world = new World();
  const stats = new TrafficStats();
  const inFlight = new Set<Promise<void>>();
  milestone('live traffic started', { startTime: isoTime(startMs), rate: options.rate });
  const summaryTimer = setInterval(() => {
    milestone('traffic summary', { ...stats.summary() });
  }, options.summaryEveryMs);

  const send = (planned: PlannedCall, call: ApiCall): void => {
    const service = specOf(call).service;
    if (planned.burst?.index === 0 && options.burst !== undefined)
      announceBurst(options.burst, planned.timeMs);
    const sent = callService(options.urls, planned.persona, call).then(
      (outcome) => {
        world.apply(call, planned.persona.caller.userName, outcome);
        stats.recordAnswer(service, outcome);
        if (planned.burst !== undefined && planned.burst.index === planned.burst.total - 1) {
          milestone('burst ended', { eventName: BURST_EVENT_NAME, calls: planned.burst.total });
        }
      },
      (error: unknown) => {
        stats.recordNoAnswer();
        console.error(`demo: ${call.api} to the ${service} service got no answer:`, error);
      },
    );
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  };

  let made = 0;
  minutes: for (let minuteMs = floorToMinute(startMs); minuteMs < endMs; minuteMs += MINUTE_MS) {
    const { calls: background, random } = planMinute(options.seed, minuteMs, options.rate);
    const plan = sortByTime([...background, ...callsBetween(storyAndBurst, minuteMs, minuteMs + MINUTE_MS)]);
    for (const planned of plan) {
      if (planned.timeMs < startMs) continue;
      if (planned.timeMs >= endMs) break minutes;
      await sleepUntil(planned.timeMs, signal);
      if (signal.aborted) break minutes;
      const call = planned.choose(world, random);
      if (call === undefined) continue;
      send(planned, call);
      if (++made >= callLimit) break minutes;
    }
    if (signal.aborted) break;
  }
  // Run for the minutes asked even when the plan has no call left in them.
  if (made < callLimit && Number.isFinite(endMs)) await sleepUntil(endMs, signal);
  await Promise.all(inFlight);
  clearInterval(summaryTimer);
  return stats.summary();
}

function announceBurst(burst: BurstOptions, firstCallMs: number): void {
  milestone('burst started', {
    eventName: BURST_EVENT_NAME,
    eventSource: EVENT_SOURCES.compute,
    userName: burst.userName,
    callsPerMinute: burst.callsPerMinute,
    minutes: burst.minutes,
    fromTime: isoTime(firstCallMs),
    toTime: isoTime(firstCallMs + burst.minutes * MINUTE_MS),
  });
}

/*
 * Backfill: days of the demo's traffic written in seconds, so that Insights has a baseline at once.
 * The same traffic plan, personas and world as live traffic, but each call's outcome is predicted
 * instead of asked for, and its audit span is made by the official OpenTelemetry SDK with the
 * call's past time and sent by the official OTLP/HTTP (protobuf) exporter in large batches. Each
 * call's ids come from the seed and the call, so the same minutes backfilled again with the same
 * seed give the same events (which the collector stores once).
 */
import { SpanKind } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  ATTR_CLOUD_ACCOUNT_ID,
  ATTR_CLOUD_REGION,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@crumbtrail/instrumentation/attributes';
import type { AuditIdentity } from '@crumbtrail/instrumentation';
import type { ServiceName } from '../directory/account.js';
import { ACCOUNT_ID, DEMO_SERVICE_VERSION, REGION, SERVICE_NAMES } from '../directory/account.js';
import { auditIdentity, isConsoleRequest } from '../services/caller-auth.js';
import { specOf } from '../traffic/api-catalog.js';
import { clientHeaders } from '../traffic/client-headers.js';
import type { Persona } from '../traffic/personas.js';
import { PERSONAS } from '../traffic/personas.js';
import { SeededRandom, seedFor } from '../traffic/seeded-random.js';
import { johnCreatesMary, storyTimeInHistory } from '../traffic/stories.js';
import type { PlannedCall } from '../traffic/traffic-plan.js';
import { MINUTE_MS, callsBetween, floorToMinute, planMinute, sortByTime } from '../traffic/traffic-plan.js';
import { World } from '../traffic/world.js';
import { auditSpanAttributes, auditSpanName } from './audit-span-attributes.js';
import { FinishedSpans } from './finished-spans.js';
import { OtlpBatchSender, SPANS_PER_EXPORT } from './otlp-batches.js';
import { predictOutcome } from './predicted-outcome.js';
import { SeededIdGenerator } from './seeded-id-generator.js';

/** Streams of a call's seed: its span ids, and what the service makes up for it. */
const ID_STREAM = 1;
const SERVICE_STREAM = 2;
const TRACER_NAME = 'crumbtrail-demo-backfill';
const MINUTES_PER_DAY = 24 * 60;

export interface BackfillOptions {
  /** The collector's OTLP/HTTP base URL. */
  otlp: string;
  seed: number;
  rate: number;
  days: number;
  /** The history ends at the start of this minute. */
  endMs: number;
  signal: AbortSignal;
}

export interface BackfillResult {
  events: number;
  fromMs: number;
  toMs: number;
}

/** How a persona's calls reach the audit trail: what the services make of its credential. */
interface CallerView {
  identity: AuditIdentity | undefined;
  consoleSession: boolean;
}

async function callerViews(): Promise<Map<Persona, CallerView>> {
  const views = new Map<Persona, CallerView>();
  for (const persona of PERSONAS) {
    // The services' own resolver, on the headers the persona's client sends.
    const request = { headers: clientHeaders(persona) };
    views.set(persona, { identity: await auditIdentity(request), consoleSession: isConsoleRequest(request) });
  }
  return views;
}

/** One tracer per service: each service's spans carry its own resource (service.name…). */
function serviceTracers(ids: SeededIdGenerator, sink: FinishedSpans): Record<ServiceName, Tracer> {
  const entries = SERVICE_NAMES.map((service): [ServiceName, Tracer] => {
    const provider = new BasicTracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({
          [ATTR_SERVICE_NAME]: service,
          [ATTR_SERVICE_VERSION]: DEMO_SERVICE_VERSION,
          [ATTR_CLOUD_REGION]: REGION,
          [ATTR_CLOUD_ACCOUNT_ID]: ACCOUNT_ID,
        }),
      ),
      idGenerator: ids,
      spanProcessors: [sink],
    });
    return [service, provider.getTracer(TRACER_NAME)];
  });
  return Object.fromEntries(entries) as Record<ServiceName, Tracer>;
}

/** What the backfill needs to record one call. */
interface Recorder {
  tracers: Record<ServiceName, Tracer>;
  ids: SeededIdGenerator;
  views: Map<Persona, CallerView>;
  world: World;
  /** Where the history ends: no event may be later (live traffic starts there). */
  toMs: number;
}

/** Makes the call's outcome and its audit span, which the sink collects (unless there is nothing to call). */
function recordCall(planned: PlannedCall, random: SeededRandom, recorder: Recorder): void {
  const { world } = recorder;
  const call = planned.choose(world, random);
  if (call === undefined) return;
  const { persona } = planned;
  // What the service would make up for this call (request id, duration, a new instance's id), from
  // the call's own seed: the same in every run, whatever else happened before it.
  const serviceRandom = new SeededRandom(seedFor(planned.seed, SERVICE_STREAM));
  const requestId = serviceRandom.uuid();
  const durationMs = serviceRandom.int(3, 60);
  const outcome = predictOutcome(call, persona.caller, world, serviceRandom);
  world.apply(call, persona.caller.userName, outcome);
  const view = recorder.views.get(persona) ?? { identity: undefined, consoleSession: false };
  recorder.ids.reseed(seedFor(planned.seed, ID_STREAM));
  // The span starts when the request arrives and ends, the event's time, when it is answered.
  const span = recorder.tracers[specOf(call).service].startSpan(auditSpanName(call), {
    kind: SpanKind.SERVER,
    startTime: planned.timeMs,
    attributes: auditSpanAttributes({
      call,
      outcome,
      identity: view.identity,
      consoleSession: view.consoleSession,
      sourceIp: persona.sourceIp,
      userAgent: persona.userAgent,
      requestId,
    }),
  });
  span.end(Math.min(planned.timeMs + durationMs, recorder.toMs - 1));
}

export async function writeHistory(options: BackfillOptions): Promise<BackfillResult> {
  const toMs = floorToMinute(options.endMs);
  const fromMs = toMs - Math.round(options.days * MINUTES_PER_DAY) * MINUTE_MS;
  const sender = new OtlpBatchSender(options.otlp);
  const sink = new FinishedSpans();
  const ids = new SeededIdGenerator();
  const recorder: Recorder = {
    tracers: serviceTracers(ids, sink),
    ids,
    views: await callerViews(),
    world: new World(),
    toMs,
  };
  const story = johnCreatesMary(storyTimeInHistory(fromMs, toMs), options.seed);
  let events = 0;
  try {
    for (let minuteMs = fromMs; minuteMs < toMs && !options.signal.aborted; minuteMs += MINUTE_MS) {
      const { calls: background, random } = planMinute(options.seed, minuteMs, options.rate);
      const plan = sortByTime([...background, ...callsBetween(story, minuteMs, minuteMs + MINUTE_MS)]);
      for (const planned of callsBetween(plan, minuteMs, toMs)) recordCall(planned, random, recorder);
      if (sink.count >= SPANS_PER_EXPORT) events += await sender.send(sink.take());
    }
    events += await sender.send(sink.take());
  } finally {
    await sender.shutdown();
  }
  return { events, fromMs, toMs };
}

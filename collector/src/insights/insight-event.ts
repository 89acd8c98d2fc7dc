/*
 * An insight transition → a stored AwsCloudTrailInsight record. IDs are derived from the
 * insight's identity (type, API, first minute), not drawn at random: an evaluation repeated after
 * a crash, or by a second collector on a shared store, writes the same IDs and the store keeps
 * one copy.
 */
import type { InsightAttribution, InsightRecord, StoredEvent } from '../events/cloudtrail-record.js';
import { EVENT_CATEGORY_INSIGHT, EVENT_TYPE_INSIGHT, EVENT_VERSION } from '../events/cloudtrail-record.js';
import { deterministicEventId } from '../events/event-id.js';
import type { InsightType } from './insight-settings.js';
import { MINUTE_MS } from './insight-settings.js';
import type { InsightFigures, InsightTransition } from './series-detector.js';

export interface InsightSubject {
  eventSource: string;
  eventName: string;
  type: InsightType;
}

export interface InsightEventInput {
  subject: InsightSubject;
  transition: InsightTransition;
  attributions: InsightAttribution[];
  /** Minutes of history the baseline could draw on. */
  baselineMinutes: number;
  threshold: number;
  /** Whether the call rate counts reads too (else write calls only). */
  countsReadCalls: boolean;
}

/** Averages are rates: four significant digits say all there is to say. */
function round(value: number): number {
  return Number(value.toPrecision(4));
}

function formatRate(type: InsightType, value: number): string {
  return type === 'ApiErrorRateInsight' ? `${round(value * 100)}% errors` : `${round(value)}/min`;
}

function clock(minute: number): string {
  return `${new Date(minute * MINUTE_MS).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** One sentence a person can act on, with the figures behind the insight. */
export function summarize(input: InsightEventInput): string {
  const { subject, transition, countsReadCalls } = input;
  const figures: InsightFigures = transition.figures;
  const what =
    subject.type === 'ApiCallRateInsight'
      ? `${subject.eventName} (${subject.eventSource}) ${countsReadCalls ? 'calls' : 'write calls'}`
      : `Errors on ${subject.eventName} (${subject.eventSource})`;
  const observed = formatRate(subject.type, figures.insightAverage);
  const expected = formatRate(subject.type, figures.baselineAverage);
  const ratio =
    figures.baselineAverage > 0 ? `${round(figures.insightAverage / figures.baselineAverage)}× ` : '';
  const baseline =
    figures.baselineKind === 'seasonal'
      ? 'baseline: the same time of day on earlier days'
      : 'baseline warming up: the trailing hour, too little history for time of day yet';
  const score = `z = ${round(figures.peakScore)} ≥ ${input.threshold}`;
  if (transition.state === 'Start') {
    const verb = figures.direction === 'decrease' ? 'dropped to' : 'at';
    return `${what} ${verb} ${observed} since ${clock(figures.startMinute)}, ${ratio}the expected ${expected} (${score}; ${baseline}).`;
  }
  const minutes = figures.endMinute - figures.startMinute;
  const ending =
    transition.reason === 'normal'
      ? 'back to normal'
      : 'still unusual, ended as the new normal and returned to the baseline';
  return `${what} ${ending} at ${clock(figures.endMinute)} after ${minutes} min: averaged ${observed} against ${expected} expected (${score}).`;
}

export function insightEvent(input: InsightEventInput): StoredEvent<InsightRecord> {
  const { subject, transition } = input;
  const { figures } = transition;
  const identity = `${subject.type}\u0000${subject.eventSource}\u0000${subject.eventName}\u0000${figures.startMinute}`;
  const startMs = figures.startMinute * MINUTE_MS;
  const eventTimeMs = transition.state === 'Start' ? startMs : figures.endMinute * MINUTE_MS;
  const record: InsightRecord = {
    eventVersion: EVENT_VERSION,
    eventTime: new Date(eventTimeMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventID: deterministicEventId(eventTimeMs, `${identity}\u0000${transition.state}`),
    eventType: EVENT_TYPE_INSIGHT,
    sharedEventID: deterministicEventId(startMs, identity),
    insightDetails: {
      state: transition.state,
      eventSource: subject.eventSource,
      eventName: subject.eventName,
      insightType: subject.type,
      insightContext: {
        statistics: {
          baseline: { average: round(figures.baselineAverage) },
          insight: { average: round(figures.insightAverage) },
          ...(transition.state === 'End' ? { insightDuration: figures.endMinute - figures.startMinute } : {}),
          baselineDuration: input.baselineMinutes,
        },
        attributions: input.attributions,
      },
    },
    eventCategory: EVENT_CATEGORY_INSIGHT,
    crumbtrail: {
      origin: 'insights',
      insight: {
        score: round(figures.peakScore),
        threshold: input.threshold,
        baseline: figures.baselineKind,
        callsPerMinute: round(figures.callsPerMinute),
        ...(transition.state === 'End' ? { endReason: transition.reason } : {}),
        ...(figures.direction === 'decrease' ? { direction: 'decrease' as const } : {}),
        summary: summarize(input),
      },
    },
  };
  return { record, eventTimeMs, username: undefined };
}

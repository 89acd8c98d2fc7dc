/*
 * The benchmark's workload: audit spans shaped like the instrumentation's (~17 attributes each),
 * made by the real OpenTelemetry SDK and serialised once, up front, by the official OTLP
 * serializers, so that the measured loops only send and ingest.
 */
import { SpanKind } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import * as A from '@crumbtrail/instrumentation/attributes';

export const EVENT_NAMES = [
  'CreateUser',
  'DeleteUser',
  'ListUsers',
  'AttachUserPolicy',
  'RunInstances',
  'DescribeInstances',
  'TerminateInstances',
  'GetObject',
  'PutObject',
  'ListBuckets',
];
export const USER_COUNT = 500;

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function auditAttributes(i: number, random: () => number): Attributes {
  const eventName = EVENT_NAMES[Math.floor(random() * EVENT_NAMES.length)]!;
  const user = `user-${Math.floor(random() * USER_COUNT)}`;
  const readOnly = /^(List|Describe|Get)/.test(eventName);
  return {
    [A.ATTR_CRUMBTRAIL_EVENT_NAME]: eventName,
    [A.ATTR_CRUMBTRAIL_IDENTITY_TYPE]: 'IAMUser',
    [A.ATTR_USER_ID]: `AIDA${user.toUpperCase()}`,
    [A.ATTR_USER_NAME]: user,
    [A.ATTR_CRUMBTRAIL_IDENTITY_ARN]: `arn:aws:iam::111122223333:user/${user}`,
    [A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID]: `AKIA${(i % 997).toString().padStart(12, '0')}`,
    [A.ATTR_CLIENT_ADDRESS]: `10.${i % 7}.${i % 251}.${i % 13}`,
    [A.ATTR_USER_AGENT_ORIGINAL]: 'aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64',
    [A.ATTR_HTTP_REQUEST_METHOD]: readOnly ? 'GET' : 'POST',
    [A.ATTR_HTTP_ROUTE]: '/v1/resources/:id',
    [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: random() < 0.03 ? 403 : 200,
    [A.ATTR_CRUMBTRAIL_READ_ONLY]: readOnly,
    [A.ATTR_CRUMBTRAIL_RESOURCE_TYPES]: ['User'],
    [A.ATTR_CRUMBTRAIL_RESOURCE_NAMES]: [`resource-${i % 100_000}`],
    [A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS]: JSON.stringify({
      userName: `resource-${i % 100_000}`,
      path: '/',
    }),
    [A.ATTR_CRUMBTRAIL_REQUEST_ID]: `req-${i}`,
    [A.ATTR_CRUMBTRAIL_CONSOLE_SESSION]: false,
  };
}

/** `count` finished spans, one per call, spread one millisecond apart from `startMs`. */
export function makeAuditSpans(count: number, startMs: number, seed: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'iam',
      'service.version': '1.4.2',
      'cloud.region': 'eu-west-1',
    }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
    spanLimits: { attributeCountLimit: 64 },
  });
  const tracer = provider.getTracer('crumbtrail-bench');
  const random = seededRandom(seed);
  for (let i = 0; i < count; i++) {
    const end = new Date(startMs + i);
    const span = tracer.startSpan('POST /v1/resources/:id', {
      kind: SpanKind.SERVER,
      startTime: new Date(startMs + i - 3),
      attributes: auditAttributes(i, random),
    });
    span.end(end);
  }
  return memory.getFinishedSpans();
}

export interface SerializedBatches {
  protobuf: Uint8Array[];
  json: Uint8Array[];
  spansPerBatch: number;
}

/** Serialises spans into export requests of `batchSize` spans in both encodings. */
export function serializeBatches(spans: ReadableSpan[], batchSize: number): SerializedBatches {
  const protobuf: Uint8Array[] = [];
  const json: Uint8Array[] = [];
  for (let offset = 0; offset < spans.length; offset += batchSize) {
    const batch = spans.slice(offset, offset + batchSize);
    protobuf.push(ProtobufTraceSerializer.serializeRequest(batch)!);
    json.push(JsonTraceSerializer.serializeRequest(batch)!);
  }
  return { protobuf, json, spansPerBatch: batchSize };
}

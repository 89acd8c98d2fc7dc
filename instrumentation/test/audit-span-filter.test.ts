/*
 * An SDK with two destinations, as a team with its own trace backend has: the audit processor
 * (createAuditSpanProcessor) must forward only audit spans to the collector, and the team's ordinary
 * exporter, wrapped in withoutAuditAttributes(), must never receive crumbtrail's audit data. A real
 * tracer provider with in-memory exporters on both sides.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import * as A from '../src/attributes.js';
import { withoutAuditAttributes } from '../src/audit-span-filter.js';
import { createAuditSpanProcessor } from '../src/audit-span-processor.js';
import { recordApiCall } from '../src/record-api-call.js';

/** One audit call and one ordinary span (a database query inside it, say). */
function recordTraffic(): void {
  recordApiCall(
    {
      eventName: 'CreateUser',
      identity: { userName: 'John' },
      requestParameters: { userName: 'Mary' },
    },
    () => {
      trace.getTracer('app').startActiveSpan('INSERT users', (span) => {
        span.setAttribute('db.system.name', 'postgresql');
        span.end();
      });
    },
  );
}

describe('audit spans and ordinary spans', () => {
  const audit = new InMemorySpanExporter();
  const ordinary = new InMemorySpanExporter();
  const everything = new InMemorySpanExporter();
  const dropped = new InMemorySpanExporter();
  let provider: BasicTracerProvider;
  let auditProcessor: SpanProcessor;
  let everythingProcessor: SpanProcessor;

  before(() => {
    auditProcessor = createAuditSpanProcessor({ exporter: audit, flushOnExit: false });
    everythingProcessor = createAuditSpanProcessor({
      exporter: everything,
      auditSpansOnly: false,
      flushOnExit: false,
    });
    provider = new BasicTracerProvider({
      spanProcessors: [
        auditProcessor,
        everythingProcessor,
        new SimpleSpanProcessor(withoutAuditAttributes(ordinary)),
        new SimpleSpanProcessor(withoutAuditAttributes(dropped, { dropAuditSpans: true })),
      ],
    });
    trace.disable();
    trace.setGlobalTracerProvider(provider);
  });
  afterEach(async () => {
    // The batch processors may still hold this test's spans: flush them before the next test.
    await auditProcessor.forceFlush();
    await everythingProcessor.forceFlush();
    for (const exporter of [audit, ordinary, everything, dropped]) exporter.reset();
  });
  after(async () => {
    await provider.shutdown();
    trace.disable();
  });

  it('createAuditSpanProcessor forwards only audit spans to the collector', async () => {
    recordTraffic();
    await auditProcessor.forceFlush();
    assert.deepEqual(
      audit.getFinishedSpans().map((span) => span.name),
      ['CreateUser'],
    );
  });

  it('forwards every span with auditSpansOnly: false', async () => {
    recordTraffic();
    await everythingProcessor.forceFlush();
    assert.deepEqual(
      everything
        .getFinishedSpans()
        .map((span) => span.name)
        .sort(),
      ['CreateUser', 'INSERT users'],
    );
  });

  it('withoutAuditAttributes keeps every span but no crumbtrail attribute on the ordinary exporter', async () => {
    recordTraffic();
    const spans = ordinary.getFinishedSpans();
    assert.deepEqual(spans.map((span) => span.name).sort(), ['CreateUser', 'INSERT users']);
    const call = spans.find((span) => span.name === 'CreateUser');
    assert.ok(call !== undefined);
    assert.deepEqual(
      Object.keys(call.attributes).filter((key) => key.startsWith('crumbtrail.')),
      [],
      'no audit data on the ordinary exporter',
    );
    assert.equal(call.attributes[A.ATTR_USER_NAME], 'John', 'semantic-convention attributes stay');
    const query = spans.find((span) => span.name === 'INSERT users');
    assert.equal(query?.attributes['db.system.name'], 'postgresql');
    await auditProcessor.forceFlush();
    const recorded = audit.getFinishedSpans()[0];
    assert.ok(
      recorded?.attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS] !== undefined,
      'the audit side keeps them',
    );
    assert.equal(call.spanContext().spanId, recorded.spanContext().spanId, 'the same span, ids and all');
  });

  it('withoutAuditAttributes({ dropAuditSpans: true }) leaves audit spans out entirely', () => {
    recordTraffic();
    assert.deepEqual(
      dropped.getFinishedSpans().map((span) => span.name),
      ['INSERT users'],
    );
  });
});

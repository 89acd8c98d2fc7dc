/*
 * End to end: the real audit trail (startAuditTrail + OpenTelemetry's http instrumentation) in an
 * Express 5 service, exporting OTLP/HTTP protobuf to the real built collector, whose query API
 * then returns one CloudTrail record per call with what the service knew about it.
 *
 * Needs the collector built first: `npx tsc -b collector instrumentation`.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { Express, NextFunction, Request, Response } from 'express';
import type { CollectorProcess } from '../../collector/test/support/collector-process.js';
import { getJson, startCollectorProcess } from '../../collector/test/support/collector-process.js';
import { audit, auditErrorHandler, auditMiddleware } from '../src/express.js';
import { startAuditTrail } from '../src/sdk.js';
import type { AuditTrail } from '../src/sdk.js';

/** The fields of the collector's CloudTrail record this test looks at. */
interface EventRecord {
  eventTime: string;
  eventSource: string;
  eventName: string;
  userIdentity: { type?: string; userName?: string; accessKeyId?: string };
  resources?: { type?: string; name?: string; ARN?: string }[];
  sourceIPAddress?: string;
  userAgent?: string;
  readOnly: boolean;
  errorCode?: string;
  errorMessage?: string;
  requestID?: string;
  crumbtrail: {
    traceId?: string;
    spanId?: string;
    parentSpanId?: string;
    peerAddress?: string;
    httpStatusCode?: number;
    origin?: string;
  };
}

class AccessDenied extends Error {
  readonly code = 'AccessDenied';
  readonly status = 403;
}

const USER_AGENT = 'iam-cli/2.3.1 (e2e test)';
const CLIENT_IP = '203.0.113.7';
/** The callers' trace context (W3C traceparent), one trace per call. */
const CREATE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const DELETE_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** Express is loaded only once the audit trail runs (see `before`). */
async function buildApp(): Promise<Express> {
  const { default: express } = await import('express');
  const app = express();
  app.use(express.json());
  app.use(
    auditMiddleware({
      identity: (req) => ({
        type: 'IAMUser',
        userName: req.header('x-user'),
        accessKeyId: req.header('x-access-key-id'),
      }),
      trustProxy: 'loopback',
    }),
  );
  app.post(
    '/users',
    audit({
      eventName: 'CreateUser',
      resources: (req) => [{ type: 'User', name: (req.body as { userName: string }).userName }],
    }),
    (req, res) => {
      res.status(201).json({ user: { userName: (req.body as { userName: string }).userName } });
    },
  );
  app.delete(
    '/users/:userName',
    audit({
      eventName: 'DeleteUser',
      resources: (req) => [{ type: 'User', name: String(req.params.userName) }],
    }),
    () => {
      throw new AccessDenied('John is not authorized to perform iam:DeleteUser');
    },
  );
  app.use(auditErrorHandler());
  app.use((error: AccessDenied, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status).json({ code: error.code, message: error.message });
  });
  return app;
}

async function listen(app: Express): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error?: Error) => {
      if (error) reject(error);
      else resolve(s);
    });
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function headersOf(user: string, traceId: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-user': user,
    'x-access-key-id': 'AKIAJOHN0000EXAMPLE',
    'x-forwarded-for': CLIENT_IP,
    traceparent: `00-${traceId}-${PARENT_SPAN_ID}-01`,
  };
}

async function eventsNamed(collector: CollectorProcess, eventName: string): Promise<EventRecord[]> {
  const { status, body } = await getJson<{ events: EventRecord[] }>(
    collector.apiUrl,
    `/api/v1/events?eventName=${encodeURIComponent(eventName)}`,
  );
  assert.equal(status, 200);
  return body.events;
}

/** The collector commits in batches: poll briefly for what was exported. */
async function waitForEvents(
  collector: CollectorProcess,
  eventName: string,
  count: number,
): Promise<EventRecord[]> {
  let events: EventRecord[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    events = await eventsNamed(collector, eventName);
    if (events.length >= count) return events;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return events;
}

function assertWithin(eventTime: string, startMs: number, endMs: number): void {
  const ms = Date.parse(eventTime);
  assert.ok(
    ms >= startMs && ms <= endMs,
    `eventTime ${eventTime} outside the call's window ${new Date(startMs).toISOString()} … ${new Date(endMs).toISOString()}`,
  );
}

describe('Express service → startAuditTrail → real collector', () => {
  let collector: CollectorProcess;
  let auditTrail: AuditTrail | undefined;
  let server: Server | undefined;
  let url: string;

  before(async () => {
    collector = await startCollectorProcess();
    // As the README asks: the trail starts before the application loads http. The instrumentation
    // patches http.Server.prototype.emit when http is next require()d (require-in-the-middle), which
    // Express's CommonJS require('node:http') does when it loads; an ESM `import 'node:http'` would
    // not, without the import-in-the-middle loader hook.
    auditTrail = startAuditTrail({
      serviceName: 'iam',
      endpoint: collector.otlpUrl,
      protocol: 'http/protobuf',
      instrumentations: [new HttpInstrumentation()],
    });
    ({ server, url } = await listen(await buildApp()));
  });

  after(async () => {
    await auditTrail?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
    metrics.disable();
    await collector.stop();
    if (server !== undefined) {
      server.closeAllConnections();
      const closing = server;
      await new Promise<void>((resolve) => {
        closing.close(() => {
          resolve();
        });
      });
    }
  });

  it('records John creating Mary as one CreateUser event', async () => {
    const startMs = Date.now();
    const response = await fetch(`${url}/users`, {
      method: 'POST',
      headers: headersOf('John', CREATE_TRACE_ID),
      body: JSON.stringify({ userName: 'Mary' }),
    });
    assert.equal(response.status, 201);
    assert.deepEqual(await response.json(), { user: { userName: 'Mary' } });
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId);
    await auditTrail!.forceFlush();
    const endMs = Date.now();

    const events = await waitForEvents(collector, 'CreateUser', 1);
    assert.equal(events.length, 1, `one event per call, got ${JSON.stringify(events)}`);
    const event = events[0]!;
    assert.equal(event.eventName, 'CreateUser');
    assert.equal(event.eventSource, 'iam');
    assert.equal(event.userIdentity.type, 'IAMUser');
    assert.equal(event.userIdentity.userName, 'John');
    assert.equal(event.userIdentity.accessKeyId, 'AKIAJOHN0000EXAMPLE');
    assert.deepEqual(event.resources, [{ type: 'User', name: 'Mary' }]);
    assert.equal(event.sourceIPAddress, CLIENT_IP);
    assert.equal(event.userAgent, USER_AGENT);
    assert.equal(event.readOnly, false);
    assert.equal(event.requestID, requestId);
    assert.equal('errorCode' in event, false);
    assert.equal('errorMessage' in event, false);
    assertWithin(event.eventTime, startMs, endMs);
    assert.equal(event.crumbtrail.peerAddress, '127.0.0.1');
    // The span is the http instrumentation's server span, which continued the caller's trace; one
    // crumbtrail started itself would be a new root.
    assert.equal(event.crumbtrail.traceId, CREATE_TRACE_ID);
    assert.equal(event.crumbtrail.parentSpanId, PARENT_SPAN_ID);
    assert.equal(event.crumbtrail.httpStatusCode, 201);
    assert.equal(auditTrail!.stats().dropped, 0);
  });

  it('records the AccessDenied call with its error code and message', async () => {
    const startMs = Date.now();
    const response = await fetch(`${url}/users/Mary`, {
      method: 'DELETE',
      headers: headersOf('John', DELETE_TRACE_ID),
    });
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), {
      code: 'AccessDenied',
      message: 'John is not authorized to perform iam:DeleteUser',
    });
    await auditTrail!.forceFlush();
    const endMs = Date.now();

    const events = await waitForEvents(collector, 'DeleteUser', 1);
    assert.equal(events.length, 1, `one event per call, got ${JSON.stringify(events)}`);
    const event = events[0]!;
    assert.equal(event.userIdentity.userName, 'John');
    assert.deepEqual(event.resources, [{ type: 'User', name: 'Mary' }]);
    assert.equal(event.sourceIPAddress, CLIENT_IP);
    assert.equal(event.userAgent, USER_AGENT);
    assert.equal(event.readOnly, false);
    assert.equal(event.errorCode, 'AccessDenied');
    assert.equal(event.errorMessage, 'John is not authorized to perform iam:DeleteUser');
    assert.equal(event.crumbtrail.httpStatusCode, 403);
    assert.equal(event.crumbtrail.traceId, DELETE_TRACE_ID);
    assert.equal(event.crumbtrail.parentSpanId, PARENT_SPAN_ID);
    assertWithin(event.eventTime, startMs, endMs);
  });

  it('stored exactly one event per call, on the http instrumentation span (no duplicates)', async () => {
    // Whatever name: only the two audited calls reached the collector, one event each.
    const { body } = await getJson<{ events: EventRecord[] }>(collector.apiUrl, '/api/v1/events');
    assert.deepEqual(body.events.map((event) => event.eventName).sort(), ['CreateUser', 'DeleteUser']);
    assert.equal(body.events.length, 2);
    // Two spans in all: crumbtrail enriched the http instrumentation's server span of each call
    // instead of starting its own, and the exporter's own requests made none.
    const stats = auditTrail!.stats();
    assert.deepEqual(
      { ended: stats.ended, exported: stats.exported, failed: stats.failed, dropped: stats.dropped },
      { ended: 2, exported: 2, failed: 0, dropped: 0 },
    );
  });
});

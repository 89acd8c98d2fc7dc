/*
 * The Express adapter on real Express 4 and 5 servers on 127.0.0.1, with and without
 * OpenTelemetry's http instrumentation: every audit field lands on the span of the request.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import express5 from 'express';
import express4 from 'express4';
import type { Express, NextFunction, Request, Response } from 'express';
import * as A from '../src/attributes.js';
import { audit, auditErrorHandler, auditMiddleware } from '../src/express.js';
import type { ExpressAuditConfig } from '../src/express.js';
import type { TestTracing } from './support/tracing.js';
import {
  captureDiagErrors,
  recordedReadOnly,
  recordedSourceAddress,
  startTracing,
  waitForAuditSpans,
} from './support/tracing.js';

class AccessDenied extends Error {
  readonly code = 'AccessDenied';
  readonly status = 403;
}

function buildApp(make: () => Express, config: ExpressAuditConfig): Express {
  const app = make();
  app.use(express5.json());
  app.use(auditMiddleware(config));
  app.post(
    '/users',
    audit({
      eventName: 'CreateUser',
      resources: (req) => [{ type: 'User', name: (req.body as { userName: string }).userName }],
      requestParameters: true,
      responseElements: true,
    }),
    (req, res) => {
      res
        .status(201)
        .json({ user: { userName: (req.body as { userName: string }).userName, password: 'p4ss' } });
    },
  );
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.delete('/users/:id', audit({ eventName: 'DeleteUser' }), () => {
    throw new AccessDenied('John may not delete users');
  });
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  app.use(auditErrorHandler());
  app.use((error: AccessDenied, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status).json({ message: error.message });
  });
  return app;
}

async function listen(app: Express): Promise<{ server: Server; url: string }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => {
      resolve(s);
    });
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const variants = [
  { name: 'Express 5', make: () => express5() },
  { name: 'Express 4', make: () => express4() as unknown as Express },
];

for (const variant of variants) {
  for (const httpInstrumentation of [true, false]) {
    describe(`${variant.name}, ${httpInstrumentation ? 'with' : 'without'} the http instrumentation`, () => {
      let tracing: TestTracing;
      let server: Server;
      let url: string;
      before(async () => {
        tracing = startTracing({ httpInstrumentation });
        ({ server, url } = await listen(
          buildApp(variant.make, {
            eventSource: 'iam.example.com',
            trustProxy: ['loopback'],
            identity: async (req) => {
              await new Promise((resolve) => setTimeout(resolve, 1));
              const user = req.headers['x-user'];
              return typeof user === 'string'
                ? { type: 'IAMUser', userName: user, accessKeyId: 'AKIAJOHN' }
                : undefined;
            },
            ignore: (req) => req.path === '/health',
          }),
        ));
      });
      afterEach(() => {
        tracing.exporter.reset();
      });
      after(async () => {
        await new Promise((resolve) => server.close(resolve));
        await tracing.shutdown();
      });

      it('records a CreateUser call with caller, resource, parameters (redacted), IP and agent', async () => {
        const response = await fetch(`${url}/users`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-user': 'John',
            'user-agent': 'aws-cli/2.15',
            'x-forwarded-for': '203.0.113.7',
            'x-request-id': 'req-123',
          },
          body: JSON.stringify({ userName: 'Mary', password: 'hunter2' }),
        });
        assert.equal(response.status, 201);
        assert.equal(response.headers.get('x-request-id'), 'req-123');
        const [span] = await waitForAuditSpans(tracing, 1);
        const attributes = span!.attributes;
        if (httpInstrumentation) {
          // One span per call: the http instrumentation's server span, enriched.
          assert.equal(tracing.exporter.getFinishedSpans().length, 1, 'one span per call');
          assert.equal(span!.instrumentationScope.name, '@opentelemetry/instrumentation-http');
        } else {
          assert.equal(span!.instrumentationScope.name, '@crumbtrail/instrumentation');
        }
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'CreateUser');
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_SOURCE], 'iam.example.com');
        assert.equal(recordedReadOnly(attributes), false);
        assert.equal(attributes[A.ATTR_USER_NAME], 'John');
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'IAMUser');
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID], 'AKIAJOHN');
        assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES], ['User']);
        assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_NAMES], ['Mary']);
        // The loopback proxy is trusted, so the forwarded client address is believed.
        assert.equal(recordedSourceAddress(attributes), '203.0.113.7');
        assert.equal(attributes['network.peer.address'], '127.0.0.1');
        assert.equal(attributes[A.ATTR_USER_AGENT_ORIGINAL], 'aws-cli/2.15');
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], 'req-123');
        assert.equal(attributes[A.ATTR_HTTP_ROUTE], '/users');
        assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS])), {
          body: { userName: 'Mary', password: '[REDACTED]' },
        });
        assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS])), {
          user: { userName: 'Mary', password: '[REDACTED]' },
        });
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], undefined);
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], undefined);
      });

      it('derives the event name from the route and records reads without parameters by default', async () => {
        await fetch(`${url}/users/42?expand=true`, {
          headers: {
            'sec-fetch-site': 'same-origin',
            'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120',
          },
        });
        const [span] = await waitForAuditSpans(tracing, 1);
        assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'GetUsersById');
        assert.equal(recordedReadOnly(span!.attributes), true);
        assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS], undefined);
        assert.equal(
          span!.attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION],
          true,
          'a browser fetch is a console call',
        );
        assert.match(String(span!.attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID]), /^[0-9a-f-]{36}$/);
      });

      it('takes errorCode and errorMessage from a thrown error', async () => {
        const response = await fetch(`${url}/users/7`, { method: 'DELETE', headers: { 'x-user': 'John' } });
        assert.equal(response.status, 403);
        const [span] = await waitForAuditSpans(tracing, 1);
        assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'DeleteUser');
        assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'AccessDenied');
        assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'John may not delete users');
      });

      it('takes errorCode from a 4xx status when nothing was thrown', async () => {
        await fetch(`${url}/nowhere`);
        const [span] = await waitForAuditSpans(tracing, 1);
        assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'NotFound');
      });

      it('leaves out ignored requests', async () => {
        await fetch(`${url}/health`);
        await fetch(`${url}/users/1`);
        const spans = await waitForAuditSpans(tracing, 1);
        assert.deepEqual(
          spans.map((s) => s.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME]),
          ['GetUsersById'],
        );
      });
    });
  }
}

describe('hooks that throw never break a request', () => {
  let tracing: TestTracing;
  let diagErrors: ReturnType<typeof captureDiagErrors>;
  let logged: string[];
  before(() => {
    tracing = startTracing({ httpInstrumentation: false });
    diagErrors = captureDiagErrors();
    logged = diagErrors.messages;
  });
  after(async () => {
    diagErrors.restore();
    await tracing.shutdown();
  });

  it('records the call without what the throwing identity, resources and hook would give', async () => {
    const app = express5();
    app.use(
      auditMiddleware({
        identity: () => Promise.reject(new Error('identity store down')),
        responseHook: () => {
          throw new Error('hook bug');
        },
      }),
    );
    app.get(
      '/things',
      audit({
        resources: () => {
          throw new Error('resources bug');
        },
      }),
      (_req, res) => {
        res.json([]);
      },
    );
    const { server, url } = await listen(app);
    try {
      const response = await fetch(`${url}/things`);
      assert.equal(response.status, 200);
      const [span] = await waitForAuditSpans(tracing, 1);
      assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'GetThings');
      assert.equal(span!.attributes[A.ATTR_USER_NAME], undefined);
      assert.equal(logged.filter((m) => /identity resolver|resources|responseHook/.test(m)).length, 3);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/*
 * The Fastify adapter on a real Fastify 5 server on 127.0.0.1, with and without OpenTelemetry's
 * http instrumentation: every audit field lands on the one span of the request.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import * as A from '../src/attributes.js';
import { auditPlugin } from '../src/fastify.js';
import type { FastifyAuditConfig } from '../src/fastify.js';
import type { TestTracing } from './support/tracing.js';
import {
  captureDiagErrors,
  recordedReadOnly,
  recordedSourceAddress,
  startTracing,
  waitForAuditSpans,
} from './support/tracing.js';

/** Waits until `count` spans of any kind have finished. */
async function waitForFinishedSpans(tracing: TestTracing, count: number): Promise<ReadableSpan[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const spans = tracing.exporter.getFinishedSpans();
    if (spans.length >= count) return spans;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`expected ${count} spans, got ${tracing.exporter.getFinishedSpans().length}`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

class AccessDenied extends Error {
  readonly code = 'AccessDenied';
  readonly statusCode = 403;
}

interface UserBody {
  userName: string;
  password?: string;
}

function buildApp(config: FastifyAuditConfig): FastifyInstance {
  const app = Fastify();
  app.register(auditPlugin, config);
  app.post<{ Body: UserBody }>(
    '/users',
    {
      config: {
        audit: {
          eventName: 'CreateUser',
          // Computed when the reply is sent: the id the handler created is known by then.
          resources: (_request, reply) => [
            {
              type: 'User',
              name: String(reply.getHeader('x-user-id')),
              arn: `arn:aws:iam::123456789012:user/${String(reply.getHeader('x-user-id'))}`,
              accountId: '123456789012',
            },
          ],
          requestParameters: true,
          responseElements: true,
        },
      },
    },
    async (request, reply) => {
      reply.header('x-user-id', 'u-1');
      reply.code(201);
      return { user: { id: 'u-1', userName: request.body.userName, password: 'p4ss' } };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/users/:id',
    // Asking for responseElements on a read: CloudTrail records them for writes only.
    { config: { audit: { requestParameters: true, responseElements: true } } },
    (request, reply) => {
      reply.send({ id: request.params.id, secretAccessKey: 'abc' });
    },
  );
  app.post(
    '/users/search',
    {
      config: {
        audit: {
          readOnly: true,
          eventCategory: 'Data',
          eventSource: 'search.example.com',
          responseElements: true,
          identity: () => ({ type: 'AWSService', invokedBy: 'search.amazonaws.com' }),
        },
      },
    },
    (_request, reply) => {
      reply.send({ users: [] });
    },
  );
  app.put('/users/:id', () => Promise.resolve({ updated: true }));
  app.delete('/users/:id', { config: { audit: { eventName: 'DeleteUser' } } }, () =>
    Promise.reject(new AccessDenied('John may not delete users')),
  );
  app.get('/health', (_request, reply) => {
    reply.send('ok');
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    reply.code(error.statusCode ?? 500).send({ message: error.message });
  });
  return app;
}

for (const httpInstrumentation of [true, false]) {
  describe(`Fastify 5, ${httpInstrumentation ? 'with' : 'without'} the http instrumentation`, () => {
    let tracing: TestTracing;
    let app: FastifyInstance;
    let url: string;
    before(async () => {
      tracing = startTracing({ httpInstrumentation });
      // The instrumentation patches node:http when it is next required (as an application loaded
      // after the SDK started would); Fastify itself required it before the tracing started.
      if (httpInstrumentation) createRequire(import.meta.url)('node:http');
      app = buildApp({
        eventSource: 'iam.example.com',
        identity: async (request) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          const user = request.headers['x-user'];
          return typeof user === 'string'
            ? { type: 'IAMUser', userName: user, principalId: `id-${user}`, accessKeyId: 'AKIAJOHN' }
            : undefined;
        },
        ignore: (request) => request.url === '/health',
      });
      url = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    afterEach(() => {
      tracing.exporter.reset();
    });
    after(async () => {
      await app.close();
      await tracing.shutdown();
    });

    /** The one audit span of the request; with the http instrumentation, the only span at all. */
    async function onlySpan(): Promise<Record<string, unknown>> {
      const spans = await waitForAuditSpans(tracing, 1);
      assert.equal(spans.length, 1, 'one audit span per request');
      assert.equal(
        spans[0]!.instrumentationScope.name,
        httpInstrumentation ? '@opentelemetry/instrumentation-http' : '@crumbtrail/instrumentation',
        httpInstrumentation ? 'crumbtrail enriches the http span' : 'crumbtrail starts its own span',
      );
      if (httpInstrumentation) {
        assert.equal(tracing.exporter.getFinishedSpans().length, 1, 'exactly one span per request');
      }
      return spans[0]!.attributes;
    }

    it('records a write with explicit name, identity, resources, redacted parameters and elements', async () => {
      const response = await fetch(`${url}/users`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-user': 'John',
          'user-agent': 'aws-cli/2.15',
          'x-request-id': 'req-123',
        },
        body: JSON.stringify({ userName: 'Mary', password: 'hunter2' }),
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('x-request-id'), 'req-123');
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'CreateUser');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_SOURCE], 'iam.example.com');
      assert.equal(recordedReadOnly(attributes), false);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_CATEGORY], undefined);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'IAMUser');
      assert.equal(attributes[A.ATTR_USER_NAME], 'John');
      assert.equal(attributes[A.ATTR_USER_ID], 'id-John');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID], 'AKIAJOHN');
      assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES], ['User']);
      assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_NAMES], ['u-1']);
      assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ARNS], ['arn:aws:iam::123456789012:user/u-1']);
      assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ACCOUNT_IDS], ['123456789012']);
      assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS])), {
        body: { userName: 'Mary', password: '[REDACTED]' },
      });
      assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS])), {
        user: { id: 'u-1', userName: 'Mary', password: '[REDACTED]' },
      });
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], 'req-123');
      assert.equal(recordedSourceAddress(attributes), '127.0.0.1');
      assert.equal(attributes['network.peer.address'], '127.0.0.1');
      assert.equal(attributes[A.ATTR_USER_AGENT_ORIGINAL], 'aws-cli/2.15');
      assert.equal(attributes[A.ATTR_HTTP_ROUTE], '/users');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], undefined);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], undefined);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], undefined);
    });

    it('derives the name from the route template, defaults readOnly for GET and never records its response', async () => {
      const response = await fetch(`${url}/users/42?expand=true`);
      assert.equal(response.status, 200);
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'GetUsersById');
      assert.equal(recordedReadOnly(attributes), true);
      assert.equal(attributes[A.ATTR_HTTP_ROUTE], '/users/:id');
      assert.equal(attributes[A.ATTR_USER_NAME], undefined, 'no x-user header: no identity');
      assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS])), {
        query: { expand: 'true' },
        params: { id: '42' },
      });
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS], undefined);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS_OMITTED_BYTES], undefined);
    });

    it('generates a UUID request id when none is given and returns it in the response', async () => {
      const response = await fetch(`${url}/users/1`);
      const returned = response.headers.get('x-request-id');
      assert.match(String(returned), UUID);
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], returned);
    });

    it('honours an explicit readOnly, category, event source and per-route identity', async () => {
      const response = await fetch(`${url}/users/search`, {
        method: 'POST',
        headers: { 'x-user': 'John' },
      });
      assert.equal(response.status, 200);
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'PostUsersSearch');
      assert.equal(recordedReadOnly(attributes), true);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_CATEGORY], 'Data');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_SOURCE], 'search.example.com');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'AWSService');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_INVOKED_BY], 'search.amazonaws.com');
      assert.equal(attributes[A.ATTR_USER_NAME], undefined, 'the route resolver replaces the adapter one');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS], undefined, 'a read-only call');
    });

    it('records a route without audit options under its derived name, readOnly false for PUT', async () => {
      const response = await fetch(`${url}/users/9`, { method: 'PUT' });
      assert.equal(response.status, 200);
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'PutUsersById');
      assert.equal(recordedReadOnly(attributes), false);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS], undefined, 'not captured by default');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS], undefined, 'not captured by default');
    });

    it('takes errorCode and errorMessage from a thrown error with a code', async () => {
      const response = await fetch(`${url}/users/7`, { method: 'DELETE', headers: { 'x-user': 'John' } });
      assert.equal(response.status, 403);
      assert.deepEqual(await response.json(), { message: 'John may not delete users' });
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'DeleteUser');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'AccessDenied');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'John may not delete users');
      assert.equal(attributes[A.ATTR_USER_NAME], 'John');
      const [span] = tracing.auditSpans();
      assert.ok(
        span!.events.some((event) => event.name === 'exception'),
        'the exception is recorded on the span',
      );
    });

    it('takes errorCode from a 404 when nothing was thrown', async () => {
      const response = await fetch(`${url}/nowhere`);
      assert.equal(response.status, 404);
      const attributes = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'NotFound');
      assert.equal(recordedReadOnly(attributes), true);
    });

    it('leaves out ignored requests', async () => {
      const health = await fetch(`${url}/health`);
      assert.equal(await health.text(), 'ok');
      await fetch(`${url}/users/1`);
      const spans = await waitForAuditSpans(tracing, 1);
      assert.deepEqual(
        spans.map((span) => span.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME]),
        ['GetUsersById'],
      );
      if (httpInstrumentation) {
        // The ignored request still has its plain http span, without any audit attribute.
        const all = await waitForFinishedSpans(tracing, 2);
        assert.equal(all.length, 2);
        assert.equal(
          all.filter((span) => span.attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID] !== undefined).length,
          1,
        );
      }
    });
  });
}

describe('Fastify: hooks that throw never break a request', () => {
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
    const app = Fastify();
    app.register(auditPlugin, {
      identity: () => Promise.reject(new Error('identity store down')),
      responseHook: () => {
        throw new Error('hook bug');
      },
    });
    app.get(
      '/things',
      {
        config: {
          audit: {
            resources: () => {
              throw new Error('resources bug');
            },
          },
        },
      },
      (_request, reply) => {
        reply.send([]);
      },
    );
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${url}/things`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), []);
      const [span] = await waitForAuditSpans(tracing, 1);
      assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'GetThings');
      assert.equal(span!.attributes[A.ATTR_USER_NAME], undefined);
      assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES], undefined);
      assert.equal(logged.filter((m) => /identity resolver/.test(m)).length, 1);
      assert.equal(logged.filter((m) => /resources/.test(m)).length, 1);
      assert.equal(logged.filter((m) => /responseHook/.test(m)).length, 1);
    } finally {
      await app.close();
    }
  });

  it('a synchronously throwing identity resolver is logged too', async () => {
    logged.length = 0;
    tracing.exporter.reset();
    const app = Fastify();
    app.register(auditPlugin, {
      identity: () => {
        throw new Error('sync identity bug');
      },
    });
    app.post('/things', { config: { audit: { eventName: 'CreateThing' } } }, async (_request, reply) => {
      reply.code(201);
      return { ok: true };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await fetch(`${url}/things`, { method: 'POST' });
      assert.equal(response.status, 201);
      const [span] = await waitForAuditSpans(tracing, 1);
      assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'CreateThing');
      assert.equal(logged.filter((m) => /identity resolver/.test(m)).length, 1);
    } finally {
      await app.close();
    }
  });
});

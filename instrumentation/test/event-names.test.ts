/*
 * One call, one event name, success or failure: the name derived from the route must not change
 * when the handler throws (an error handler runs outside the router that matched), and a call that
 * matched no route (a probe, a call refused before routing) gets a stable name with its path kept.
 * Real Express 4 and 5, Fastify 5 and node:http servers, with and without the http instrumentation.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import express5 from 'express';
import express4 from 'express4';
import type { Express, NextFunction, Request, Response, Router } from 'express';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import * as A from '../src/attributes.js';
import { NO_ROUTE_EVENT_SUFFIX, deriveHttpEventName } from '../src/conventions.js';
import { auditErrorHandler, auditMiddleware } from '../src/express.js';
import { auditPlugin } from '../src/fastify.js';
import { auditHandler } from '../src/node-http.js';
import type { TestTracing } from './support/tracing.js';
import { startTracing, waitForAuditSpans } from './support/tracing.js';

class Boom extends Error {
  readonly code = 'Boom';
  readonly status = 500;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Observed {
  name: unknown;
  path: unknown;
  errorCode: unknown;
}

async function call(tracing: TestTracing, url: string, init?: RequestInit): Promise<Observed> {
  tracing.exporter.reset();
  await (await fetch(url, init)).arrayBuffer();
  const [span] = await waitForAuditSpans(tracing, 1);
  return {
    name: span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME],
    path: span!.attributes[A.ATTR_URL_PATH],
    errorCode: span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE],
  };
}

describe('the event name of a call that matched no route', () => {
  it('is the method and a marker, never a bare verb', () => {
    assert.equal(deriveHttpEventName('GET', undefined), `Get${NO_ROUTE_EVENT_SUFFIX}`);
    assert.equal(deriveHttpEventName('post', ''), `Post${NO_ROUTE_EVENT_SUFFIX}`);
    assert.equal(NO_ROUTE_EVENT_SUFFIX, 'NoRoute');
  });
});

/**
 * `answerErrors`: an error handler of the application's answers; without it, the README's layout,
 * auditErrorHandler() is last and Express's final handler answers 500 outside every router.
 */
function buildExpress(make: () => Express, makeRouter: () => Router, answerErrors: boolean): Express {
  const app = make();
  const router = makeRouter();
  router.get('/ok', (_req, res) => {
    res.json({ ok: true });
  });
  router.get('/boom', () => {
    throw new Boom('v1 boom');
  });
  router.get('/users/:id', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new Boom('async boom');
  });
  app.use(auditMiddleware({}));
  app.use('/v1', router);
  // The README's layout: routes on the app itself.
  app.get('/boom', () => {
    throw new Boom('boom');
  });
  app.get('/fine', (_req, res) => {
    res.send('fine');
  });
  app.use(auditErrorHandler());
  if (answerErrors) {
    app.use((error: Boom, _req: Request, res: Response, _next: NextFunction) => {
      res.status(error.status).json({ message: error.message });
    });
  }
  return app;
}

const expressVariants = [
  { name: 'Express 5', make: () => express5(), router: () => express5.Router(), asyncErrors: true },
  {
    name: 'Express 4',
    make: () => express4() as unknown as Express,
    router: () => express4.Router() as unknown as Router,
    asyncErrors: false,
  },
];

for (const httpInstrumentation of [true, false]) {
  const withOrWithout = httpInstrumentation ? 'with' : 'without';
  for (const [variant, answerErrors] of expressVariants.flatMap((v) => [
    [v, true] as const,
    [v, false] as const,
  ])) {
    const layout = answerErrors ? 'an error handler' : "the README's layout (Express answers errors)";
    describe(`${variant.name}, ${withOrWithout} the http instrumentation, ${layout}: event names`, () => {
      let tracing: TestTracing;
      let server: Server;
      let url: string;
      before(async () => {
        tracing = startTracing({ httpInstrumentation });
        server = createServer(buildExpress(variant.make, variant.router, answerErrors));
        url = await listen(server);
      });
      afterEach(() => {
        tracing.exporter.reset();
      });
      after(async () => {
        await new Promise((resolve) => server.close(resolve));
        await tracing.shutdown();
      });

      it('keeps the mount path of a router in the name whether the route succeeds or throws', async () => {
        assert.equal((await call(tracing, `${url}/v1/ok`)).name, 'GetV1Ok');
        const failed = await call(tracing, `${url}/v1/boom`);
        assert.equal(failed.name, 'GetV1Boom');
        assert.equal(failed.errorCode, 'Boom');
      });

      it('names a thrown call on an app route as its successful twin would be named', async () => {
        assert.equal((await call(tracing, `${url}/fine`)).name, 'GetFine');
        const failed = await call(tracing, `${url}/boom`);
        assert.equal(failed.name, 'GetBoom');
        assert.equal(failed.errorCode, 'Boom');
      });

      if (variant.asyncErrors) {
        it('names a rejected async handler under a router by its route', async () => {
          const failed = await call(tracing, `${url}/v1/users/42`);
          assert.equal(failed.name, 'GetV1UsersById');
          assert.equal(failed.errorCode, 'Boom');
        });
      }

      it('names a call that matched no route with the marker and keeps its path (not the query)', async () => {
        const probe = await call(tracing, `${url}/admin/.env?token=secret`);
        assert.deepEqual(probe, { name: 'GetNoRoute', path: '/admin/.env', errorCode: 'NotFound' });
        const post = await call(tracing, `${url}/v1/nowhere`, { method: 'POST' });
        assert.deepEqual(post, { name: 'PostNoRoute', path: '/v1/nowhere', errorCode: 'NotFound' });
      });

      if (!httpInstrumentation) {
        // (The http instrumentation sets url.path on every span; the collector keeps it only when
        // the call matched no route.)
        it('does not record the raw path of a call that matched a route', async () => {
          assert.equal((await call(tracing, `${url}/v1/ok`)).path, undefined);
        });
      }
    });
  }

  describe(`Fastify 5, ${withOrWithout} the http instrumentation: event names`, () => {
    let tracing: TestTracing;
    let app: FastifyInstance;
    let url: string;
    before(async () => {
      tracing = startTracing({ httpInstrumentation });
      app = Fastify();
      await app.register(auditPlugin, {});
      await app.register(
        (v1, _options, done) => {
          v1.get('/ok', () => ({ ok: true }));
          v1.get('/boom', () => Promise.reject(new Boom('boom')));
          done();
        },
        { prefix: '/v1' },
      );
      app.setErrorHandler((error: FastifyError, _request, reply) => {
        void reply.code(500).send({ message: error.message });
      });
      url = await app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await app.close();
      await tracing.shutdown();
    });

    it('names success and failure of a prefixed route alike', async () => {
      assert.equal((await call(tracing, `${url}/v1/ok`)).name, 'GetV1Ok');
      const failed = await call(tracing, `${url}/v1/boom`);
      assert.equal(failed.name, 'GetV1Boom');
      assert.equal(failed.errorCode, 'Boom');
    });

    it('names a call that matched no route with the marker and keeps its path', async () => {
      const probe = await call(tracing, `${url}/admin?x=1`);
      assert.deepEqual(probe, { name: 'GetNoRoute', path: '/admin', errorCode: 'NotFound' });
    });
  });

  describe(`node:http, ${withOrWithout} the http instrumentation: a handler without route or name`, () => {
    let tracing: TestTracing;
    let server: Server;
    let url: string;
    before(async () => {
      tracing = startTracing({ httpInstrumentation });
      server = createServer(
        auditHandler({}, (_request, response) => {
          response.end('ok');
        }),
      );
      url = await listen(server);
    });
    after(async () => {
      await new Promise((resolve) => server.close(resolve));
      await tracing.shutdown();
    });

    it('is named with the marker and keeps the path, so calls to different paths can be told apart', async () => {
      assert.deepEqual(await call(tracing, `${url}/a/1?q=2`), {
        name: 'GetNoRoute',
        path: '/a/1',
        errorCode: undefined,
      });
      assert.equal((await call(tracing, `${url}/b`)).path, '/b');
    });
  });
}

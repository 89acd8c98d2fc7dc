/*
 * The caller is resolved when the call completes, after the application's own authentication ran:
 * the README's order (audit first, then auth) records the authenticated user on accepted calls,
 * and rejected calls (a 401 from a bad or missing token) are recorded too, with the auth error.
 * Real Express 4 and 5, Fastify 5 and node:http servers, with and without the http instrumentation.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import express5 from 'express';
import express4 from 'express4';
import type { Express, NextFunction, Request, Response } from 'express';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import * as A from '../src/attributes.js';
import { audit, auditErrorHandler, auditMiddleware } from '../src/express.js';
import { auditPlugin } from '../src/fastify.js';
import { auditHandler } from '../src/node-http.js';
import type { TestTracing } from './support/tracing.js';
import { startTracing, waitForAuditSpans } from './support/tracing.js';

interface User {
  name: string;
  keyId: string;
}

/** What express-jwt and friends throw for a token they refuse. */
class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
  readonly code = 'invalid_token';
  readonly status = 401;
}

/** The application's authentication: a good token sets the user, a bad one is refused. */
function authenticate(authorization: string | undefined): User | 'missing' | UnauthorizedError {
  if (authorization === undefined) return 'missing';
  if (authorization === 'Bearer john') return { name: 'John', keyId: 'AKIAJOHN' };
  return new UnauthorizedError('jwt malformed');
}

type WithUser = { user?: User };

function userOf(request: object): User {
  // As the README's resolver does: `req.user.name` throws when no user was authenticated.
  return (request as WithUser).user!;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function buildExpress(make: () => Express, asyncResolver: boolean): Express {
  const app = make();
  app.use(express5.json());
  app.use(
    auditMiddleware({
      identity: asyncResolver
        ? async (req) => {
            await new Promise((resolve) => setTimeout(resolve, 1));
            return { type: 'IAMUser', userName: userOf(req).name, accessKeyId: userOf(req).keyId };
          }
        : (req) => ({ type: 'IAMUser', userName: userOf(req).name, accessKeyId: userOf(req).keyId }),
    }),
  );
  // The application's auth middleware, after crumbtrail's as the README says.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const outcome = authenticate(req.header('authorization'));
    if (outcome === 'missing') {
      res.status(401).json({ message: 'no token' });
      return;
    }
    if (outcome instanceof Error) {
      next(outcome);
      return;
    }
    (req as WithUser).user = outcome;
    next();
  });
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post(
    '/keys',
    audit({
      eventName: 'CreateAccessKey',
      identity: (req) => ({ type: 'AssumedRole', userName: `${userOf(req).name}@role` }),
    }),
    (_req, res) => {
      res.status(201).json({});
    },
  );
  app.use(auditErrorHandler());
  app.use((error: UnauthorizedError, _req: Request, res: Response, _next: NextFunction) => {
    res.status(error.status).json({ message: error.message });
  });
  return app;
}

const expressVariants = [
  { name: 'Express 5', make: () => express5() },
  { name: 'Express 4', make: () => express4() as unknown as Express },
];

for (const httpInstrumentation of [true, false]) {
  const withOrWithout = httpInstrumentation ? 'with' : 'without';
  for (const variant of expressVariants) {
    for (const asyncResolver of [false, true]) {
      describe(`${variant.name}, ${asyncResolver ? 'async' : 'sync'} resolver, ${withOrWithout} the http instrumentation: identity after auth`, () => {
        let tracing: TestTracing;
        let server: Server;
        let url: string;
        before(async () => {
          tracing = startTracing({ httpInstrumentation });
          server = createServer(buildExpress(variant.make, asyncResolver));
          url = await listen(server);
        });
        afterEach(() => {
          tracing.exporter.reset();
        });
        after(async () => {
          await new Promise((resolve) => server.close(resolve));
          await tracing.shutdown();
        });

        it('records the user the auth middleware set after crumbtrail ran', async () => {
          const response = await fetch(`${url}/users/7`, { headers: { authorization: 'Bearer john' } });
          assert.equal(response.status, 200);
          assert.deepEqual(await response.json(), { id: '7' });
          const [span] = await waitForAuditSpans(tracing, 1);
          assert.equal(span!.attributes[A.ATTR_USER_NAME], 'John');
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'IAMUser');
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID], 'AKIAJOHN');
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], undefined);
        });

        it('records a call the auth middleware refused with next(error), with its code and message', async () => {
          const response = await fetch(`${url}/users/7`, { headers: { authorization: 'Bearer forged' } });
          assert.equal(response.status, 401);
          const [span] = await waitForAuditSpans(tracing, 1);
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'invalid_token');
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'jwt malformed');
          assert.equal(span!.attributes[A.ATTR_USER_NAME], undefined, 'no user was authenticated');
          assert.equal(span!.attributes[A.ATTR_HTTP_RESPONSE_STATUS_CODE], 401);
        });

        it('records a call the auth middleware answered 401 itself', async () => {
          const response = await fetch(`${url}/users/7`);
          assert.equal(response.status, 401);
          assert.deepEqual(await response.json(), { message: 'no token' });
          const [span] = await waitForAuditSpans(tracing, 1);
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'Unauthorized');
          assert.equal(span!.attributes[A.ATTR_USER_NAME], undefined);
        });

        it("resolves a route's own audit({ identity }) after auth as well", async () => {
          const response = await fetch(`${url}/keys`, {
            method: 'POST',
            headers: { authorization: 'Bearer john' },
          });
          assert.equal(response.status, 201);
          const [span] = await waitForAuditSpans(tracing, 1);
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'CreateAccessKey');
          assert.equal(span!.attributes[A.ATTR_USER_NAME], 'John@role');
          assert.equal(span!.attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'AssumedRole');
        });
      });
    }
  }

  describe(`Fastify 5, ${withOrWithout} the http instrumentation: identity after an auth hook`, () => {
    let tracing: TestTracing;
    let app: FastifyInstance;
    let url: string;
    before(async () => {
      tracing = startTracing({ httpInstrumentation });
      app = Fastify();
      await app.register(auditPlugin, {
        identity: async (request: FastifyRequest) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return { type: 'IAMUser', userName: userOf(request).name };
        },
      });
      // The application's authentication, registered after crumbtrail's plugin.
      app.addHook('preHandler', (request, reply, done) => {
        const outcome = authenticate(request.headers.authorization);
        if (outcome === 'missing') {
          void reply.code(401).send({ message: 'no token' });
          return;
        }
        if (outcome instanceof Error) {
          done(outcome);
          return;
        }
        (request as WithUser).user = outcome;
        done();
      });
      app.get('/users/:id', () => ({ ok: true }));
      app.setErrorHandler((error: FastifyError, _request, reply) => {
        void reply.code(error.statusCode ?? 401).send({ message: error.message });
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

    it('records the user the hook authenticated', async () => {
      assert.equal(
        (await fetch(`${url}/users/1`, { headers: { authorization: 'Bearer john' } })).status,
        200,
      );
      const [span] = await waitForAuditSpans(tracing, 1);
      assert.equal(span!.attributes[A.ATTR_USER_NAME], 'John');
    });

    it('records refused calls with the auth error', async () => {
      assert.equal((await fetch(`${url}/users/1`, { headers: { authorization: 'Bearer x' } })).status, 401);
      assert.equal((await fetch(`${url}/users/1`)).status, 401);
      const spans = await waitForAuditSpans(tracing, 2);
      const codes = spans.map((span) => span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE]).sort();
      assert.deepEqual(codes, ['Unauthorized', 'invalid_token']);
      assert.ok(spans.every((span) => span.attributes[A.ATTR_USER_NAME] === undefined));
    });
  });

  describe(`node:http, ${withOrWithout} the http instrumentation: identity after the handler authenticated`, () => {
    let tracing: TestTracing;
    let server: Server;
    let url: string;
    before(async () => {
      tracing = startTracing({ httpInstrumentation });
      server = createServer(
        auditHandler(
          {
            eventName: 'GetThing',
            identity: (request: IncomingMessage) => ({ userName: userOf(request).name }),
          },
          (request, response) => {
            const outcome = authenticate(request.headers.authorization);
            if (typeof outcome === 'object' && !(outcome instanceof Error)) {
              (request as WithUser).user = outcome;
              response.end('ok');
            } else {
              response.statusCode = 401;
              response.end();
            }
          },
        ),
      );
      url = await listen(server);
    });
    afterEach(() => {
      tracing.exporter.reset();
    });
    after(async () => {
      await new Promise((resolve) => server.close(resolve));
      await tracing.shutdown();
    });

    it('records the user the handler authenticated, and the refused call', async () => {
      await fetch(`${url}/thing`, { headers: { authorization: 'Bearer john' } });
      const [accepted] = await waitForAuditSpans(tracing, 1);
      assert.equal(accepted!.attributes[A.ATTR_USER_NAME], 'John');
      tracing.exporter.reset();
      await fetch(`${url}/thing`);
      const [refused] = await waitForAuditSpans(tracing, 1);
      assert.equal(refused!.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'Unauthorized');
      assert.equal(refused!.attributes[A.ATTR_USER_NAME], undefined);
    });
  });
}

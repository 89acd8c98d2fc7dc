/*
 * The node:http adapter (`auditHandler`) on real servers on 127.0.0.1, with and without
 * OpenTelemetry's http instrumentation: names, errors, async handlers, client address behind
 * (forged or trusted) X-Forwarded-For, request ids and console detection.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import proxyAddr from 'proxy-addr';
import * as A from '../src/attributes.js';
import { auditHandler } from '../src/node-http.js';
import type { NodeHttpAuditOptions } from '../src/node-http.js';
import type { TestTracing } from './support/tracing.js';
import {
  recordedReadOnly,
  recordedSourceAddress,
  startTracing,
  waitForAuditSpans,
} from './support/tracing.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

class AccessDenied extends Error {
  readonly code = 'AccessDenied';
}

class ThrottlingException extends Error {
  override readonly name = 'ThrottlingException';
}

interface Running {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Servers started by a test, closed after it. */
const running: Running[] = [];

async function serve(listener: RequestListener): Promise<Running> {
  const server: Server = createServer(listener);
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const handle: Running = {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
  running.push(handle);
  return handle;
}

/** Serves `options` around a handler answering 200 "ok". */
function serveOk(options: NodeHttpAuditOptions): Promise<Running> {
  return serve(
    auditHandler(options, (_request, response) => {
      response.end('ok');
    }),
  );
}

/** A request written byte by byte (latin1), for header values fetch would refuse to send. */
function rawGet(port: number, headerLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${headerLines.join('\r\n')}\r\nConnection: close\r\n\r\n`,
        'latin1',
      );
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('end', () => {
      resolve(received);
    });
    socket.on('error', reject);
  });
}

function json(value: unknown): unknown {
  return JSON.parse(String(value));
}

for (const httpInstrumentation of [true, false]) {
  describe(`node:http auditHandler, ${httpInstrumentation ? 'with' : 'without'} the http instrumentation`, () => {
    let tracing: TestTracing;
    before(() => {
      tracing = startTracing({ httpInstrumentation });
      // The instrumentation patches node:http when it is next required (as an application
      // loaded after the SDK started would); this file imported it before the tracing started.
      if (httpInstrumentation) createRequire(import.meta.url)('node:http');
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((server) => server.close()));
      tracing.exporter.reset();
    });
    after(async () => {
      await tracing.shutdown();
    });

    /** The one audit span of a request; with the http instrumentation, the only span at all. */
    async function onlySpan(): Promise<ReadableSpan> {
      const spans = await waitForAuditSpans(tracing, 1);
      assert.equal(spans.length, 1, 'one audit span per request');
      const span = spans[0]!;
      assert.equal(
        span.instrumentationScope.name,
        httpInstrumentation ? '@opentelemetry/instrumentation-http' : '@crumbtrail/instrumentation',
      );
      if (httpInstrumentation) assert.equal(tracing.exporter.getFinishedSpans().length, 1);
      return span;
    }

    it('records an explicit event name with identity, resources, parameters and elements', async () => {
      const { url } = await serve(
        auditHandler(
          {
            eventName: 'CreateUser',
            eventSource: 'iam.example.com',
            eventCategory: 'Management',
            identity: async (request) => {
              await new Promise((resolve) => setTimeout(resolve, 1));
              return { type: 'IAMUser', userName: String(request.headers['x-user']) };
            },
            resources: (_request, response) => [
              { type: 'User', name: String(response.getHeader('x-user-id')) },
            ],
            requestParameters: (request) => ({ path: request.url, password: 'hunter2' }),
            responseElements: (_request, response) => ({ status: response.statusCode, token: 't' }),
            responseHook: (span, request) => {
              span.setAttribute('test.hook', String(request.method));
            },
          },
          (_request, response) => {
            response.statusCode = 201;
            response.setHeader('x-user-id', 'u-7');
            response.end('{}');
          },
        ),
      );
      const response = await fetch(`${url}/users?x=1`, {
        method: 'POST',
        headers: { 'x-user': 'John', 'user-agent': 'aws-cli/2.15', 'x-request-id': 'req-9' },
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.get('x-request-id'), 'req-9');
      const { attributes } = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'CreateUser');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_SOURCE], 'iam.example.com');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_CATEGORY], 'Management');
      assert.equal(recordedReadOnly(attributes), false);
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'IAMUser');
      assert.equal(attributes[A.ATTR_USER_NAME], 'John');
      assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES], ['User']);
      assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_NAMES], ['u-7']);
      assert.deepEqual(json(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS]), {
        path: '/users?x=1',
        password: '[REDACTED]',
      });
      assert.deepEqual(json(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS]), {
        status: 201,
        token: '[REDACTED]',
      });
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], 'req-9');
      assert.equal(attributes[A.ATTR_USER_AGENT_ORIGINAL], 'aws-cli/2.15');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], undefined);
      assert.equal(attributes['test.hook'], 'POST');
    });

    it('derives the event name from `route`, readOnly from the method', async () => {
      const { url } = await serveOk({ route: '/users/:id' });
      const response = await fetch(`${url}/users/42`);
      assert.equal(await response.text(), 'ok');
      const { attributes } = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'GetUsersById');
      assert.equal(recordedReadOnly(attributes), true);
      // The collector infers it from the method: one attribute fewer to encode on every call.
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_READ_ONLY], undefined, 'implied by GET');
      assert.equal(attributes[A.ATTR_HTTP_ROUTE], '/users/:id');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS], undefined);
    });

    it('names a call without route or eventName after its method and the no-route marker', async () => {
      const { url } = await serveOk({ readOnly: true });
      await fetch(`${url}/anything`, { method: 'DELETE' });
      const { attributes } = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'DeleteNoRoute');
      assert.equal(attributes[A.ATTR_URL_PATH], '/anything');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_READ_ONLY], true, 'explicit readOnly wins, recorded');
    });

    it('answers 500 when the handler throws, with errorCode from the error code', async () => {
      const { url } = await serve(
        auditHandler({ eventName: 'DeleteUser' }, () => {
          throw new AccessDenied('John may not delete users');
        }),
      );
      const response = await fetch(`${url}/users/7`, { method: 'DELETE' });
      assert.equal(response.status, 500);
      const span = await onlySpan();
      assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'DeleteUser');
      assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'AccessDenied');
      assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'John may not delete users');
      assert.ok(span.events.some((event) => event.name === 'exception'));
    });

    it('answers 500 when an async handler rejects, with errorCode from the error name', async () => {
      const { url } = await serve(
        auditHandler({ route: '/users' }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          throw new ThrottlingException('slow down');
        }),
      );
      const response = await fetch(`${url}/users`, { method: 'POST' });
      assert.equal(response.status, 500);
      const { attributes } = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'PostUsers');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'ThrottlingException');
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'slow down');
    });

    it('records an async handler when it answers, and spans it starts are children of the call', async () => {
      let childParent: string | undefined;
      const { url } = await serve(
        auditHandler({ eventName: 'ListUsers' }, async (_request, response) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          const child = trace.getTracer('test').startSpan('child');
          childParent = child.spanContext().traceId;
          child.end();
          response.setHeader('content-type', 'application/json');
          response.end('[]');
        }),
      );
      const response = await fetch(`${url}/users`);
      assert.deepEqual(await response.json(), []);
      const audit = (await waitForAuditSpans(tracing, 1))[0]!;
      assert.equal(audit.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'ListUsers');
      assert.equal(audit.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], undefined);
      const child = tracing.exporter.getFinishedSpans().find((span) => span.name === 'child');
      assert.ok(child !== undefined);
      assert.equal(childParent, audit.spanContext().traceId);
      assert.equal(child.parentSpanContext?.spanId, audit.spanContext().spanId);
    });

    it('records an error code for a 4xx the handler answers itself', async () => {
      const { url } = await serve(
        auditHandler({ eventName: 'GetUser' }, (_request, response) => {
          response.statusCode = 404;
          response.end();
        }),
      );
      await fetch(`${url}/users/1`);
      const { attributes } = await onlySpan();
      assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'NotFound');
    });

    describe('client address', () => {
      it('does not believe a forged X-Forwarded-For by default', async () => {
        const { url } = await serveOk({ eventName: 'Call' });
        await fetch(url, { headers: { 'x-forwarded-for': '1.2.3.4' } });
        const { attributes } = await onlySpan();
        assert.equal(recordedSourceAddress(attributes), '127.0.0.1');
        assert.equal(attributes['network.peer.address'], '127.0.0.1');
        // instrumentation-http's client.address came from the header: crumbtrail overwrites it.
        // On crumbtrail's own span the peer, being the client, is not recorded twice.
        assert.equal(attributes[A.ATTR_CLIENT_ADDRESS], httpInstrumentation ? '127.0.0.1' : undefined);
      });

      it('believes X-Forwarded-For from a trusted loopback proxy', async () => {
        const { url } = await serveOk({ eventName: 'Call', trustProxy: 'loopback' });
        await fetch(url, { headers: { 'x-forwarded-for': '1.2.3.4' } });
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CLIENT_ADDRESS], '1.2.3.4');
        assert.equal(attributes['network.peer.address'], '127.0.0.1', 'the socket peer');
      });

      it('with a hop count, takes the first untrusted hop as proxy-addr does', async () => {
        const chain = '9.9.9.9, 1.2.3.4';
        // What proxy-addr (and so Express with `trust proxy` 1) says for this chain.
        const request: unknown = {
          headers: { 'x-forwarded-for': chain },
          socket: { remoteAddress: '127.0.0.1' },
        };
        const expected = proxyAddr(request as IncomingMessage, (_address, hop) => hop < 1);
        assert.equal(expected, '1.2.3.4');
        const { url } = await serveOk({ eventName: 'Call', trustProxy: 1 });
        await fetch(url, { headers: { 'x-forwarded-for': chain } });
        const { attributes } = await onlySpan();
        assert.equal(recordedSourceAddress(attributes), expected);
        assert.equal(attributes['network.peer.address'], '127.0.0.1');
      });

      it('with two trusted hops, or trust everything, takes the furthest address', async () => {
        for (const trustProxy of [2, true] as const) {
          const { url } = await serveOk({ eventName: 'Call', trustProxy });
          await fetch(url, { headers: { 'x-forwarded-for': '9.9.9.9, 1.2.3.4' } });
          const { attributes } = await onlySpan();
          assert.equal(recordedSourceAddress(attributes), '9.9.9.9', `trustProxy ${String(trustProxy)}`);
          assert.equal(attributes['network.peer.address'], '127.0.0.1');
          tracing.exporter.reset();
        }
      });
    });

    describe('request id', () => {
      it('generates a UUID when none is given and returns it', async () => {
        const { url } = await serveOk({ eventName: 'Call' });
        const response = await fetch(url);
        const returned = response.headers.get('x-request-id');
        assert.match(String(returned), UUID);
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], returned);
      });

      for (const [what, value] of [
        ['spaces', 'req 1; DROP TABLE'],
        ['a tab', 'req\t1'],
        ['more than 128 characters', 'r'.repeat(129)],
      ] as const) {
        it(`replaces a request id with ${what} by a generated one`, async () => {
          const { url } = await serveOk({ eventName: 'Call' });
          const response = await fetch(url, { headers: { 'x-request-id': value } });
          const returned = response.headers.get('x-request-id');
          assert.match(String(returned), UUID);
          const { attributes } = await onlySpan();
          assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], returned);
        });
      }

      it('keeps a 128-character request id', async () => {
        const value = 'r'.repeat(128);
        const { url } = await serveOk({ eventName: 'Call' });
        const response = await fetch(url, { headers: { 'x-request-id': value } });
        assert.equal(response.headers.get('x-request-id'), value);
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], value);
      });

      it('replaces a request id with non-ASCII bytes, and Node refuses a newline outright', async () => {
        const { port } = await serveOk({ eventName: 'Call' });
        const answer = await rawGet(port, ['X-Request-Id: req\u00e9']);
        assert.match(answer, /^HTTP\/1\.1 200/);
        const { attributes } = await onlySpan();
        assert.match(String(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID]), UUID);
        // A newline never reaches the adapter: Node's parser answers 400 itself.
        const refused = await rawGet(port, ['X-Request-Id: req\r\n injected']);
        assert.match(refused, /^HTTP\/1\.1 400/);
      });

      it('uses the configured request and response headers, or none', async () => {
        const { url } = await serveOk({
          eventName: 'Call',
          requestIdHeader: 'X-Correlation-Id',
          responseRequestIdHeader: 'x-amzn-requestid',
        });
        const response = await fetch(url, {
          headers: { 'x-correlation-id': 'corr-1', 'x-request-id': 'no' },
        });
        assert.equal(response.headers.get('x-amzn-requestid'), 'corr-1');
        assert.equal(response.headers.get('x-request-id'), null);
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], 'corr-1');
        tracing.exporter.reset();

        const silent = await serveOk({ eventName: 'Call', responseRequestIdHeader: false });
        const quiet = await fetch(silent.url, { headers: { 'x-request-id': 'req-2' } });
        assert.equal(quiet.headers.get('x-request-id'), null);
        assert.equal((await onlySpan()).attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], 'req-2');
      });
    });

    describe('console sessions', () => {
      it('marks a browser call (Sec-Fetch-Site and a Mozilla agent) as a console call', async () => {
        const { url } = await serveOk({ eventName: 'Call' });
        await fetch(url, {
          headers: {
            'sec-fetch-site': 'same-origin',
            'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120',
          },
        });
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], true);
      });

      it('leaves a Node fetch (which sends Sec-Fetch-Mode) unmarked', async () => {
        const { url } = await serveOk({ eventName: 'Call' });
        await fetch(url);
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], undefined);
      });

      it('a Mozilla agent without Sec-Fetch-Site is not a console call', async () => {
        const { url } = await serveOk({ eventName: 'Call' });
        await fetch(url, { headers: { 'user-agent': 'Mozilla/5.0 (compatible; curl-like)' } });
        const { attributes } = await onlySpan();
        assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], undefined);
      });

      it('asks a custom isConsoleRequest instead', async () => {
        const seen: string[] = [];
        const { url } = await serveOk({
          eventName: 'Call',
          isConsoleRequest: (request: IncomingMessage) => {
            seen.push(String(request.url));
            return request.headers['x-console'] === '1';
          },
        });
        await fetch(`${url}/a`, { headers: { 'x-console': '1' } });
        assert.equal((await onlySpan()).attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], true);
        tracing.exporter.reset();
        await fetch(`${url}/b`, {
          headers: { 'sec-fetch-site': 'same-origin', 'user-agent': 'Mozilla/5.0 Chrome/120' },
        });
        assert.equal(
          (await onlySpan()).attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION],
          undefined,
          'the custom function decides, not the browser headers',
        );
        assert.deepEqual(seen, ['/a', '/b']);
      });
    });

    it('leaves out ignored requests but still serves them', async () => {
      const { url } = await serve(
        auditHandler(
          { route: '/users', ignore: (request) => request.url === '/health' },
          (_request: IncomingMessage, response: ServerResponse) => {
            response.end('ok');
          },
        ),
      );
      assert.equal(await (await fetch(`${url}/health`)).text(), 'ok');
      assert.equal(await (await fetch(`${url}/users`)).text(), 'ok');
      const spans = await waitForAuditSpans(tracing, 1);
      assert.deepEqual(
        spans.map((span) => span.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME]),
        ['GetUsers'],
      );
    });
  });
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { deriveHttpEventName } from '@crumbtrail/instrumentation/conventions';

import { deriveServerSpanCall } from '../../src/events/derive-from-server-span.js';
import { compileTrustedProxies } from '../../src/events/source-address.js';
import { spanToEvent } from '../../src/events/span-to-event.js';
import { SpanKind, StatusCode } from '../../src/otlp/decoded-span.js';
import type { AttributeRecord } from './builders.js';
import { DERIVATION, NO_DERIVATION, auditSpan, recordOf, span } from './builders.js';

function serverSpan(
  attributes: AttributeRecord,
  kind: number = SpanKind.SERVER,
  statusCode: number = StatusCode.UNSET,
) {
  return span({ attributes, kind, statusCode });
}

describe('events derived from plain server spans', () => {
  describe('HTTP', () => {
    const names: [string, string | undefined, string][] = [
      ['POST', '/users/:id', 'PostUsersById'],
      ['GET', '/users', 'GetUsers'],
      ['POST', '/users/:id/keys', 'PostUsersByIdKeys'],
      ['DELETE', '/users/{userId}', 'DeleteUsersByUserId'],
      ['get', '/api/v1/access-keys/*', 'GetApiV1AccessKeys'],
      ['GET', undefined, 'GetNoRoute'],
      ['PATCH', '', 'PatchNoRoute'],
    ];
    for (const [method, route, expected] of names) {
      it(`${method} ${route ?? '(no route)'} → ${expected}, as the instrumentation names it`, () => {
        const attributes: AttributeRecord = { 'http.request.method': method };
        if (route !== undefined) attributes['http.route'] = route;
        const record = recordOf(serverSpan(attributes), DERIVATION);
        assert.equal(record.eventName, expected);
        assert.equal(record.eventName, deriveHttpEventName(method, route));
      });
    }

    it('maps an HTTP SERVER span with the stable attributes', () => {
      const record = recordOf(
        serverSpan({
          'http.request.method': 'POST',
          'http.route': '/users/:id',
          'http.response.status_code': 201,
          'client.address': '203.0.113.9',
          'user_agent.original': 'sdk/1',
          'enduser.id': 'alice',
        }),
        DERIVATION,
      );
      assert.equal(record.eventName, 'PostUsersById');
      assert.equal(record.eventSource, 'iam.example.com');
      assert.equal(record.readOnly, false);
      assert.equal(Object.hasOwn(record, 'errorCode'), false);
      assert.equal(record.sourceIPAddress, '203.0.113.9');
      assert.equal(record.userAgent, 'sdk/1');
      assert.equal(record.userIdentity.principalId, 'alice');
      assert.equal(record.crumbtrail.origin, 'http-span');
      assert.equal(record.crumbtrail.httpStatusCode, 201);
    });

    it('reads the old http.method / http.status_code attributes', () => {
      const record = recordOf(
        serverSpan({ 'http.method': 'GET', 'http.route': '/users', 'http.status_code': 404 }),
        DERIVATION,
      );
      assert.equal(record.eventName, 'GetUsers');
      assert.equal(record.readOnly, true);
      assert.equal(record.errorCode, 'NotFound');
      assert.equal(record.crumbtrail.origin, 'http-span');
    });

    it('names failures: HTTP status, else a named error.type, else InternalFailure for status ERROR', () => {
      const failure = (attributes: AttributeRecord, statusCode: number = StatusCode.UNSET) =>
        recordOf(
          serverSpan({ 'http.request.method': 'GET', ...attributes }, SpanKind.SERVER, statusCode),
          DERIVATION,
        ).errorCode;
      assert.equal(failure({ 'http.response.status_code': 403 }), 'Forbidden');
      assert.equal(failure({ 'error.type': 'TimeoutError' }), 'TimeoutError');
      assert.equal(failure({ 'error.type': '_OTHER' }, StatusCode.ERROR), 'InternalFailure');
      assert.equal(failure({}, StatusCode.ERROR), 'InternalFailure');
      assert.equal(failure({ 'http.response.status_code': 200 }), undefined);
    });

    it('ignores HTTP spans that are not SERVER spans', () => {
      for (const kind of [
        SpanKind.CLIENT,
        SpanKind.INTERNAL,
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
        SpanKind.UNSPECIFIED,
      ]) {
        const plain = serverSpan({ 'http.request.method': 'GET', 'http.route': '/users' }, kind);
        assert.deepEqual(spanToEvent(plain, DERIVATION), { outcome: 'ignored' }, `kind ${kind}`);
        assert.equal(deriveServerSpanCall(plain), undefined);
      }
    });

    it('ignores SERVER spans without HTTP or RPC attributes', () => {
      assert.deepEqual(spanToEvent(serverSpan({ 'http.route': '/users' }), DERIVATION), {
        outcome: 'ignored',
      });
      assert.deepEqual(spanToEvent(serverSpan({ 'db.system': 'postgresql' }), DERIVATION), {
        outcome: 'ignored',
      });
      assert.deepEqual(spanToEvent(serverSpan({}), DERIVATION), { outcome: 'ignored' });
    });

    it('never derives when derivation is off', () => {
      assert.deepEqual(spanToEvent(serverSpan({ 'http.request.method': 'GET' }), NO_DERIVATION), {
        outcome: 'ignored',
      });
    });

    it('prefers crumbtrail attributes over derivation', () => {
      const record = recordOf(
        auditSpan({
          'crumbtrail.event.name': 'ListUsers',
          'http.request.method': 'GET',
          'http.route': '/users',
        }),
        DERIVATION,
      );
      assert.equal(record.eventName, 'ListUsers');
      assert.equal(record.crumbtrail.origin, 'instrumentation');
    });
  });

  describe('RPC', () => {
    it('maps rpc.system + rpc.method + rpc.service', () => {
      const record = recordOf(
        serverSpan({ 'rpc.system': 'grpc', 'rpc.service': 'users.v1.UserService', 'rpc.method': 'GetUser' }),
        DERIVATION,
      );
      assert.equal(record.eventName, 'GetUser');
      assert.equal(record.eventSource, 'users.v1.UserService');
      assert.equal(record.readOnly, true);
      assert.equal(record.crumbtrail.origin, 'rpc-span');
    });

    it('splits a fully qualified rpc.method (newer conventions, rpc.system.name)', () => {
      const record = recordOf(
        serverSpan({ 'rpc.system.name': 'grpc', 'rpc.method': 'users.v1.UserService/CreateUser' }),
        DERIVATION,
      );
      assert.equal(record.eventName, 'CreateUser');
      assert.equal(record.eventSource, 'users.v1.UserService');
      assert.equal(record.readOnly, false);
    });

    it('falls back to service.name for the event source', () => {
      assert.equal(
        recordOf(serverSpan({ 'rpc.system': 'grpc', 'rpc.method': 'DeleteUser' }), DERIVATION).eventSource,
        'iam.example.com',
      );
    });

    it('treats read-like method names as read-only', () => {
      for (const [method, readOnly] of [
        ['ListUsers', true],
        ['DescribeKey', true],
        ['BatchGetItems', true],
        ['Search', true],
        ['BatchWriteItems', false],
        ['UpdateUser', false],
        ['getuser', false],
      ] as const) {
        assert.equal(
          recordOf(serverSpan({ 'rpc.system': 'grpc', 'rpc.method': method }), DERIVATION).readOnly,
          readOnly,
          method,
        );
      }
    });

    it('names failures from error.type, else InternalFailure for status ERROR', () => {
      const attributes = { 'rpc.system': 'grpc', 'rpc.method': 'GetUser' };
      assert.equal(
        recordOf(serverSpan({ ...attributes, 'error.type': 'NOT_FOUND' }), DERIVATION).errorCode,
        'NOT_FOUND',
      );
      assert.equal(
        recordOf(serverSpan(attributes, SpanKind.SERVER, StatusCode.ERROR), DERIVATION).errorCode,
        'InternalFailure',
      );
      assert.equal(recordOf(serverSpan(attributes), DERIVATION).errorCode, undefined);
    });

    it('needs both an RPC system and a method; otherwise HTTP attributes decide', () => {
      assert.deepEqual(spanToEvent(serverSpan({ 'rpc.method': 'GetUser' }), DERIVATION), {
        outcome: 'ignored',
      });
      assert.deepEqual(spanToEvent(serverSpan({ 'rpc.system': 'grpc' }), DERIVATION), { outcome: 'ignored' });
      const http = recordOf(
        serverSpan({ 'rpc.method': 'GetUser', 'http.request.method': 'POST' }),
        DERIVATION,
      );
      assert.equal(http.eventName, 'PostNoRoute');
      assert.equal(http.crumbtrail.origin, 'http-span');
    });
  });
});

describe('source addresses and paths of derived events', () => {
  const forwarded = {
    'http.request.method': 'GET',
    'http.route': '/users',
    // What @opentelemetry/instrumentation-http puts there: the first X-Forwarded-For entry, which
    // the caller writes, beside the peer address of the connection.
    'client.address': '198.51.100.66',
    'network.peer.address': '203.0.113.9',
  };

  it("takes the connection's peer address, not the caller-written X-Forwarded-For", () => {
    const record = recordOf(serverSpan(forwarded), DERIVATION);
    assert.equal(record.sourceIPAddress, '203.0.113.9');
    assert.equal(record.crumbtrail.peerAddress, '203.0.113.9');
    const legacy = recordOf(
      serverSpan({ 'http.method': 'GET', 'http.client_ip': '198.51.100.66', 'net.peer.ip': '203.0.113.9' }),
      DERIVATION,
    );
    assert.equal(legacy.sourceIPAddress, '203.0.113.9');
  });

  it('believes the forwarded client address when the peer is a trusted proxy', () => {
    for (const trustedProxies of [['203.0.113.0/24'], ['203.0.113.9'], ['loopback', '203.0.113.9/32']]) {
      const record = recordOf(serverSpan(forwarded), { ...DERIVATION, trustedProxies });
      assert.equal(record.sourceIPAddress, '198.51.100.66', String(trustedProxies));
      assert.equal(record.crumbtrail.peerAddress, '203.0.113.9');
    }
    const loopback = recordOf(serverSpan({ ...forwarded, 'network.peer.address': '::ffff:127.0.0.1' }), {
      ...DERIVATION,
      trustedProxies: ['loopback'],
    });
    assert.equal(loopback.sourceIPAddress, '198.51.100.66');
    const untrusted = recordOf(serverSpan(forwarded), { ...DERIVATION, trustedProxies: ['10.0.0.0/8'] });
    assert.equal(untrusted.sourceIPAddress, '203.0.113.9');
  });

  it('takes client.address when the span has no peer address to check it against', () => {
    const record = recordOf(
      serverSpan({ 'http.request.method': 'GET', 'client.address': '198.51.100.7' }),
      DERIVATION,
    );
    assert.equal(record.sourceIPAddress, '198.51.100.7');
  });

  it('names a span without a route with the no-route marker and keeps its path, without the query', () => {
    const stable = recordOf(
      serverSpan({ 'http.request.method': 'GET', 'url.path': '/users/1', 'url.query': 'token=x' }),
      DERIVATION,
    );
    assert.equal(stable.eventName, 'GetNoRoute');
    assert.equal(stable.crumbtrail.path, '/users/1');
    const legacy = recordOf(
      serverSpan({ 'http.method': 'DELETE', 'http.target': '/admin/.env?secret=1#x' }),
      DERIVATION,
    );
    assert.equal(legacy.eventName, 'DeleteNoRoute');
    assert.equal(legacy.crumbtrail.path, '/admin/.env');
  });

  it('keeps no path when the route names the call', () => {
    const record = recordOf(
      serverSpan({ 'http.request.method': 'GET', 'http.route': '/users/:id', 'url.path': '/users/1' }),
      DERIVATION,
    );
    assert.equal(record.eventName, 'GetUsersById');
    assert.equal(Object.hasOwn(record.crumbtrail, 'path'), false);
  });
});

describe('trusted proxies configuration', () => {
  it('accepts addresses, CIDR ranges and range names, and refuses anything else by name', () => {
    const trust = compileTrustedProxies(['loopback', '10.0.0.0/8', '2001:db8::1']);
    assert.equal(trust('127.0.0.1'), true);
    assert.equal(trust('::ffff:127.0.0.1'), true);
    assert.equal(trust('::1'), true);
    assert.equal(trust('10.9.8.7'), true);
    assert.equal(trust('2001:db8::1'), true);
    assert.equal(trust('203.0.113.9'), false);
    assert.equal(trust('not an address'), false);
    assert.throws(() => compileTrustedProxies(['10.0.0.0/33']), /"10\.0\.0\.0\/33"/);
    assert.throws(() => compileTrustedProxies(['proxy.internal']), /"proxy\.internal"/);
  });

  it('a bad list that reaches the mapping trusts no proxy rather than failing the span', () => {
    const record = recordOf(
      serverSpan({
        'http.request.method': 'GET',
        'client.address': '198.51.100.1',
        'network.peer.address': '10.0.0.1',
      }),
      { ...DERIVATION, trustedProxies: ['nonsense'] },
    );
    assert.equal(record.sourceIPAddress, '10.0.0.1');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { deriveHttpEventName } from '@crumbtrail/instrumentation/conventions';

import { deriveServerSpanCall } from '../../src/events/derive-from-server-span.js';
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

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { deterministicEventId } from '../../src/events/event-id.js';
import { spanToEvent } from '../../src/events/span-to-event.js';
import { SpanKind, StatusCode } from '../../src/otlp/decoded-span.js';
import type { DecodedSpan } from '../../src/otlp/decoded-span.js';
import {
  DERIVATION,
  START_MS,
  NO_DERIVATION,
  SPAN_ID,
  END_NANOS,
  TRACE_ID,
  auditSpan,
  eventOf,
  recordOf,
  span,
} from './builders.js';

function rejectionOf(decoded: DecodedSpan): string {
  const result = spanToEvent(decoded, DERIVATION);
  if (result.outcome !== 'rejected') assert.fail(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('spanToEvent: audit spans (crumbtrail.event.name)', () => {
  describe('record fields', () => {
    it('maps a minimal audit span to a complete CloudTrail record with defaults', () => {
      const event = eventOf(auditSpan());
      assert.equal(event.eventTimeMs, START_MS);
      assert.equal(event.username, undefined);
      assert.deepEqual(event.record, {
        eventVersion: '1.11',
        userIdentity: { type: 'Anonymous' },
        eventTime: '2023-11-14T22:13:20.123Z',
        eventSource: 'iam.example.com',
        eventName: 'CreateUser',
        requestParameters: null,
        responseElements: null,
        eventID: deterministicEventId(START_MS, TRACE_ID + SPAN_ID),
        readOnly: false,
        eventType: 'AwsApiCall',
        managementEvent: true,
        eventCategory: 'Management',
        crumbtrail: {
          traceId: TRACE_ID,
          spanId: SPAN_ID,
          origin: 'instrumentation',
          durationMs: 25,
          serviceName: 'iam.example.com',
        },
      });
    });

    it('uses the start time as eventTime (when the call was made, as CloudTrail), the end when the start is missing', () => {
      const event = eventOf(auditSpan());
      assert.equal(event.record.eventTime, '2023-11-14T22:13:20.123Z');
      assert.equal(event.record.crumbtrail.durationMs, 25);
      const ended = eventOf(auditSpan({}, { startTimeUnixNano: 0n }));
      assert.equal(ended.eventTimeMs, Number(END_NANOS / 1_000_000n));
      assert.equal(ended.record.eventTime, new Date(ended.eventTimeMs).toISOString());
      assert.equal(ended.record.crumbtrail.durationMs, undefined);
    });

    it('takes eventSource from crumbtrail.event.source, else service.name, else "unknown_service"', () => {
      assert.equal(
        recordOf(auditSpan({ 'crumbtrail.event.source': 'users.example.com' })).eventSource,
        'users.example.com',
      );
      assert.equal(recordOf(auditSpan()).eventSource, 'iam.example.com');
      assert.equal(recordOf(auditSpan({}, { resource: {} })).eventSource, 'unknown_service');
    });

    it('maps every userIdentity field', () => {
      const event = eventOf(
        auditSpan({
          'crumbtrail.identity.type': 'IAMUser',
          'user.id': 'AIDA123',
          'user.name': 'alice',
          'crumbtrail.identity.arn': 'arn:example:iam::111122223333:user/alice',
          'crumbtrail.identity.account_id': '111122223333',
          'crumbtrail.identity.access_key_id': 'AKIAEXAMPLE',
          'crumbtrail.identity.invoked_by': 'console.example.com',
          'crumbtrail.identity.session_context': '{"attributes":{"mfaAuthenticated":"true"}}',
        }),
      );
      assert.deepEqual(event.record.userIdentity, {
        type: 'IAMUser',
        principalId: 'AIDA123',
        arn: 'arn:example:iam::111122223333:user/alice',
        accountId: '111122223333',
        accessKeyId: 'AKIAEXAMPLE',
        userName: 'alice',
        sessionContext: { attributes: { mfaAuthenticated: 'true' } },
        invokedBy: 'console.example.com',
      });
      assert.equal(event.username, 'alice');
    });

    it('falls back to enduser.id for principalId, and to principalId for the username', () => {
      const event = eventOf(auditSpan({ 'enduser.id': 'u-42' }));
      assert.equal(event.record.userIdentity.principalId, 'u-42');
      assert.equal(event.username, 'u-42');
      assert.equal(recordOf(auditSpan({ 'user.id': 'a', 'enduser.id': 'b' })).userIdentity.principalId, 'a');
    });

    it('sets userIdentity.type "Unknown" for a caller without a type and "Anonymous" for no caller', () => {
      assert.deepEqual(recordOf(auditSpan({ 'crumbtrail.identity.access_key_id': 'K' })).userIdentity, {
        type: 'Unknown',
        accessKeyId: 'K',
      });
      assert.deepEqual(recordOf(auditSpan()).userIdentity, { type: 'Anonymous' });
    });

    it('keeps sessionContext only when it is a JSON object', () => {
      for (const context of ['[1,2]', 'not json', '"text"', '42']) {
        const identity = recordOf(
          auditSpan({ 'user.name': 'a', 'crumbtrail.identity.session_context': context }),
        ).userIdentity;
        assert.equal(Object.hasOwn(identity, 'sessionContext'), false, context);
      }
    });

    it('maps the parallel resource arrays, with "" as a placeholder for unknown values', () => {
      const record = recordOf(
        auditSpan({
          'crumbtrail.resource.types': ['User', 'Group', ''],
          'crumbtrail.resource.names': ['alice', '', 'orphan'],
          'crumbtrail.resource.arns': [
            'arn:example:iam::1:user/alice',
            'arn:example:iam::1:group/admins',
            '',
          ],
          'crumbtrail.resource.account_ids': ['111', '', ''],
        }),
      );
      assert.deepEqual(record.resources, [
        { ARN: 'arn:example:iam::1:user/alice', accountId: '111', type: 'User', name: 'alice' },
        { ARN: 'arn:example:iam::1:group/admins', type: 'Group' },
        { name: 'orphan' },
      ]);
    });

    it('sizes the resources by the longest of types, names and ARNs', () => {
      const record = recordOf(
        auditSpan({ 'crumbtrail.resource.types': ['User'], 'crumbtrail.resource.names': ['a', 'b'] }),
      );
      assert.deepEqual(record.resources, [{ type: 'User', name: 'a' }, { name: 'b' }]);
    });

    it('reads a single string as a one-element resource array', () => {
      const record = recordOf(
        auditSpan({ 'crumbtrail.resource.types': 'Bucket', 'crumbtrail.resource.names': 'logs' }),
      );
      assert.deepEqual(record.resources, [{ type: 'Bucket', name: 'logs' }]);
    });

    it('leaves resources out when none are given, and caps them at 100', () => {
      assert.equal(Object.hasOwn(recordOf(auditSpan()), 'resources'), false);
      const names = Array.from({ length: 150 }, (_, i) => `r${i}`);
      const resources = recordOf(auditSpan({ 'crumbtrail.resource.names': names })).resources ?? [];
      assert.equal(resources.length, 100);
      assert.deepEqual(resources[99], { name: 'r99' });
    });

    it('parses requestParameters, responseElements and additionalEventData from JSON strings', () => {
      const record = recordOf(
        auditSpan({
          'crumbtrail.request.parameters': '{"userName":"bob","tags":[{"key":"team","value":"a"}]}',
          'crumbtrail.response.elements': '{"user":{"userId":"AIDA9"}}',
          'crumbtrail.additional_event_data': '{"MFAUsed":"Yes"}',
        }),
      );
      assert.deepEqual(record.requestParameters, { userName: 'bob', tags: [{ key: 'team', value: 'a' }] });
      assert.deepEqual(record.responseElements, { user: { userId: 'AIDA9' } });
      assert.deepEqual(record.additionalEventData, { MFAUsed: 'Yes' });
    });

    it('keeps a document that is not JSON as a string, and takes a kvlist as it is', () => {
      const record = recordOf(
        auditSpan({
          'crumbtrail.request.parameters': 'userName=bob',
          'crumbtrail.response.elements': { userId: 'AIDA9', count: 2 },
        }),
      );
      assert.equal(record.requestParameters, 'userName=bob');
      assert.deepEqual(record.responseElements, { userId: 'AIDA9', count: 2 });
      assert.equal(Object.hasOwn(record, 'additionalEventData'), false);
    });

    it('sets sessionCredentialFromConsole "true" only for a console session', () => {
      assert.equal(
        recordOf(auditSpan({ 'crumbtrail.session.console': true })).sessionCredentialFromConsole,
        'true',
      );
      assert.equal(
        recordOf(auditSpan({ 'crumbtrail.session.console': 'true' })).sessionCredentialFromConsole,
        'true',
      );
      for (const value of [false, 'false', 'yes']) {
        const record = recordOf(auditSpan({ 'crumbtrail.session.console': value }));
        assert.equal(Object.hasOwn(record, 'sessionCredentialFromConsole'), false, String(value));
      }
    });

    it('maps tlsDetails from the TLS attributes, with the host header', () => {
      assert.deepEqual(
        recordOf(
          auditSpan({
            'tls.protocol.version': '1.3',
            'tls.cipher': 'TLS_AES_128_GCM_SHA256',
            'server.address': 'iam.example.com',
          }),
        ).tlsDetails,
        {
          tlsVersion: 'TLSv1.3',
          cipherSuite: 'TLS_AES_128_GCM_SHA256',
          clientProvidedHostHeader: 'iam.example.com',
        },
      );
      assert.deepEqual(recordOf(auditSpan({ 'tls.cipher': 'X' })).tlsDetails, { cipherSuite: 'X' });
      assert.equal(Object.hasOwn(recordOf(auditSpan({ 'server.address': 'h' })), 'tlsDetails'), false);
    });

    it('takes awsRegion and recipientAccountId from resource attributes, the span overriding', () => {
      const resource = {
        'service.name': 'iam',
        'cloud.region': 'eu-west-1',
        'cloud.account.id': '111122223333',
      };
      const fromResource = recordOf(auditSpan({}, { resource }));
      assert.equal(fromResource.awsRegion, 'eu-west-1');
      assert.equal(fromResource.recipientAccountId, '111122223333');
      const fromSpan = recordOf(
        auditSpan({ 'cloud.region': 'us-east-2', 'cloud.account.id': '999' }, { resource }),
      );
      assert.equal(fromSpan.awsRegion, 'us-east-2');
      assert.equal(fromSpan.recipientAccountId, '999');
      const none = recordOf(auditSpan());
      assert.equal(Object.hasOwn(none, 'awsRegion'), false);
      assert.equal(Object.hasOwn(none, 'recipientAccountId'), false);
    });

    it('stores IPv4-mapped IPv6 addresses as IPv4 and IPv6 in its canonical form, other text as it is', () => {
      const cases: [string, string][] = [
        ['::ffff:127.0.0.1', '127.0.0.1'],
        ['::FFFF:203.0.113.7', '203.0.113.7'],
        ['::ffff:cb00:7107', '203.0.113.7'],
        ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
        ['203.0.113.7', '203.0.113.7'],
        ['unknown', 'unknown'],
        ['proxy.internal', 'proxy.internal'],
      ];
      for (const [sent, stored] of cases) {
        const record = recordOf(auditSpan({ 'client.address': sent, 'network.peer.address': sent }));
        assert.equal(record.sourceIPAddress, stored, sent);
        assert.equal(record.crumbtrail.peerAddress, stored, sent);
      }
      const derived = recordOf(
        span({ attributes: { 'http.request.method': 'GET', 'network.peer.address': '::ffff:10.1.2.3' } }),
        DERIVATION,
      );
      assert.equal(derived.sourceIPAddress, '10.1.2.3');
    });

    it('keeps the path of an audit span that matched no route', () => {
      const record = recordOf(auditSpan({ 'crumbtrail.event.name': 'GetNoRoute', 'url.path': '/admin' }));
      assert.equal(record.crumbtrail.path, '/admin');
      const routed = recordOf(auditSpan({ 'http.route': '/users', 'url.path': '/users' }));
      assert.equal(Object.hasOwn(routed.crumbtrail, 'path'), false);
    });

    it('takes sourceIPAddress from client.address, then http.client_ip, then the peer address', () => {
      const all = {
        'client.address': '203.0.113.1',
        'http.client_ip': '203.0.113.2',
        'network.peer.address': '10.0.0.1',
      };
      const record = recordOf(auditSpan(all));
      assert.equal(record.sourceIPAddress, '203.0.113.1');
      assert.equal(record.crumbtrail.peerAddress, '10.0.0.1');
      assert.equal(
        recordOf(auditSpan({ 'http.client_ip': '203.0.113.2', 'net.peer.ip': '10.0.0.2' })).sourceIPAddress,
        '203.0.113.2',
      );
      const peerOnly = recordOf(auditSpan({ 'net.peer.ip': '10.0.0.2' }));
      assert.equal(peerOnly.sourceIPAddress, '10.0.0.2');
      assert.equal(peerOnly.crumbtrail.peerAddress, '10.0.0.2');
    });

    it('takes userAgent from user_agent.original, else http.user_agent', () => {
      assert.equal(
        recordOf(auditSpan({ 'user_agent.original': 'curl/8', 'http.user_agent': 'old/1' })).userAgent,
        'curl/8',
      );
      assert.equal(recordOf(auditSpan({ 'http.user_agent': 'old/1' })).userAgent, 'old/1');
    });

    it('maps requestID, eventType and eventCategory', () => {
      const record = recordOf(
        auditSpan({
          'crumbtrail.request.id': 'req-1',
          'crumbtrail.event.type': 'AwsConsoleAction',
          'crumbtrail.event.category': 'Data',
        }),
      );
      assert.equal(record.requestID, 'req-1');
      assert.equal(record.eventType, 'AwsConsoleAction');
      assert.equal(record.eventCategory, 'Data');
      assert.equal(record.managementEvent, false);
      assert.equal(
        recordOf(auditSpan({ 'crumbtrail.event.category': 'NetworkActivity' })).eventCategory,
        'NetworkActivity',
      );
      assert.equal(recordOf(auditSpan({ 'crumbtrail.event.category': 'Management' })).managementEvent, true);
    });

    it('fills the crumbtrail extension with trace context, service and HTTP status', () => {
      const record = recordOf(
        auditSpan(
          { 'http.response.status_code': 201 },
          {
            parentSpanId: '1111111111111111',
            resource: { 'service.name': 'iam', 'service.version': '2.3.4' },
          },
        ),
      );
      assert.deepEqual(record.crumbtrail, {
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        parentSpanId: '1111111111111111',
        origin: 'instrumentation',
        durationMs: 25,
        serviceName: 'iam',
        serviceVersion: '2.3.4',
        httpStatusCode: 201,
      });
      assert.equal(recordOf(auditSpan({ 'http.status_code': '404' })).crumbtrail.httpStatusCode, 404);
    });

    it('reads attributes of the obvious alternative types (numbers as strings, ints as strings)', () => {
      const record = recordOf(
        auditSpan({ 'user.id': 42, 'crumbtrail.read_only': 'true', 'http.response.status_code': '503' }),
      );
      assert.equal(record.userIdentity.principalId, '42');
      assert.equal(record.readOnly, true);
      assert.equal(record.errorCode, 'ServiceUnavailable');
    });

    it('ignores attributes of unusable types instead of failing', () => {
      const record = recordOf(
        auditSpan({
          'crumbtrail.event.source': ['a', 'b'],
          'user.name': { nested: 'x' },
          'http.response.status_code': 1.5,
          'crumbtrail.read_only': 1,
        }),
      );
      assert.equal(record.eventSource, 'iam.example.com');
      assert.deepEqual(record.userIdentity, { type: 'Anonymous' });
      assert.equal(Object.hasOwn(record.crumbtrail, 'httpStatusCode'), false);
      assert.equal(record.readOnly, false);
    });
  });

  describe('errorCode and errorMessage', () => {
    const cases: [string, Record<string, string | number>, number, string | undefined][] = [
      [
        'crumbtrail.error.code first',
        {
          'crumbtrail.error.code': 'AccessDenied',
          'error.type': 'ValidationException',
          'http.response.status_code': 500,
        },
        StatusCode.ERROR,
        'AccessDenied',
      ],
      [
        'then a named error.type',
        { 'error.type': 'ValidationException', 'http.response.status_code': 400 },
        StatusCode.ERROR,
        'ValidationException',
      ],
      ['then the HTTP status name', { 'http.response.status_code': 403 }, StatusCode.ERROR, 'Forbidden'],
      [
        'a numeric error.type says no more than the status',
        { 'error.type': '404', 'http.response.status_code': 404 },
        0,
        'NotFound',
      ],
      ['"_OTHER" says nothing', { 'error.type': '_OTHER', 'http.response.status_code': 409 }, 0, 'Conflict'],
      ['old http.status_code', { 'http.status_code': 429 }, 0, 'TooManyRequests'],
      ['a status without a name', { 'http.response.status_code': 599 }, 0, 'Http599'],
      ['then status ERROR', {}, StatusCode.ERROR, 'InternalFailure'],
      ['"_OTHER" with status ERROR', { 'error.type': '_OTHER' }, StatusCode.ERROR, 'InternalFailure'],
      ['no error for a success', { 'http.response.status_code': 200 }, StatusCode.OK, undefined],
      ['no error for a redirect', { 'http.response.status_code': 302 }, StatusCode.UNSET, undefined],
      ['no error when nothing says so', {}, StatusCode.UNSET, undefined],
    ];
    for (const [title, attributes, statusCode, expected] of cases) {
      it(`${title} → ${expected ?? 'none'}`, () => {
        const record = recordOf(auditSpan(attributes, { statusCode }));
        if (expected === undefined) assert.equal(Object.hasOwn(record, 'errorCode'), false);
        else assert.equal(record.errorCode, expected);
      });
    }

    it('takes errorMessage from crumbtrail.error.message, else the span status message of a failure', () => {
      assert.equal(
        recordOf(auditSpan({ 'crumbtrail.error.message': 'No such user' }, { statusMessage: 'ignored' }))
          .errorMessage,
        'No such user',
      );
      assert.equal(
        recordOf(auditSpan({}, { statusCode: StatusCode.ERROR, statusMessage: 'db down' })).errorMessage,
        'db down',
      );
      const success = recordOf(auditSpan({}, { statusCode: StatusCode.OK, statusMessage: 'fine' }));
      assert.equal(Object.hasOwn(success, 'errorMessage'), false);
    });
  });

  describe('readOnly', () => {
    const cases: [string, Record<string, string | boolean>, boolean][] = [
      ['explicit true beats POST', { 'crumbtrail.read_only': true, 'http.request.method': 'POST' }, true],
      ['explicit false beats GET', { 'crumbtrail.read_only': false, 'http.request.method': 'GET' }, false],
      ['explicit "false" string', { 'crumbtrail.read_only': 'false', 'http.request.method': 'GET' }, false],
      ['GET', { 'http.request.method': 'GET' }, true],
      ['head (any case)', { 'http.request.method': 'head' }, true],
      ['OPTIONS', { 'http.request.method': 'OPTIONS' }, true],
      ['POST', { 'http.request.method': 'POST' }, false],
      ['DELETE', { 'http.request.method': 'DELETE' }, false],
      ['old http.method GET', { 'http.method': 'GET' }, true],
      ['stable method before the old one', { 'http.request.method': 'PUT', 'http.method': 'GET' }, false],
      ['no method and nothing explicit', {}, false],
    ];
    for (const [title, attributes, expected] of cases) {
      it(`${title} → ${expected}`, () => {
        assert.equal(recordOf(auditSpan(attributes)).readOnly, expected);
      });
    }
  });

  describe('ignored and rejected spans', () => {
    it('ignores spans without crumbtrail.event.name unless derivation is on', () => {
      const plain = span({ attributes: { 'http.request.method': 'GET', 'http.route': '/users' } });
      assert.deepEqual(spanToEvent(plain, NO_DERIVATION), { outcome: 'ignored' });
      assert.equal(spanToEvent(plain, DERIVATION).outcome, 'event');
      assert.deepEqual(spanToEvent(span({ attributes: { 'crumbtrail.event.name': '' } }), NO_DERIVATION), {
        outcome: 'ignored',
      });
    });

    it('maps audit spans of any kind', () => {
      for (const kind of [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.UNSPECIFIED]) {
        assert.equal(recordOf(auditSpan({}, { kind })).eventName, 'CreateUser');
      }
    });

    it('rejects a bad trace id, naming the span', () => {
      for (const traceId of [
        '',
        'abc',
        '4bf92f3577b34da6a3ce929d0e0e473',
        'zbf92f3577b34da6a3ce929d0e0e4736',
        '0'.repeat(32),
      ]) {
        assert.equal(
          rejectionOf(auditSpan({}, { traceId, name: 'POST /users' })),
          'span "POST /users": traceId must be 32 hex digits, not all zero',
          traceId,
        );
      }
    });

    it('rejects a bad span id', () => {
      for (const spanId of [
        '',
        '00f067aa0ba902b',
        '00f067aa0ba902b7aa',
        'g0f067aa0ba902b7',
        '0'.repeat(16),
      ]) {
        assert.match(
          rejectionOf(auditSpan({}, { spanId })),
          /spanId must be 16 hex digits, not all zero/,
          spanId,
        );
      }
    });

    it('rejects a span without a start (or end) time, or beyond year 9999', () => {
      assert.match(
        rejectionOf(auditSpan({}, { startTimeUnixNano: 0n, endTimeUnixNano: 0n })),
        /missing or out-of-range start time/,
      );
      assert.match(
        rejectionOf(auditSpan({}, { startTimeUnixNano: 253_402_300_800_000n * 1_000_000n })),
        /out-of-range/,
      );
      assert.equal(
        recordOf(
          auditSpan(
            {},
            {
              startTimeUnixNano: 253_402_300_799_999n * 1_000_000n,
              endTimeUnixNano: 253_402_300_799_999n * 1_000_000n,
            },
          ),
        ).eventTime,
        '9999-12-31T23:59:59.999Z',
      );
    });

    it('rejects the Insight category and unknown categories from a span', () => {
      for (const category of ['Insight', 'management', 'Whatever']) {
        assert.match(
          rejectionOf(auditSpan({ 'crumbtrail.event.category': category })),
          /crumbtrail\.event\.category must be Management, Data or NetworkActivity/,
        );
      }
    });

    it('ignores (does not reject) a non-audit span with bad ids', () => {
      assert.deepEqual(spanToEvent(span({ traceId: 'bad', kind: SpanKind.INTERNAL }), DERIVATION), {
        outcome: 'ignored',
      });
    });
  });

  it('produces the same eventID for the same span exported twice', () => {
    const first = recordOf(auditSpan({ 'user.name': 'a' }));
    const again = recordOf(auditSpan({ 'user.name': 'b' }));
    assert.equal(first.eventID, again.eventID);
    assert.notEqual(first.eventID, recordOf(auditSpan({}, { spanId: '00f067aa0ba902b8' })).eventID);
  });
});

/*
 * recordApiCall on a real tracer provider: the call's value or error passes through unchanged,
 * and every ApiCallDetails field lands on its own span, a child of the active one.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import * as A from '../src/attributes.js';
import { recordApiCall } from '../src/record-api-call.js';
import type { ApiCallDetails } from '../src/types.js';
import type { TestTracing } from './support/tracing.js';
import { startTracing } from './support/tracing.js';

class AccessDenied extends Error {
  readonly code = 'AccessDenied';
}

class ValidationError extends Error {
  override readonly name = 'ValidationError';
}

describe('recordApiCall', () => {
  let tracing: TestTracing;
  before(() => {
    tracing = startTracing({ httpInstrumentation: false });
  });
  afterEach(() => {
    tracing.exporter.reset();
  });
  after(async () => {
    await tracing.shutdown();
  });

  /** The one span recorded (recordApiCall ends its span before it settles). */
  function onlySpan(): ReadableSpan {
    const spans = tracing.exporter.getFinishedSpans();
    assert.equal(spans.length, 1);
    return spans[0]!;
  }

  it("returns the call's value, sync or async", async () => {
    assert.equal(
      recordApiCall({ eventName: 'Sync' }, () => 42),
      42,
    );
    const user = { id: 'u-1' };
    assert.equal(
      await recordApiCall({ eventName: 'Async' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return user;
      }),
      user,
      'the very same object',
    );
    assert.deepEqual(
      tracing.exporter.getFinishedSpans().map((span) => span.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME]),
      ['Sync', 'Async'],
    );
  });

  it('records every field of the details', () => {
    const details: ApiCallDetails = {
      eventName: 'CreateUser',
      eventSource: 'iam.example.com',
      readOnly: false,
      identity: {
        type: 'IAMUser',
        userName: 'John',
        principalId: 'AIDAJOHN',
        arn: 'arn:aws:iam::123456789012:user/John',
        accountId: '123456789012',
        accessKeyId: 'AKIAJOHN',
        invokedBy: 'console.example.com',
        sessionContext: { attributes: { mfaAuthenticated: 'true' }, sessionToken: 'secret-session' },
      },
      resources: [
        { type: 'User', name: 'Mary', arn: 'arn:aws:iam::123456789012:user/Mary', accountId: '123456789012' },
        { type: 'Group', name: 'admins' },
      ],
      requestParameters: { userName: 'Mary', password: 'hunter2', tags: [{ key: 'team', value: 'a' }] },
      responseElements: { user: { userName: 'Mary', apiKey: 'k-123' } },
      additionalEventData: { viaBatch: false },
      eventCategory: 'Data',
      requestId: 'req-1',
      sourceIPAddress: '203.0.113.7',
      userAgent: 'aws-cli/2.15',
      consoleSession: true,
      errorCode: 'PartialFailure',
      errorMessage: 'one of two groups was not joined',
    };
    assert.equal(
      recordApiCall(details, () => 'done'),
      'done',
    );
    const span = onlySpan();
    const attributes = span.attributes;
    assert.equal(span.name, 'CreateUser');
    assert.equal(span.kind, SpanKind.SERVER, 'SERVER by default');
    assert.equal(span.instrumentationScope.name, '@crumbtrail/instrumentation');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'CreateUser');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_SOURCE], 'iam.example.com');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_READ_ONLY], false);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_CATEGORY], 'Data');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_TYPE], 'IAMUser');
    assert.equal(attributes[A.ATTR_USER_NAME], 'John');
    assert.equal(attributes[A.ATTR_USER_ID], 'AIDAJOHN');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_ARN], 'arn:aws:iam::123456789012:user/John');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_ACCOUNT_ID], '123456789012');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID], 'AKIAJOHN');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_INVOKED_BY], 'console.example.com');
    assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_IDENTITY_SESSION_CONTEXT])), {
      attributes: { mfaAuthenticated: 'true' },
      sessionToken: '[REDACTED]',
    });
    assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES], ['User', 'Group']);
    assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_NAMES], ['Mary', 'admins']);
    assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ARNS], [
      'arn:aws:iam::123456789012:user/Mary',
      '',
    ]);
    assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ACCOUNT_IDS], ['123456789012', '']);
    assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS])), {
      userName: 'Mary',
      password: '[REDACTED]',
      tags: [{ key: 'team', value: 'a' }],
    });
    assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS])), {
      user: { userName: 'Mary', apiKey: '[REDACTED]' },
    });
    assert.deepEqual(JSON.parse(String(attributes[A.ATTR_CRUMBTRAIL_ADDITIONAL_EVENT_DATA])), {
      viaBatch: false,
    });
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID], 'req-1');
    assert.equal(attributes[A.ATTR_CLIENT_ADDRESS], '203.0.113.7');
    assert.equal(attributes[A.ATTR_USER_AGENT_ORIGINAL], 'aws-cli/2.15');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], true);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'PartialFailure');
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'one of two groups was not joined');
    assert.equal(span.status.code, SpanStatusCode.UNSET, 'the call itself returned');
    assert.equal(span.events.length, 0);
  });

  it('records only what is given: no resource arns or account ids when none is known', () => {
    recordApiCall(
      { eventName: 'ListUsers', readOnly: true, resources: [{ type: 'User' }], consoleSession: false },
      () => [],
    );
    const { attributes } = onlySpan();
    assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_TYPES], ['User']);
    assert.deepEqual(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_NAMES], ['']);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ARNS], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESOURCE_ACCOUNT_IDS], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_CONSOLE_SESSION], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_EVENT_SOURCE], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], undefined);
  });

  it('rethrows the very same error and records its code, message, status and exception', () => {
    const error = new AccessDenied('John may not delete users');
    assert.throws(
      () =>
        recordApiCall({ eventName: 'DeleteUser', identity: { userName: 'John' } }, () => {
          throw error;
        }),
      (thrown) => thrown === error,
    );
    const span = onlySpan();
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], 'DeleteUser');
    assert.equal(span.attributes[A.ATTR_USER_NAME], 'John');
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'AccessDenied');
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'John may not delete users');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'John may not delete users');
    const exception = span.events.find((event) => event.name === 'exception');
    assert.ok(exception !== undefined, 'the exception is recorded');
    assert.equal(exception.attributes?.['exception.message'], 'John may not delete users');
  });

  it("takes errorCode from the error's name when it has no code, for async rejections too", async () => {
    const error = new ValidationError('userName is required');
    await assert.rejects(
      recordApiCall({ eventName: 'CreateUser' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        throw error;
      }),
      (thrown) => thrown === error,
    );
    const span = onlySpan();
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'ValidationError');
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'userName is required');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
  });

  it('keeps an explicit errorCode and errorMessage over the thrown error', () => {
    assert.throws(
      () =>
        recordApiCall(
          { eventName: 'CreateUser', errorCode: 'EntityAlreadyExists', errorMessage: 'taken' },
          () => {
            throw new Error('duplicate key');
          },
        ),
      /duplicate key/,
    );
    const span = onlySpan();
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'EntityAlreadyExists');
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'taken');
  });

  it('records a thrown non-Error as InternalFailure and rethrows it unchanged', () => {
    assert.throws(
      () =>
        recordApiCall({ eventName: 'Odd' }, () => {
          // eslint-disable-next-line @typescript-eslint/only-throw-error -- what some libraries do
          throw 'plain string';
        }),
      (thrown) => thrown === 'plain string',
    );
    const span = onlySpan();
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE], 'InternalFailure');
    assert.equal(span.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE], 'plain string');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
  });

  it('runs inside a child span of the active span, and spans the call starts are its children', () => {
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('parent', (parent) => {
      recordApiCall({ eventName: 'CreateUser' }, () => {
        tracer.startSpan('inner').end();
      });
      parent.end();
    });
    const spans = tracing.exporter.getFinishedSpans();
    const parent = spans.find((span) => span.name === 'parent');
    const call = spans.find((span) => span.name === 'CreateUser');
    const inner = spans.find((span) => span.name === 'inner');
    assert.ok(parent !== undefined && call !== undefined && inner !== undefined);
    assert.equal(call.spanContext().traceId, parent.spanContext().traceId);
    assert.equal(call.parentSpanContext?.spanId, parent.spanContext().spanId);
    assert.equal(inner.parentSpanContext?.spanId, call.spanContext().spanId);
    assert.equal(parent.attributes[A.ATTR_CRUMBTRAIL_EVENT_NAME], undefined);
  });

  it('starts a root span when none is active', () => {
    recordApiCall({ eventName: 'Root' }, () => undefined);
    assert.equal(onlySpan().parentSpanContext, undefined);
  });

  it('uses the given span kind', () => {
    recordApiCall({ eventName: 'ConsumeMessage' }, () => undefined, { kind: SpanKind.CONSUMER });
    assert.equal(onlySpan().kind, SpanKind.CONSUMER);
    tracing.exporter.reset();
    recordApiCall({ eventName: 'RunJob' }, () => undefined, { kind: SpanKind.INTERNAL });
    assert.equal(onlySpan().kind, SpanKind.INTERNAL);
  });

  it('honours a redaction option', () => {
    recordApiCall({ eventName: 'Charge', requestParameters: { iban: 'DE00', amount: 3 } }, () => undefined, {
      redaction: { keys: ['iban'] },
    });
    assert.deepEqual(JSON.parse(String(onlySpan().attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS])), {
      iban: '[REDACTED]',
      amount: 3,
    });
  });

  it('omits requestParameters over 100 KB and records their size instead', () => {
    const requestParameters = {
      items: Array.from({ length: 2000 }, (_, index) => `item-${index}-${'x'.repeat(60)}`),
    };
    const size = Buffer.byteLength(JSON.stringify(requestParameters), 'utf8');
    assert.ok(size > 100 * 1024);
    recordApiCall({ eventName: 'BatchPut', requestParameters }, () => undefined);
    const { attributes } = onlySpan();
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS_OMITTED_BYTES], size);
  });

  it('omits responseElements over 100 KB and records their size instead', () => {
    const responseElements = {
      blob: 'y'.repeat(3000),
      list: Array.from({ length: 1000 }, () => 'z'.repeat(100)),
    };
    const size = Buffer.byteLength(JSON.stringify(responseElements), 'utf8');
    assert.ok(size > 100 * 1024);
    recordApiCall({ eventName: 'BatchPut', responseElements }, () => undefined);
    const { attributes } = onlySpan();
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS], undefined);
    assert.equal(attributes[A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS_OMITTED_BYTES], size);
  });

  it('truncates a 5 KB userAgent to 1 KB', () => {
    const userAgent = `agent/${'a'.repeat(5 * 1024)}`;
    recordApiCall({ eventName: 'Call', userAgent }, () => undefined);
    const recorded = String(onlySpan().attributes[A.ATTR_USER_AGENT_ORIGINAL]);
    assert.equal(recorded.length, 1024);
    assert.equal(recorded, userAgent.slice(0, 1024));
  });

  it('truncates on a character boundary, never splitting a multi-byte character', () => {
    // 'é' is 2 bytes of UTF-8: 1023 ASCII bytes leave no room for a whole one within 1024.
    const errorMessage = `${'m'.repeat(1023)}${'é'.repeat(100)}`;
    recordApiCall({ eventName: 'Call', errorCode: 'X', errorMessage }, () => undefined);
    const recorded = String(onlySpan().attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE]);
    assert.equal(recorded, 'm'.repeat(1023));
    assert.ok(Buffer.byteLength(recorded, 'utf8') <= 1024);
  });

  it("returns a sync callback's value as it is, and a Promise only for an async one", async () => {
    const value: number = recordApiCall({ eventName: 'CountUsers' }, () => 42);
    assert.equal(value, 42, 'not a Promise');
    const pending = recordApiCall({ eventName: 'ListUsers' }, () => Promise.resolve(['mary']));
    assert.ok(pending instanceof Promise);
    assert.deepEqual(await pending, ['mary']);
    const error = new AccessDenied('no');
    assert.throws(
      () =>
        recordApiCall({ eventName: 'DeleteUser' }, () => {
          throw error;
        }),
      (thrown) => thrown === error,
      'a sync throw is rethrown synchronously',
    );
    assert.deepEqual(
      tracing.exporter.getFinishedSpans().map((span) => span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE]),
      [undefined, undefined, 'AccessDenied'],
      'every span ended, the failed one with its code',
    );
  });

  it('records a plain Error (and a built-in TypeError) as InternalFailure, with its message', async () => {
    assert.throws(() =>
      recordApiCall({ eventName: 'CreateUser' }, () => {
        throw new Error('database unreachable');
      }),
    );
    await assert.rejects(
      recordApiCall({ eventName: 'CreateUser' }, async () => {
        await Promise.resolve();
        throw new TypeError("Cannot read properties of undefined (reading 'name')");
      }),
    );
    const spans = tracing.exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((span) => [
        span.attributes[A.ATTR_CRUMBTRAIL_ERROR_CODE],
        span.attributes[A.ATTR_CRUMBTRAIL_ERROR_MESSAGE],
      ]),
      [
        ['InternalFailure', 'database unreachable'],
        ['InternalFailure', "Cannot read properties of undefined (reading 'name')"],
      ],
    );
  });

  it('infers readOnly from List/Get/Describe/Head names unless told', () => {
    const names = [
      'ListUsers',
      'GetUser',
      'DescribeInstances',
      'HeadObject',
      'Get',
      'CreateUser',
      'Listen',
      'Getaway',
      'DeleteUser',
    ];
    for (const eventName of names) recordApiCall({ eventName }, () => undefined);
    recordApiCall({ eventName: 'GetSessionToken', readOnly: false }, () => undefined);
    recordApiCall({ eventName: 'RunReport', readOnly: true }, () => undefined);
    assert.deepEqual(
      tracing.exporter
        .getFinishedSpans()
        .map((span) => [span.name, span.attributes[A.ATTR_CRUMBTRAIL_READ_ONLY]]),
      [
        ['ListUsers', true],
        ['GetUser', true],
        ['DescribeInstances', true],
        ['HeadObject', true],
        ['Get', true],
        ['CreateUser', false],
        ['Listen', false],
        ['Getaway', false],
        ['DeleteUser', false],
        ['GetSessionToken', false],
        ['RunReport', true],
      ],
    );
  });

  it('fills requestID: the one given, else a new UUID per call', () => {
    recordApiCall({ eventName: 'GetUser', requestId: 'req-42' }, () => undefined);
    recordApiCall({ eventName: 'GetUser' }, () => undefined);
    recordApiCall({ eventName: 'GetUser' }, () => undefined);
    const ids = tracing.exporter
      .getFinishedSpans()
      .map((span) => span.attributes[A.ATTR_CRUMBTRAIL_REQUEST_ID]);
    assert.equal(ids[0], 'req-42');
    assert.match(String(ids[1]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.match(String(ids[2]), /^[0-9a-f]{8}-/);
    assert.notEqual(ids[1], ids[2]);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { errorCodeForHttpStatus } from '@crumbtrail/instrumentation/conventions';
import { namedErrorType } from '../../src/events/call-description.js';
import type { AttributeValue, Attributes } from '../../src/otlp/decoded-span.js';

function attrs(entries: Record<string, AttributeValue>): Attributes {
  return new Map(Object.entries(entries));
}

describe('call description rules', () => {
  it('names HTTP failures after the status text, in PascalCase without punctuation', () => {
    assert.equal(errorCodeForHttpStatus(400), 'BadRequest');
    assert.equal(errorCodeForHttpStatus(403), 'Forbidden');
    assert.equal(errorCodeForHttpStatus(404), 'NotFound');
    assert.equal(errorCodeForHttpStatus(413), 'PayloadTooLarge');
    assert.equal(errorCodeForHttpStatus(505), 'HTTPVersionNotSupported');
    assert.equal(errorCodeForHttpStatus(500), 'InternalServerError');
    assert.equal(errorCodeForHttpStatus(599), 'Http599');
  });

  it('gives no error code below 400', () => {
    for (const status of [undefined, 100, 200, 204, 304, 399])
      assert.equal(errorCodeForHttpStatus(status), undefined);
  });

  it('uses error.type only when it names the error', () => {
    assert.equal(
      namedErrorType(attrs({ 'error.type': 'java.net.SocketTimeoutException' })),
      'java.net.SocketTimeoutException',
    );
    assert.equal(namedErrorType(attrs({ 'error.type': '500' })), undefined);
    assert.equal(namedErrorType(attrs({ 'error.type': 500 })), undefined);
    assert.equal(namedErrorType(attrs({ 'error.type': '_OTHER' })), undefined);
    assert.equal(namedErrorType(attrs({})), undefined);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { SizeLimiter } from '../../src/events/size-limits.js';
import { auditSpan, recordOf } from './builders.js';

const FIELD_LIMIT = 1024;
const DOCUMENT_LIMIT = 100 * 1024;

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A JSON object string of exactly `size` bytes. */
function jsonOfBytes(size: number, filler = 'x'): string {
  const overhead = bytes('{"k":""}');
  const body = filler.repeat(Math.floor((size - overhead) / bytes(filler)));
  const text = `{"k":"${body}${'y'.repeat(size - overhead - bytes(body))}"}`;
  assert.equal(bytes(text), size);
  return text;
}

describe('CloudTrail size limits', () => {
  describe('short fields are truncated at 1 KB', () => {
    it('cuts a 5,000-byte userAgent to 1,024 bytes and marks it', () => {
      const userAgent = 'Mozilla/5.0 '.repeat(417).slice(0, 5000);
      assert.equal(bytes(userAgent), 5000);
      const record = recordOf(auditSpan({ 'user_agent.original': userAgent }));
      assert.equal(bytes(record.userAgent!), FIELD_LIMIT);
      assert.equal(record.userAgent, userAgent.slice(0, FIELD_LIMIT));
      assert.deepEqual(record.crumbtrail.sizeLimits, { truncated: ['userAgent'] });
    });

    it('never splits a multi-byte character at the cut', () => {
      for (const character of ['é', '€', '😀']) {
        for (let offset = 0; offset < 4; offset++) {
          const userAgent = 'a'.repeat(FIELD_LIMIT - 4 + offset) + character.repeat(2000);
          const cut = recordOf(auditSpan({ 'user_agent.original': userAgent })).userAgent!;
          const label = `${character} at offset ${offset}`;
          assert.ok(bytes(cut) <= FIELD_LIMIT, label);
          assert.ok(
            bytes(cut) > FIELD_LIMIT - bytes(character),
            `${label}: no more than the split character is dropped`,
          );
          assert.ok(userAgent.startsWith(cut), `${label}: a prefix of the original`);
          assert.ok(!cut.includes('\uFFFD'), `${label}: no replacement character`);
          assert.ok(!/[\uD800-\uDBFF]$/.test(cut), `${label}: no lone surrogate`);
        }
      }
    });

    it('keeps a field of exactly 1,024 bytes whole and unmarked', () => {
      for (const userAgent of [
        'a'.repeat(FIELD_LIMIT),
        'é'.repeat(FIELD_LIMIT / 2),
        '😀'.repeat(FIELD_LIMIT / 4),
      ]) {
        const record = recordOf(auditSpan({ 'user_agent.original': userAgent }));
        assert.equal(record.userAgent, userAgent);
        assert.equal(Object.hasOwn(record.crumbtrail, 'sizeLimits'), false);
      }
    });

    it('truncates and marks every short field it cuts', () => {
      const long = 'z'.repeat(3000);
      const record = recordOf(
        auditSpan({
          'crumbtrail.event.name': long,
          'crumbtrail.event.source': long,
          'crumbtrail.error.code': long,
          'crumbtrail.error.message': long,
          'crumbtrail.request.id': long,
          'user.id': long,
          'user.name': long,
          'crumbtrail.identity.arn': long,
          'crumbtrail.identity.account_id': long,
          'crumbtrail.identity.access_key_id': long,
          'crumbtrail.identity.invoked_by': long,
          'crumbtrail.resource.types': ['short', long],
          'crumbtrail.resource.names': [long, 'short'],
          'crumbtrail.resource.arns': [long, ''],
        }),
      );
      const cut = long.slice(0, FIELD_LIMIT);
      assert.equal(record.eventName, cut);
      assert.equal(record.eventSource, cut);
      assert.equal(record.errorCode, cut);
      assert.equal(record.errorMessage, cut);
      assert.equal(record.requestID, cut);
      assert.deepEqual(record.userIdentity, {
        type: 'Unknown',
        principalId: cut,
        arn: cut,
        accountId: cut,
        accessKeyId: cut,
        userName: cut,
        invokedBy: cut,
      });
      assert.deepEqual(record.resources, [
        { ARN: cut, type: 'short', name: cut },
        { type: cut, name: 'short' },
      ]);
      assert.deepEqual([...(record.crumbtrail.sizeLimits?.truncated ?? [])].sort(), [
        'errorCode',
        'errorMessage',
        'eventName',
        'eventSource',
        'requestID',
        'resources[0].ARN',
        'resources[0].name',
        'resources[1].type',
        'userIdentity.accessKeyId',
        'userIdentity.accountId',
        'userIdentity.arn',
        'userIdentity.invokedBy',
        'userIdentity.principalId',
        'userIdentity.userName',
      ]);
      assert.equal(Object.hasOwn(record.crumbtrail.sizeLimits!, 'omitted'), false);
    });
  });

  describe('documents are omitted above 100 KB', () => {
    it('omits requestParameters above 100 KB and records its size', () => {
      const parameters = jsonOfBytes(DOCUMENT_LIMIT + 1);
      const record = recordOf(auditSpan({ 'crumbtrail.request.parameters': parameters }));
      assert.equal(record.requestParameters, null);
      assert.deepEqual(record.crumbtrail.sizeLimits, {
        omitted: [{ field: 'requestParameters', originalBytes: DOCUMENT_LIMIT + 1 }],
      });
    });

    it('keeps a document of exactly 100 KB', () => {
      const parameters = jsonOfBytes(DOCUMENT_LIMIT);
      const record = recordOf(auditSpan({ 'crumbtrail.request.parameters': parameters }));
      assert.deepEqual(record.requestParameters, JSON.parse(parameters));
      assert.equal(Object.hasOwn(record.crumbtrail, 'sizeLimits'), false);
    });

    it('measures documents in UTF-8 bytes, not characters', () => {
      // 60,000 characters: well under the limit as characters, 120,000 bytes as UTF-8.
      const over = `{"k":"${'é'.repeat(60_000)}"}`;
      const overRecord = recordOf(auditSpan({ 'crumbtrail.request.parameters': over }));
      assert.equal(overRecord.requestParameters, null);
      assert.deepEqual(overRecord.crumbtrail.sizeLimits?.omitted, [
        { field: 'requestParameters', originalBytes: bytes(over) },
      ]);
      // 40,000 characters of 2 bytes: 80,000 bytes, kept although 3 × length exceeds the limit.
      const under = `{"k":"${'é'.repeat(40_000)}"}`;
      assert.deepEqual(recordOf(auditSpan({ 'crumbtrail.request.parameters': under })).requestParameters, {
        k: 'é'.repeat(40_000),
      });
    });

    it('omits responseElements, additionalEventData and sessionContext the same way', () => {
      const big = jsonOfBytes(DOCUMENT_LIMIT + 10);
      const record = recordOf(
        auditSpan({
          'user.name': 'alice',
          'crumbtrail.response.elements': big,
          'crumbtrail.additional_event_data': big,
          'crumbtrail.identity.session_context': big,
          'crumbtrail.request.parameters': '{"small":true}',
        }),
      );
      assert.equal(record.responseElements, null);
      assert.equal(Object.hasOwn(record, 'additionalEventData'), false);
      assert.equal(Object.hasOwn(record.userIdentity, 'sessionContext'), false);
      assert.deepEqual(record.requestParameters, { small: true });
      assert.deepEqual(record.crumbtrail.sizeLimits?.omitted, [
        { field: 'userIdentity.sessionContext', originalBytes: DOCUMENT_LIMIT + 10 },
        { field: 'responseElements', originalBytes: DOCUMENT_LIMIT + 10 },
        { field: 'additionalEventData', originalBytes: DOCUMENT_LIMIT + 10 },
      ]);
    });

    it('measures a kvlist document by its JSON serialization', () => {
      const value = { k: 'x'.repeat(DOCUMENT_LIMIT) };
      const record = recordOf(auditSpan({ 'crumbtrail.request.parameters': value }));
      assert.equal(record.requestParameters, null);
      assert.deepEqual(record.crumbtrail.sizeLimits?.omitted, [
        { field: 'requestParameters', originalBytes: bytes(JSON.stringify(value)) },
      ]);
    });

    it('marks both kinds of cut in one record', () => {
      const record = recordOf(
        auditSpan({
          'user_agent.original': 'u'.repeat(2000),
          'crumbtrail.request.parameters': jsonOfBytes(DOCUMENT_LIMIT + 1),
        }),
      );
      assert.deepEqual(record.crumbtrail.sizeLimits, {
        truncated: ['userAgent'],
        omitted: [{ field: 'requestParameters', originalBytes: DOCUMENT_LIMIT + 1 }],
      });
    });
  });

  describe('SizeLimiter', () => {
    it('passes undefined through and reports nothing when nothing was cut', () => {
      const limiter = new SizeLimiter();
      assert.equal(limiter.truncate('userAgent', undefined), undefined);
      assert.equal(limiter.truncate('userAgent', 'short'), 'short');
      assert.equal(limiter.document('requestParameters', undefined), null);
      assert.deepEqual(limiter.document('requestParameters', '{"a":1}'), { a: 1 });
      assert.equal(limiter.result(), undefined);
    });

    it('collects markers in the order of the cuts', () => {
      const limiter = new SizeLimiter();
      limiter.truncate('b', 'x'.repeat(2000));
      limiter.truncate('a', 'x'.repeat(2000));
      assert.deepEqual(limiter.result(), { truncated: ['b', 'a'] });
    });
  });
});

describe('documents the instrumentation already left out', () => {
  it('marks them omitted with the size the instrumentation measured', () => {
    const record = recordOf(
      auditSpan({
        'crumbtrail.request.parameters.omitted_bytes': 250_000,
        'crumbtrail.response.elements.omitted_bytes': 180_000,
      }),
    );
    assert.equal(record.requestParameters, null);
    assert.equal(record.responseElements, null);
    assert.deepEqual(record.crumbtrail.sizeLimits?.omitted, [
      { field: 'requestParameters', originalBytes: 250_000 },
      { field: 'responseElements', originalBytes: 180_000 },
    ]);
  });
});

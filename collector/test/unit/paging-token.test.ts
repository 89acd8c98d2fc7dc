import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { ApiError } from '../../src/api/api-error.js';
import { PagingTokens, filterDigest } from '../../src/api/paging-token.js';
import type { EventFilter } from '../../src/store/event-store.js';

const KEY = Buffer.alloc(32, 7);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const FILTER: EventFilter = {
  startTimeMs: 1_700_000_000_000,
  endTimeMs: 1_700_000_360_000,
  fields: { eventName: ['CreateUser', 'DeleteUser'], username: ['alice'] },
  text: 'needle',
};

function assertRefused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError, `expected ApiError, got ${String(error)}`);
    assert.equal(error.statusCode, 400);
    assert.match(error.message, /^invalid parameter "nextToken": /);
    assert.match(error.message, message);
    return true;
  });
}

/** The token with the character at `index` replaced by another base64url character. */
function withCharacterChanged(token: string, index: number, replacement?: string): string {
  const current = token.charAt(index);
  // Flip the lowest bit of the 6-bit value: the smallest change, and the one a lenient base64
  // decoder might ignore in the last character.
  const other = replacement ?? BASE64URL.charAt(BASE64URL.indexOf(current) ^ 1);
  assert.notEqual(other, current);
  return token.slice(0, index) + other + token.slice(index + 1);
}

describe('paging tokens', () => {
  const tokens = new PagingTokens(KEY);

  it('round-trips the engine cursor for the same query', () => {
    for (const cursor of ['1700000000000:42', '0:1', '-5:9', 'opaque cursor with spaces and ✓']) {
      const token = tokens.issue(cursor, FILTER);
      assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.equal(tokens.redeem(token, FILTER), cursor);
    }
  });

  it('is redeemed by another instance with the same key (a restart), not with another key', () => {
    const token = tokens.issue('1:2', FILTER);
    assert.equal(new PagingTokens(Buffer.from(KEY)).redeem(token, FILTER), '1:2');
    assertRefused(() => new PagingTokens(randomBytes(32)).redeem(token, FILTER), /malformed or was altered/);
  });

  it('refuses a token with any payload character changed', () => {
    const token = tokens.issue('1700000000000:42', FILTER);
    const dot = token.indexOf('.');
    for (let i = 0; i < dot; i++) {
      assertRefused(() => tokens.redeem(withCharacterChanged(token, i), FILTER), /malformed or was altered/);
    }
  });

  it('refuses a token with any signature character changed', () => {
    const token = tokens.issue('1700000000000:42', FILTER);
    for (let i = token.indexOf('.') + 1; i < token.length; i++) {
      assertRefused(() => tokens.redeem(withCharacterChanged(token, i), FILTER), /malformed or was altered/);
    }
  });

  it('refuses a payload forged for another cursor', () => {
    const token = tokens.issue('1700000000000:42', FILTER);
    const signature = token.slice(token.indexOf('.') + 1);
    const forgedPayload = Buffer.from(
      JSON.stringify({ c: '9999999999999:1', f: filterDigest(FILTER) }),
    ).toString('base64url');
    assertRefused(() => tokens.redeem(`${forgedPayload}.${signature}`, FILTER), /malformed or was altered/);
  });

  it('refuses malformed tokens', () => {
    const token = tokens.issue('1:2', FILTER);
    const [payload, signature] = token.split('.') as [string, string];
    for (const bad of [
      '',
      '.',
      'abc',
      payload,
      `${payload}.`,
      `.${signature}`,
      `${token}.extra`,
      `${token}=`,
      'x'.repeat(3000),
    ]) {
      assertRefused(() => tokens.redeem(bad, FILTER), /malformed or was altered/);
    }
  });

  it('refuses a token used with a different query', () => {
    const token = tokens.issue('1:2', FILTER);
    const different: EventFilter[] = [
      { ...FILTER, fields: { ...FILTER.fields, eventName: ['CreateUser'] } },
      { ...FILTER, fields: { ...FILTER.fields, eventSource: ['iam.example.com'] } },
      { ...FILTER, fields: { eventName: ['CreateUser', 'DeleteUser'] } },
      { ...FILTER, startTimeMs: FILTER.startTimeMs! + 1 },
      { ...FILTER, endTimeMs: undefined },
      { ...FILTER, text: 'other' },
      { ...FILTER, text: undefined },
      { fields: {} },
    ];
    for (const filter of different) {
      assertRefused(() => tokens.redeem(token, filter), /issued for a different query/);
    }
  });

  it('accepts the same query with values and fields in another order', () => {
    const token = tokens.issue('1:2', FILTER);
    const reordered: EventFilter = {
      text: 'needle',
      fields: { username: ['alice'], eventName: ['DeleteUser', 'CreateUser'], errorCode: [] },
      endTimeMs: 1_700_000_360_000,
      startTimeMs: 1_700_000_000_000,
    };
    assert.equal(tokens.redeem(token, reordered), '1:2');
  });

  describe('filterDigest', () => {
    it('does not depend on value order, field order or empty fields', () => {
      const digest = filterDigest({ fields: { eventName: ['a', 'b', 'c'], username: ['x', 'y'] } });
      assert.equal(filterDigest({ fields: { username: ['y', 'x'], eventName: ['c', 'a', 'b'] } }), digest);
      assert.equal(
        filterDigest({ fields: { eventName: ['b', 'c', 'a'], username: ['x', 'y'], errorCode: [] } }),
        digest,
      );
    });

    it('differs when the query differs', () => {
      const digests = [
        filterDigest({ fields: {} }),
        filterDigest({ fields: { eventName: ['a'] } }),
        filterDigest({ fields: { username: ['a'] } }),
        filterDigest({ fields: { eventName: ['a', 'b'] } }),
        filterDigest({ fields: { eventName: ['a,b'] } }),
        filterDigest({ fields: {}, startTimeMs: 1 }),
        filterDigest({ fields: {}, endTimeMs: 1 }),
        filterDigest({ fields: {}, text: 'a' }),
      ];
      assert.equal(new Set(digests).size, digests.length);
    });

    it('does not reorder the caller’s values', () => {
      const values = ['b', 'a'];
      filterDigest({ fields: { eventName: values } });
      assert.deepEqual(values, ['b', 'a']);
    });
  });
});

/*
 * New request ids (src/request-id.ts) are what the README promises, a new UUID per call, of the
 * same form as crypto.randomUUID()'s: version 4, the RFC 9562 variant, lowercase, although they are
 * made in batches, as slices of one string.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newRequestId } from '../src/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('new request ids', () => {
  // Many batches' worth (a batch is 64 ids), so refills are covered.
  const ids = Array.from({ length: 2000 }, () => newRequestId());

  it('are version 4 UUIDs, as randomUUID() makes them', () => {
    for (const id of ids) assert.match(id, UUID_V4);
  });

  it('never repeat', () => {
    assert.equal(new Set(ids).size, ids.length);
  });

  it('are random in every digit but the version and the variant', () => {
    for (let position = 0; position < 36; position++) {
      if ([8, 13, 14, 18, 23].includes(position)) continue; // dashes, version
      const digits = new Set(ids.map((id) => id[position]));
      // 2,000 random digits miss one of the 16 values (the variant digit: of its 4) with odds below 1e-50.
      assert.equal(digits.size, position === 19 ? 4 : 16, `digit ${position}: ${[...digits].join('')}`);
    }
  });
});

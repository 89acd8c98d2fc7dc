import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { newRequestId } from '../src/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('gives random version-4 UUIDs, each one new', () => {
    const ids = Array.from({ length: 2_000 }, () => newRequestId());
    for (const id of ids) assert.match(id, UUID_V4);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('leaves an id it returned unchanged when it makes the next ones (its buffer is reused)', () => {
    const first = newRequestId();
    const copy = `${first.slice(0, 18)}${first.slice(18)}`;
    for (let i = 0; i < 10; i++) newRequestId();
    assert.equal(first, copy);
    assert.match(first, UUID_V4);
  });
});

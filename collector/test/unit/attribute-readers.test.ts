import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  readBoolean,
  readFirstString,
  readInteger,
  readString,
  readStringArray,
} from '../../src/events/attribute-readers.js';
import type { AttributeValue, Attributes } from '../../src/otlp/decoded-span.js';

function attrs(entries: Record<string, AttributeValue>): Attributes {
  return new Map(Object.entries(entries));
}

describe('attribute readers', () => {
  it('readString: strings, numbers and booleans as text; empty and other types undefined', () => {
    const a = attrs({ s: 'x', n: 42, f: 1.5, b: false, e: '', arr: ['x'], obj: { k: 'v' } });
    assert.equal(readString(a, 's'), 'x');
    assert.equal(readString(a, 'n'), '42');
    assert.equal(readString(a, 'f'), '1.5');
    assert.equal(readString(a, 'b'), 'false');
    assert.equal(readString(a, 'e'), undefined);
    assert.equal(readString(a, 'arr'), undefined);
    assert.equal(readString(a, 'obj'), undefined);
    assert.equal(readString(a, 'missing'), undefined);
  });

  it('readBoolean: booleans and the strings "true"/"false" only', () => {
    const a = attrs({ t: true, f: false, ts: 'true', fs: 'false', upper: 'TRUE', one: 1 });
    assert.equal(readBoolean(a, 't'), true);
    assert.equal(readBoolean(a, 'f'), false);
    assert.equal(readBoolean(a, 'ts'), true);
    assert.equal(readBoolean(a, 'fs'), false);
    assert.equal(readBoolean(a, 'upper'), undefined);
    assert.equal(readBoolean(a, 'one'), undefined);
    assert.equal(readBoolean(a, 'missing'), undefined);
  });

  it('readInteger: integers and digit strings; fractions, signs and text undefined', () => {
    const a = attrs({ i: 404, s: '503', f: 1.5, neg: '-1', text: '4o4', big: '9007199254740993' });
    assert.equal(readInteger(a, 'i'), 404);
    assert.equal(readInteger(a, 's'), 503);
    assert.equal(readInteger(a, 'f'), undefined);
    assert.equal(readInteger(a, 'neg'), undefined);
    assert.equal(readInteger(a, 'text'), undefined);
    assert.equal(typeof readInteger(a, 'big'), 'number');
  });

  it('readStringArray: arrays (numbers as text, others as ""), a string as one element', () => {
    const a = attrs({ arr: ['a', 2, true, { k: 'v' }, ''], one: 'solo', n: 5 });
    assert.deepEqual(readStringArray(a, 'arr'), ['a', '2', '', '', '']);
    assert.deepEqual(readStringArray(a, 'one'), ['solo']);
    assert.deepEqual(readStringArray(a, 'n'), []);
    assert.deepEqual(readStringArray(a, 'missing'), []);
  });

  it('readFirstString: the first key that is set', () => {
    const a = attrs({ old: 'GET', empty: '' });
    assert.equal(readFirstString(a, ['new', 'old']), 'GET');
    assert.equal(readFirstString(a, ['empty', 'old']), 'GET');
    assert.equal(readFirstString(a, ['none']), undefined);
  });
});

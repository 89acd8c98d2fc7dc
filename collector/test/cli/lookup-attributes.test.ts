import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTRIBUTE_KEYS,
  LookupAttributeError,
  VALID_ATTRIBUTE_KEYS,
  lookupQueryParameters,
  parseLookupAttribute,
  parseLookupAttributes,
} from '../../src/cli/lookup-attributes.js';
import { LOOKUP_FIELDS } from '../../src/store/event-store.js';

function parseError(text: string): string {
  try {
    parseLookupAttribute(text);
  } catch (error) {
    assert.ok(error instanceof LookupAttributeError, `expected a LookupAttributeError for ${text}`);
    return error.message;
  }
  assert.fail(`"${text}" was accepted`);
}

describe('parseLookupAttribute: shorthand', () => {
  it('reads AttributeKey=…,AttributeValue=…', () => {
    assert.deepEqual(parseLookupAttribute('AttributeKey=EventName,AttributeValue=CreateUser'), [
      { key: 'EventName', value: 'CreateUser' },
    ]);
  });

  it('takes the members in either order', () => {
    assert.deepEqual(parseLookupAttribute('AttributeValue=alice,AttributeKey=Username'), [
      { key: 'Username', value: 'alice' },
    ]);
  });

  it('allows a blank after the comma', () => {
    assert.deepEqual(parseLookupAttribute('AttributeKey=EventName, AttributeValue=CreateUser'), [
      { key: 'EventName', value: 'CreateUser' },
    ]);
  });

  it('keeps commas, equals signs and blanks that do not start a member inside the value', () => {
    assert.deepEqual(parseLookupAttribute('AttributeKey=ResourceName,AttributeValue=a,b=c d '), [
      { key: 'ResourceName', value: 'a,b=c d ' },
    ]);
  });

  it('takes a quoted value literally, member names and all', () => {
    assert.deepEqual(parseLookupAttribute(`AttributeKey=ResourceName,AttributeValue="x,AttributeKey=y"`), [
      { key: 'ResourceName', value: 'x,AttributeKey=y' },
    ]);
    assert.deepEqual(parseLookupAttribute(`AttributeValue='it "quoted"',AttributeKey=EventName`), [
      { key: 'EventName', value: 'it "quoted"' },
    ]);
  });

  it('accepts every key CloudTrail and crumbtrail define', () => {
    for (const key of VALID_ATTRIBUTE_KEYS) {
      assert.deepEqual(parseLookupAttribute(`AttributeKey=${key},AttributeValue=v`), [{ key, value: 'v' }]);
    }
  });
});

describe('parseLookupAttribute: JSON', () => {
  it('reads an array of objects, as the AWS CLI accepts', () => {
    const json = JSON.stringify([
      { AttributeKey: 'EventName', AttributeValue: 'CreateUser' },
      { AttributeKey: 'Username', AttributeValue: 'alice' },
    ]);
    assert.deepEqual(parseLookupAttribute(json), [
      { key: 'EventName', value: 'CreateUser' },
      { key: 'Username', value: 'alice' },
    ]);
  });

  it('reads a single object', () => {
    assert.deepEqual(parseLookupAttribute(' {"AttributeKey":"ReadOnly","AttributeValue":"true"} '), [
      { key: 'ReadOnly', value: 'true' },
    ]);
  });

  it('refuses broken JSON and wrong member types', () => {
    assert.match(parseError('[{"AttributeKey":'), /not valid JSON/);
    assert.match(parseError('[{"AttributeKey":"EventName","AttributeValue":1}]'), /must both be strings/);
    assert.match(parseError('["EventName"]'), /expected \{"AttributeKey"/);
  });
});

describe('parseLookupAttribute: errors', () => {
  it('names an unknown key and lists the valid ones', () => {
    const message = parseError('AttributeKey=Colour,AttributeValue=red');
    assert.match(message, /AttributeKey=Colour,AttributeValue=red/);
    assert.match(message, /unknown AttributeKey "Colour"/);
    for (const key of VALID_ATTRIBUTE_KEYS)
      assert.ok(message.includes(key), `${key} missing from: ${message}`);
  });

  it('suggests the right spelling of a key in the wrong case', () => {
    assert.match(parseError('AttributeKey=eventName,AttributeValue=x'), /did you mean EventName\?/);
  });

  it('refuses a missing member, an unknown member, a repeated member and an empty value', () => {
    assert.match(parseError('AttributeKey=EventName'), /expected AttributeKey=<key>,AttributeValue=<value>/);
    assert.match(parseError('EventName=CreateUser'), /unknown member "EventName"/);
    assert.match(parseError('Key=EventName,Value=CreateUser'), /unknown member "Key"/);
    assert.match(parseError('AttributeKey=EventName,AttributeKey=Username'), /AttributeKey given twice/);
    assert.match(parseError('AttributeKey=EventName,AttributeValue='), /must not be empty/);
    assert.match(parseError('CreateUser'), /expected AttributeKey=<key>,AttributeValue=<value>/);
    assert.match(parseError(''), /expected AttributeKey=<key>,AttributeValue=<value>/);
  });

  it('refuses an unterminated quote and text after a closing quote', () => {
    assert.match(parseError('AttributeKey=EventName,AttributeValue="CreateUser'), /unterminated " quote/);
    assert.match(parseError(`AttributeKey=EventName,AttributeValue='a'b`), /unexpected "b"/);
  });

  it('does not take inherited object properties for keys', () => {
    assert.match(parseError('AttributeKey=toString,AttributeValue=x'), /unknown AttributeKey "toString"/);
    assert.match(parseError('AttributeKey=__proto__,AttributeValue=x'), /unknown AttributeKey "__proto__"/);
  });
});

describe('lookupQueryParameters', () => {
  it('maps every AttributeKey to a lookup field of the API', () => {
    assert.deepEqual(Object.values(ATTRIBUTE_KEYS).sort(), [...LOOKUP_FIELDS].sort());
  });

  it('keeps repeats (they OR) and different keys (they AND) in the order given', () => {
    const attributes = parseLookupAttributes([
      'AttributeKey=EventName,AttributeValue=CreateUser',
      'AttributeKey=Username,AttributeValue=alice',
      'AttributeKey=EventName,AttributeValue=DeleteUser',
      'AttributeKey=SourceIPAddress,AttributeValue=10.0.0.1',
    ]);
    assert.deepEqual(lookupQueryParameters(attributes), [
      ['eventName', 'CreateUser'],
      ['username', 'alice'],
      ['eventName', 'DeleteUser'],
      ['sourceIPAddress', '10.0.0.1'],
    ]);
  });

  it('maps nothing to nothing', () => {
    assert.deepEqual(lookupQueryParameters(parseLookupAttributes([])), []);
  });
});

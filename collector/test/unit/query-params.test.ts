import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ApiError } from '../../src/api/api-error.js';
import type { RawQuery } from '../../src/api/query-params.js';
import {
  FILTER_PARAMETERS,
  parseFilter,
  parseInteger,
  parseTime,
  rejectUnknownParameters,
  singleValue,
  valuesOf,
} from '../../src/api/query-params.js';

/** Asserts a 400 ApiError whose message names `parameter` and matches `problem`. */
function assertBadParameter(run: () => unknown, parameter: string, problem?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof ApiError, `expected ApiError, got ${String(error)}`);
    assert.equal(error.statusCode, 400);
    assert.ok(error.message.startsWith(`invalid parameter "${parameter}": `), error.message);
    if (problem !== undefined) assert.match(error.message, problem);
    return true;
  });
}

describe('query parameters', () => {
  describe('times', () => {
    const valid: [string, number][] = [
      ['2024-03-01T09:30:00Z', Date.UTC(2024, 2, 1, 9, 30)],
      ['2024-03-01T09:30:00.250Z', Date.UTC(2024, 2, 1, 9, 30, 0, 250)],
      ['2024-03-01T09:30:00+02:00', Date.UTC(2024, 2, 1, 7, 30)],
      ['2024-03-01T09:30:00-0130', Date.UTC(2024, 2, 1, 11, 0)],
      ['2024-03-01T09:30:00', Date.UTC(2024, 2, 1, 9, 30)],
      ['2024-03-01T09:30', Date.UTC(2024, 2, 1, 9, 30)],
      ['2024-03-01 09:30:00', Date.UTC(2024, 2, 1, 9, 30)],
      ['2024-03-01', Date.UTC(2024, 2, 1)],
      ['1709285400000', 1_709_285_400_000],
      ['100000000000', 100_000_000_000],
    ];
    for (const [text, expected] of valid) {
      it(`reads ${text}`, () => {
        assert.equal(parseTime('startTime', text), expected);
      });
    }

    it('assumes UTC for a time without a zone, whatever the local zone', () => {
      assert.equal(
        parseTime('startTime', '2024-07-01T00:00:00'),
        parseTime('startTime', '2024-07-01T00:00:00Z'),
      );
    });

    it('returns undefined for an absent time', () => {
      assert.equal(parseTime('startTime', undefined), undefined);
    });

    it('refuses short numbers: epoch seconds or a year, not milliseconds in 1970', () => {
      for (const ambiguous of ['0', '2024', '1709285400', '17092854000']) {
        assertBadParameter(() => parseTime('startTime', ambiguous), 'startTime', /epoch milliseconds/);
      }
    });

    for (const bad of [
      'yesterday',
      '',
      '2024-13-45T00:00:00Z',
      '2024-03-01T25:00:00Z',
      '1e12',
      '-5',
      '2024/03/01',
      '1234567890123456',
    ]) {
      it(`refuses ${JSON.stringify(bad)}, naming the parameter`, () => {
        assertBadParameter(() => parseTime('endTime', bad), 'endTime', /ISO-8601/);
        assertBadParameter(() => parseFilter({ startTime: bad }), 'startTime', /ISO-8601/);
      });
    }

    it('refuses startTime after endTime, and accepts them equal', () => {
      assertBadParameter(
        () => parseFilter({ startTime: '2024-03-02T00:00:00Z', endTime: '2024-03-01T00:00:00Z' }),
        'startTime',
        /must not be after endTime/,
      );
      const filter = parseFilter({ startTime: '1709285400000', endTime: '1709285400000' });
      assert.equal(filter.startTimeMs, 1_709_285_400_000);
      assert.equal(filter.endTimeMs, 1_709_285_400_000);
    });
  });

  describe('parseFilter', () => {
    it('builds an empty filter from an empty query', () => {
      assert.deepEqual(parseFilter({}), { fields: {} });
    });

    it('reads every lookup field, repeated values as a list without duplicates', () => {
      const filter = parseFilter({
        startTime: '2024-03-01T00:00:00Z',
        endTime: '2024-03-02T00:00:00Z',
        eventName: ['CreateUser', 'DeleteUser', 'CreateUser'],
        eventSource: 'iam.example.com',
        username: 'alice',
        resourceType: 'User',
        resourceName: 'bob',
        readOnly: 'false',
        accessKeyId: 'AKIA1',
        errorCode: 'AccessDenied',
        sourceIPAddress: '10.0.0.1',
        eventCategory: 'Management',
        eventId: 'id-1',
        q: 'needle',
      });
      assert.deepEqual(filter, {
        startTimeMs: Date.UTC(2024, 2, 1),
        endTimeMs: Date.UTC(2024, 2, 2),
        fields: {
          eventId: ['id-1'],
          eventName: ['CreateUser', 'DeleteUser'],
          eventSource: ['iam.example.com'],
          username: ['alice'],
          resourceType: ['User'],
          resourceName: ['bob'],
          readOnly: ['false'],
          accessKeyId: ['AKIA1'],
          errorCode: ['AccessDenied'],
          sourceIPAddress: ['10.0.0.1'],
          eventCategory: ['Management'],
        },
        text: 'needle',
      });
    });

    it('keeps values exactly as given (case, spaces, quotes)', () => {
      assert.deepEqual(
        parseFilter({ username: [' Alice ', "o'brien", '"); DROP TABLE events; --'] }).fields.username,
        [' Alice ', "o'brien", '"); DROP TABLE events; --'],
      );
    });

    it('accepts readOnly true and false only', () => {
      assert.deepEqual(parseFilter({ readOnly: ['true', 'false'] }).fields.readOnly, ['true', 'false']);
      for (const bad of ['TRUE', 'yes', '1', '0', 'False']) {
        assertBadParameter(() => parseFilter({ readOnly: bad }), 'readOnly', /expected true or false/);
      }
    });

    it('reads eventCategory case-insensitively into the record spelling', () => {
      assert.deepEqual(parseFilter({ eventCategory: 'insight' }).fields.eventCategory, ['Insight']);
      assert.deepEqual(parseFilter({ eventCategory: ['DATA', 'networkactivity'] }).fields.eventCategory, [
        'Data',
        'NetworkActivity',
      ]);
      assert.deepEqual(
        parseFilter({ eventCategory: ['insight', 'Insight', 'INSIGHT'] }).fields.eventCategory,
        ['Insight'],
      );
      assertBadParameter(
        () => parseFilter({ eventCategory: 'Bogus' }),
        'eventCategory',
        /Management, Data, NetworkActivity, Insight/,
      );
    });

    it('limits values to 1 to 1,024 characters', () => {
      assert.deepEqual(parseFilter({ eventName: 'x'.repeat(1024) }).fields.eventName, ['x'.repeat(1024)]);
      assertBadParameter(
        () => parseFilter({ eventName: 'x'.repeat(1025) }),
        'eventName',
        /1 to 1024 characters/,
      );
      assertBadParameter(() => parseFilter({ username: '' }), 'username', /1 to 1024 characters/);
      assertBadParameter(() => parseFilter({ resourceName: ['ok', ''] }), 'resourceName');
    });

    it('limits a field to 100 values', () => {
      const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
      assert.equal(parseFilter({ eventName: values(100) }).fields.eventName?.length, 100);
      assertBadParameter(() => parseFilter({ eventName: values(101) }), 'eventName', /at most 100 values/);
    });

    it('limits free text to 1 to 256 characters', () => {
      assert.equal(parseFilter({ q: 'x'.repeat(256) }).text, 'x'.repeat(256));
      assertBadParameter(() => parseFilter({ q: 'x'.repeat(257) }), 'q', /1 to 256 characters/);
      assertBadParameter(() => parseFilter({ q: '' }), 'q', /1 to 256 characters/);
    });

    it('refuses a single-valued parameter given twice', () => {
      assertBadParameter(() => parseFilter({ startTime: ['1000', '2000'] }), 'startTime', /give it once/);
      assertBadParameter(() => parseFilter({ endTime: ['1000', '1000'] }), 'endTime', /give it once/);
      assertBadParameter(() => parseFilter({ q: ['a', 'b'] }), 'q', /give it once/);
    });
  });

  describe('unknown parameters', () => {
    const allowed = [...FILTER_PARAMETERS, 'maxResults', 'nextToken'];

    it('accepts every known parameter', () => {
      const query: RawQuery = Object.fromEntries(allowed.map((name) => [name, 'x']));
      assert.doesNotThrow(() => {
        rejectUnknownParameters(query, allowed);
      });
    });

    it('suggests the right spelling for a parameter in the wrong case', () => {
      assertBadParameter(
        () => {
          rejectUnknownParameters({ EventName: 'x' }, allowed);
        },
        'EventName',
        /did you mean "eventName"\?/,
      );
      assertBadParameter(
        () => {
          rejectUnknownParameters({ MAXRESULTS: '5' }, allowed);
        },
        'MAXRESULTS',
        /did you mean "maxResults"\?/,
      );
    });

    it('lists the known parameters for an unknown one', () => {
      assertBadParameter(
        () => {
          rejectUnknownParameters({ eventName: 'ok', colour: 'red' }, allowed);
        },
        'colour',
        /unknown parameter \(known: startTime, endTime, q, eventId, eventName/,
      );
      assertBadParameter(
        () => {
          rejectUnknownParameters({ anything: 'x' }, []);
        },
        'anything',
        /unknown parameter/,
      );
    });
  });

  describe('helpers', () => {
    it('valuesOf / singleValue read one or several values', () => {
      assert.deepEqual(valuesOf({ a: 'x' }, 'a'), ['x']);
      assert.deepEqual(valuesOf({ a: ['x', 'y'] }, 'a'), ['x', 'y']);
      assert.deepEqual(valuesOf({}, 'a'), []);
      assert.equal(singleValue({ a: 'x' }, 'a'), 'x');
      assert.equal(singleValue({ a: ['x'] }, 'a'), 'x');
      assert.equal(singleValue({}, 'a'), undefined);
      assertBadParameter(
        () => singleValue({ nextToken: ['a', 'b'] }, 'nextToken'),
        'nextToken',
        /give it once/,
      );
    });

    it('parseInteger checks digits and bounds', () => {
      assert.equal(parseInteger('maxResults', undefined, 1, 1000), undefined);
      assert.equal(parseInteger('maxResults', '1', 1, 1000), 1);
      assert.equal(parseInteger('maxResults', '1000', 1, 1000), 1000);
      for (const bad of ['0', '1001', '-1', '1.5', 'ten', '', '12345678901']) {
        assertBadParameter(
          () => parseInteger('maxResults', bad, 1, 1000),
          'maxResults',
          /expected an integer from 1 to 1000/,
        );
      }
    });
  });
});

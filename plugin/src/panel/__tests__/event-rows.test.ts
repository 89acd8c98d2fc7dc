import type { DataFrame } from '@grafana/data';
import { callRateFrames } from '../../datasource/call-rate-frames';
import { EventField } from '../../shared/event-frame';
import { eventRows, isEventsFrame } from '../event-rows';
import {
  accessDenied,
  callRateInsight,
  createUser,
  frameOf,
  listUsers,
  manyEvents,
  twoQueries,
} from '../test-support/fixtures';

const callRate = callRateFrames('C', {
  step: 60,
  groupBy: 'eventName',
  series: [{ group: 'CreateUser', points: [[Date.parse('2024-05-14T09:30:00Z'), 3]] }],
});

/** A frame after a transformation kept only some of the events frame's fields. */
function keepFields(frame: DataFrame, names: string[], keepMeta = false): DataFrame {
  return {
    ...frame,
    meta: keepMeta ? frame.meta : undefined,
    fields: frame.fields.filter((field) => names.includes(field.name)),
  };
}

describe('isEventsFrame', () => {
  it('accepts the datasource events frame and rejects call-rate frames', () => {
    expect(isEventsFrame(frameOf('A', [createUser]))).toBe(true);
    expect(callRate.map(isEventsFrame)).toEqual([false]);
  });

  it('accepts an unmarked frame that has a record or a timestamp field', () => {
    const frame = frameOf('A', [createUser]);
    expect(isEventsFrame(keepFields(frame, [EventField.Record]))).toBe(true);
    expect(isEventsFrame(keepFields(frame, [EventField.Timestamp]))).toBe(true);
    expect(isEventsFrame(keepFields(frame, [EventField.Username]))).toBe(false);
  });
});

describe('eventRows', () => {
  it('merges the frames of several queries, newest first', () => {
    const rows = eventRows(twoQueries());
    expect(rows.map((row) => row.key)).toEqual([
      accessDenied.eventID,
      callRateInsight.eventID,
      createUser.eventID,
      listUsers.eventID,
    ]);
    expect(rows.map((row) => row.time)).toEqual(
      [accessDenied, callRateInsight, createUser, listUsers].map((record) => Date.parse(record.eventTime))
    );
  });

  it("reads CloudTrail's columns from the frame", () => {
    const [row] = eventRows([frameOf('A', [createUser])]);
    expect(row.values).toEqual({
      username: 'John',
      eventName: 'CreateUser',
      eventSource: 'iam.example.com',
      resourceType: 'User',
      resourceName: 'Mary',
      sourceIPAddress: '203.0.113.7',
      userAgent: 'crumbtrail-cli/0.1.0 node/20.19.0',
      readOnly: 'false',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      eventCategory: 'Management',
      awsRegion: 'eu-west-1',
      id: createUser.eventID,
    });
    expect(row.summary).toBe('John CreateUser User/Mary');
    expect(JSON.parse(row.record ?? '')).toEqual(createUser);
  });

  it('marks failed calls as errors and insights as insights', () => {
    const severities = Object.fromEntries(eventRows(twoQueries()).map((row) => [row.key, row.severity]));
    expect(severities).toEqual({
      [accessDenied.eventID]: 'error',
      [callRateInsight.eventID]: 'insight',
      [createUser.eventID]: 'info',
      [listUsers.eventID]: 'info',
    });
  });

  it('derives severities from the error code and category when the frame has no severity field', () => {
    const frame = frameOf('A', [createUser, accessDenied, callRateInsight]);
    const withoutSeverity = keepFields(
      frame,
      frame.fields.map((field) => field.name).filter((name) => name !== EventField.Severity),
      true
    );
    expect(eventRows([withoutSeverity]).map((row) => row.severity)).toEqual(['error', 'insight', 'info']);
  });

  it('names the API an insight is about, which insight records keep in insightDetails', () => {
    const [row] = eventRows([frameOf('A', [callRateInsight])]);
    expect(row.values.eventName).toBe('CreateUser');
    expect(row.values.eventSource).toBe('iam.example.com');
    expect(row.values.eventCategory).toBe('Insight');
  });

  it('lists an event that two queries return once', () => {
    const rows = eventRows([frameOf('A', [createUser, listUsers]), frameOf('B', [createUser])]);
    expect(rows.map((row) => row.key)).toEqual([createUser.eventID, listUsers.eventID]);
  });

  it('shows what a frame has when fields are missing', () => {
    const frame = keepFields(frameOf('A', [listUsers, createUser]), [EventField.Timestamp, EventField.Username]);
    const rows = eventRows([frame]);
    expect(rows.map((row) => row.values)).toEqual([{ username: 'John' }, { username: 'John' }]);
    expect(rows.map((row) => row.time)).toEqual([Date.parse(createUser.eventTime), Date.parse(listUsers.eventTime)]);
    expect(rows[0].record).toBeUndefined();
    expect(new Set(rows.map((row) => row.key)).size).toBe(2);
  });

  it('puts rows without a time last', () => {
    const timed = frameOf('A', [listUsers]);
    const untimed = keepFields(frameOf('B', [createUser]), [EventField.Record, EventField.Id]);
    expect(eventRows([untimed, timed]).map((row) => row.key)).toEqual([listUsers.eventID, createUser.eventID]);
  });

  it('ignores frames that are not events', () => {
    expect(eventRows([...callRate, frameOf('A', [createUser])]).map((row) => row.key)).toEqual([createUser.eventID]);
    expect(eventRows(callRate)).toEqual([]);
  });

  it('converts 10,000 events', () => {
    const rows = eventRows([manyEvents(10_000)]);
    expect(rows).toHaveLength(10_000);
    expect(rows[0].key).toBe('event-0');
    expect(rows[9_999].key).toBe('event-9999');
  });
});

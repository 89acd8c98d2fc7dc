/*
 * Event-history queries against the real collector process serving the audit story (see
 * test-support/jest-global-setup.ts), through the data-proxy stand-in.
 */
import { type DataFrame, DataFrameType } from '@grafana/data';
import { EventField, SEVERITY_ERROR, SEVERITY_INFO } from '../../shared/event-frame';
import { type AuditQuery, QueryType } from '../../types';
import { STORY } from '../../../test-support/story-collector';
import { storyDatasource, storyRequest } from '../../../test-support/story-datasource';
import { TestTemplateSrv } from '../../../test-support/template-srv';
import { column, frameField as field, onlyFrame } from '../../../test-support/frame-readers';

function eventsQuery(patch: Partial<AuditQuery>): AuditQuery {
  return { refId: 'A', queryType: QueryType.Events, maxResults: 100, ...patch };
}

describe('events query', () => {
  const datasource = storyDatasource(new TestTemplateSrv());

  it('finds who created Mary: the one CreateUser event, as a log line and as table columns', async () => {
    const frame = onlyFrame(
      await datasource.query(storyRequest([eventsQuery({ filters: { eventName: ['CreateUser'] } })]))
    );
    expect(frame.length).toBe(1);
    expect(frame.meta?.type).toBe(DataFrameType.LogLines);
    expect(column(frame, EventField.Timestamp)).toEqual([STORY.johnCreatesMaryMs]);
    expect(column(frame, EventField.Body)).toEqual(['John CreateUser User/Mary']);
    expect(column(frame, EventField.Severity)).toEqual([SEVERITY_INFO]);
    expect(column(frame, EventField.Username)).toEqual(['John']);
    expect(column(frame, EventField.ResourceType)).toEqual(['User']);
    expect(column(frame, EventField.ResourceName)).toEqual(['Mary']);
    expect(column(frame, EventField.SourceIPAddress)).toEqual(['203.0.113.7']);
    expect(column(frame, EventField.ReadOnly)).toEqual(['false']);
    expect(column(frame, EventField.Labels)[0]).toMatchObject({
      eventName: 'CreateUser',
      eventSource: 'iam.example.com',
      username: 'John',
      resourceName: 'Mary',
    });
    const record = JSON.parse(String(column(frame, EventField.Record)[0]));
    expect(record.eventID).toBe(column(frame, EventField.Id)[0]);
    expect(record.sessionCredentialFromConsole).toBe('true');
    expect(record.eventTime).toBe(new Date(STORY.johnCreatesMaryMs).toISOString());
  });

  it('ORs the values of one filter and lists the newest first; a failed call is an error line', async () => {
    const frame = onlyFrame(
      await datasource.query(storyRequest([eventsQuery({ filters: { eventName: ['CreateUser', 'DeleteUser'] } })]))
    );
    expect(column(frame, EventField.EventName)).toEqual(['DeleteUser', 'CreateUser']);
    expect(column(frame, EventField.Severity)).toEqual([SEVERITY_ERROR, SEVERITY_INFO]);
    expect(column(frame, EventField.Body)[0]).toBe('mallory DeleteUser User/Mary failed: AccessDenied');
    expect(column(frame, EventField.ErrorCode)).toEqual(['AccessDenied', null]);
  });

  it('ANDs different filters, and free text searches the whole record', async () => {
    const frame = onlyFrame(
      await datasource.query(
        storyRequest([eventsQuery({ filters: { eventSource: ['iam.example.com'] }, text: 'mary' })])
      )
    );
    expect(column(frame, EventField.EventName)).toEqual(['DeleteUser', 'CreateUser']);
  });

  it('takes its time range from the dashboard', async () => {
    const request = storyRequest([eventsQuery({ filters: { eventName: ['CreateUser'] } })], {
      fromMs: STORY.startMs,
      toMs: STORY.johnCreatesMaryMs - 1,
    });
    expect(onlyFrame(await datasource.query(request)).length).toBe(0);
  });

  it('treats a filter value as data: quotes and SQL find nothing and break nothing', async () => {
    const values = ["John' OR '1'='1", 'John"; DROP TABLE events; --', '%', '_ohn'];
    const frame = onlyFrame(await datasource.query(storyRequest([eventsQuery({ filters: { username: values } })])));
    expect(frame.length).toBe(0);
    const after = onlyFrame(await datasource.query(storyRequest([eventsQuery({ filters: { username: ['John'] } })])));
    expect(after.length).toBe(1);
  });

  it('pages through the collector for more than one page of events, without repeats', async () => {
    const frame = onlyFrame(await datasource.query(storyRequest([eventsQuery({ maxResults: 1500 })])));
    expect(frame.length).toBe(1500);
    const ids = column(frame, EventField.Id);
    expect(new Set(ids).size).toBe(1500);
    const times = column(frame, EventField.Timestamp) as number[];
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('runs each query of a panel, with its own refId', async () => {
    const response = await datasource.query(
      storyRequest([
        eventsQuery({ refId: 'A', filters: { eventName: ['CreateUser'] } }),
        eventsQuery({ refId: 'B', filters: { eventName: ['DeleteUser'] } }),
        eventsQuery({ refId: 'C', hide: true }),
      ])
    );
    expect(response.data.map((frame: DataFrame) => [frame.refId, frame.length])).toEqual([
      ['A', 1],
      ['B', 1],
    ]);
  });

  it("reports the collector's own message as the query error", async () => {
    const tooLong = 'x'.repeat(1025);
    await expect(datasource.query(storyRequest([eventsQuery({ filters: { eventName: [tooLong] } })]))).rejects.toThrow(
      'crumbtrail collector: invalid parameter "eventName": values must be 1 to 1024 characters'
    );
  });

  it('refuses a saved query that is not a crumbtrail query, saying why', async () => {
    const typo = { refId: 'A', queryType: QueryType.Events, filters: { user: ['John'] } } as unknown as AuditQuery;
    await expect(datasource.query(storyRequest([typo]))).rejects.toThrow('query A: filters.user: not a lookup field');
  });

  it('links each event to its single-event view and, when configured, to its trace', async () => {
    const withTraces = storyDatasource(new TestTemplateSrv(), { traceDatasourceUid: 'tempo-uid' });
    const frame = onlyFrame(
      await withTraces.query(storyRequest([eventsQuery({ filters: { eventName: ['CreateUser'] } })]))
    );
    const [eventLink] = field(frame, EventField.Id).config.links ?? [];
    expect(eventLink?.internal).toMatchObject({
      datasourceUid: 'crumbtrail-test',
      query: { queryType: QueryType.Events, filters: { eventId: ['${__value.raw}'] } },
    });
    const [traceLink] = field(frame, EventField.TraceId).config.links ?? [];
    expect(traceLink?.internal).toMatchObject({ datasourceUid: 'tempo-uid', query: { query: '${__value.raw}' } });
    expect(column(frame, EventField.TraceId)[0]).toMatch(/^[0-9a-f]{32}$/);

    // The single-event view: the link's query, with the id filled in, finds that event.
    const eventId = String(column(frame, EventField.Id)[0]);
    const single = onlyFrame(
      await datasource.query(storyRequest([eventsQuery({ filters: { eventId: [eventId] }, maxResults: 1 })]))
    );
    expect(column(single, EventField.Body)).toEqual(['John CreateUser User/Mary']);

    const withoutTraces = onlyFrame(
      await datasource.query(storyRequest([eventsQuery({ filters: { eventName: ['CreateUser'] } })]))
    );
    expect(field(withoutTraces, EventField.TraceId).config.links).toEqual([]);
  });

  it('finds insight events by category, marked as warnings', async () => {
    const frame = onlyFrame(
      await datasource.query(storyRequest([eventsQuery({ filters: { eventCategory: ['Insight'] } })]))
    );
    expect(frame.length).toBe(2);
    expect(column(frame, EventField.Severity)).toEqual(['warning', 'warning']);
    // Insight records name their API in insightDetails; the columns and labels carry it too.
    expect(column(frame, EventField.EventName)).toEqual(['RunInstances', 'RunInstances']);
    expect(column(frame, EventField.EventSource)).toEqual(['compute.example.com', 'compute.example.com']);
    expect(column(frame, EventField.Labels)[0]).toMatchObject({ eventName: 'RunInstances', eventCategory: 'Insight' });
    expect(column(frame, EventField.Body)[0]).toMatch(/^Insight End: ApiCallRateInsight on RunInstances/);
    expect(column(frame, EventField.Body)[1]).toMatch(/^Insight Start: ApiCallRateInsight on RunInstances/);
  });
});

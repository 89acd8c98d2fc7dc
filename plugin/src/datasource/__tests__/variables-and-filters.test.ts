/*
 * Template variables, ad-hoc filters and the Logs panel's filter buttons, against the real
 * collector serving the audit story. Dashboard variables come from TestTemplateSrv (Grafana's
 * TemplateSrv lives in Grafana's app, which cannot run here).
 */
import { type DataQueryRequest, type DataQueryResponse, dateTime } from '@grafana/data';
import { lastValueFrom } from 'rxjs';
import { column, onlyFrame } from '../../../test-support/frame-readers';
import { STORY } from '../../../test-support/story-collector';
import { storyDatasource, storyRequest } from '../../../test-support/story-datasource';
import { TestTemplateSrv } from '../../../test-support/template-srv';
import { EventField } from '../../shared/event-frame';
import { type AuditQuery, type AuditVariableQuery, QueryType } from '../../types';
import type { CrumbtrailDataSource } from '../datasource';

const USERS = ['John', 'alice', 'bob', 'mallory'];

function eventsQuery(patch: Partial<AuditQuery>): AuditQuery {
  return { refId: 'A', queryType: QueryType.Events, maxResults: 1000, ...patch };
}

async function usernames(datasource: CrumbtrailDataSource, query: AuditQuery, filters = storyRequest([]).filters) {
  const request = { ...storyRequest([query]), filters };
  const frame = onlyFrame(await datasource.query(request));
  return [...new Set(column(frame, EventField.Username) as string[])].sort();
}

async function variableValues(datasource: CrumbtrailDataSource, query: AuditVariableQuery): Promise<unknown[]> {
  const variables = datasource.variables as unknown as {
    query(request: DataQueryRequest<AuditVariableQuery>): import('rxjs').Observable<DataQueryResponse>;
  };
  const response = await lastValueFrom(variables.query({ ...storyRequest([]), targets: [query] } as never));
  return column(onlyFrame(response), 'value');
}

describe('template variables in filters', () => {
  it('expands a single-value variable', async () => {
    const datasource = storyDatasource(new TestTemplateSrv([{ name: 'user', value: 'John' }]));
    expect(await usernames(datasource, eventsQuery({ filters: { username: ['$user'] } }))).toEqual(['John']);
  });

  it('expands a multi-value variable into several values of one filter', async () => {
    const datasource = storyDatasource(new TestTemplateSrv([{ name: 'user', value: ['John', 'mallory'] }]));
    const query = eventsQuery({ filters: { username: ['${user}'], eventSource: ['iam.example.com'] } });
    expect(await usernames(datasource, query)).toEqual(['John', 'mallory']);
  });

  it('drops a filter set to "All": every value matches', async () => {
    const datasource = storyDatasource(new TestTemplateSrv([{ name: 'user', value: '$__all', options: ['John'] }]));
    const query = eventsQuery({ filters: { username: ['$user'], eventSource: ['iam.example.com'] } });
    expect(await usernames(datasource, query)).toEqual(['John', 'alice', 'mallory']);
  });

  it.each(['.*', '*'])(
    'drops a filter whose variable is set to the custom all value "%s" (how Grafana 12+ dashboards say All)',
    async (allValue) => {
      const datasource = storyDatasource(new TestTemplateSrv([{ name: 'user', value: allValue }]));
      const query = eventsQuery({ filters: { username: ['$user'], eventSource: ['iam.example.com'] } });
      expect(await usernames(datasource, query)).toEqual(['John', 'alice', 'mallory']);
    }
  );

  it('interpolates free text, and scoped variables (repeated panels) win over dashboard ones', async () => {
    const datasource = storyDatasource(new TestTemplateSrv([{ name: 'who', value: 'alice' }]));
    const request = storyRequest([eventsQuery({ text: '$who', filters: { eventSource: ['iam.example.com'] } })], {
      scopedVars: { who: { text: 'Mary', value: 'Mary' } },
    });
    const frame = onlyFrame(await datasource.query(request));
    expect(column(frame, EventField.EventName)).toEqual(['DeleteUser', 'CreateUser']);
  });
});

describe('variable queries', () => {
  const datasource = storyDatasource(new TestTemplateSrv([{ name: 'source', value: 'iam.example.com' }]));

  it("lists a field's values", async () => {
    expect([...(await variableValues(datasource, { refId: 'V', field: 'username' }))].sort()).toEqual(USERS);
  });

  it('chains: the values under a filter that uses another variable', async () => {
    const values = await variableValues(datasource, {
      refId: 'V',
      field: 'username',
      filters: { eventSource: ['$source'] },
    });
    expect([...values].sort()).toEqual(['John', 'alice', 'mallory']);
  });
});

describe('ad-hoc filters', () => {
  const datasource = storyDatasource(new TestTemplateSrv());

  it('offers the lookup fields as keys and their values, narrowed by the other filters', async () => {
    const keys = (await datasource.getTagKeys()).map((key) => key.text);
    expect(keys).toContain('username');
    expect(keys).toContain('eventName');
    const values = await datasource.getTagValues({
      key: 'eventName',
      filters: [{ key: 'eventSource', operator: '=', value: 'iam.example.com' }],
      timeRange: { from: dateTime(STORY.startMs), to: dateTime(STORY.endMs), raw: { from: '', to: '' } },
    });
    expect(values.map((value) => value.text).sort()).toEqual(['CreateUser', 'DeleteUser', 'ListUsers']);
  });

  it('narrows every query', async () => {
    const filters = [{ key: 'username', operator: '=', value: 'mallory' }];
    expect(
      await usernames(datasource, eventsQuery({ filters: { eventSource: ['iam.example.com'] } }), filters)
    ).toEqual(['mallory']);
  });

  it('refuses what the collector cannot do instead of ignoring it', async () => {
    const request = {
      ...storyRequest([eventsQuery({})]),
      filters: [{ key: 'username', operator: '!=', value: 'mallory' }],
    };
    await expect(datasource.query(request)).rejects.toThrow('crumbtrail filters support "=" only');
    const unknown = { ...storyRequest([eventsQuery({})]), filters: [{ key: 'color', operator: '=', value: 'red' }] };
    await expect(datasource.query(unknown)).rejects.toThrow('"color" is not a crumbtrail lookup field');
  });
});

describe('Logs panel filter buttons', () => {
  const datasource = storyDatasource(new TestTemplateSrv());

  it('"filter for value" on a label of an event gives a query for that value', async () => {
    const first = onlyFrame(
      await datasource.query(storyRequest([eventsQuery({ filters: { eventName: ['DeleteUser'] } })]))
    );
    const labels = column(first, EventField.Labels)[0] as Record<string, string>;
    const modified = datasource.modifyQuery(eventsQuery({}), {
      type: 'ADD_FILTER',
      options: { key: 'sourceIPAddress', value: labels.sourceIPAddress! },
    });
    expect(modified.filters).toEqual({ sourceIPAddress: ['198.51.100.23'] });
    expect(await usernames(datasource, modified)).toEqual(['mallory']);
  });

  it('replaces the values of the same field, and adds free text', () => {
    const query = eventsQuery({ filters: { username: ['alice', 'bob'], eventName: ['ListUsers'] } });
    expect(
      datasource.modifyQuery(query, { type: 'ADD_FILTER', options: { key: 'username', value: 'John' } }).filters
    ).toEqual({
      username: ['John'],
      eventName: ['ListUsers'],
    });
    expect(datasource.modifyQuery(query, { type: 'ADD_STRING_FILTER', options: { value: 'Mary' } }).text).toBe('Mary');
    // Not a lookup field, or a modification the collector cannot express: the query is unchanged.
    expect(datasource.modifyQuery(query, { type: 'ADD_FILTER', options: { key: 'color', value: 'red' } })).toBe(query);
    expect(datasource.modifyQuery(query, { type: 'ADD_FILTER_OUT', options: { key: 'username', value: 'bob' } })).toBe(
      query
    );
    expect(datasource.getSupportedQueryModifications()).toEqual(['ADD_FILTER', 'ADD_STRING_FILTER']);
  });

  it('toggles a filter on and off, and tells whether a query has it', () => {
    const query = eventsQuery({ filters: { eventName: ['ListUsers'] } });
    const on = datasource.toggleQueryFilter(query, { type: 'FILTER_FOR', options: { key: 'username', value: 'John' } });
    expect(on.filters).toEqual({ eventName: ['ListUsers'], username: ['John'] });
    expect(datasource.queryHasFilter(on, { key: 'username', value: 'John' })).toBe(true);
    const off = datasource.toggleQueryFilter(on, { type: 'FILTER_FOR', options: { key: 'username', value: 'John' } });
    expect(off.filters).toEqual({ eventName: ['ListUsers'] });
    expect(datasource.queryHasFilter(off, { key: 'username', value: 'John' })).toBe(false);
    // "Filter out" removes the value when the query holds it (the collector has no negation).
    const out = datasource.toggleQueryFilter(eventsQuery({ filters: { username: ['John', 'bob'] } }), {
      type: 'FILTER_OUT',
      options: { key: 'username', value: 'bob' },
    });
    expect(out.filters).toEqual({ username: ['John'] });
  });

  it('does not modify the query it is given', () => {
    const query = Object.freeze(
      eventsQuery({ filters: Object.freeze({ username: Object.freeze(['alice']) }) as never })
    );
    datasource.modifyQuery(query, { type: 'ADD_FILTER', options: { key: 'username', value: 'bob' } });
    datasource.toggleQueryFilter(query, { type: 'FILTER_FOR', options: { key: 'eventName', value: 'X' } });
    expect(query.filters).toEqual({ username: ['alice'] });
  });
});

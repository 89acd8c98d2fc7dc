/*
 * The query editor as a user drives it. Value suggestions come from the real collector serving
 * the audit story (through the data-proxy stand-in); the editor's callbacks are what Grafana
 * would receive.
 */
import React from 'react';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { dateTime } from '@grafana/data';
import { STORY } from '../../../test-support/story-collector';
import { storyDatasource } from '../../../test-support/story-datasource';
import { TestTemplateSrv } from '../../../test-support/template-srv';
import { type AuditQuery, QueryType } from '../../types';
import { QueryEditor } from '../QueryEditor';
import { Selectors } from '../selectors';

const datasource = storyDatasource(new TestTemplateSrv());

// jsdom has no layout, so Combobox's virtualised option list renders no rows: options are chosen
// with the keyboard, as a user can (the browser test clicks them).

const range = { from: dateTime(STORY.startMs), to: dateTime(STORY.endMs), raw: { from: '', to: '' } };

/** Waits until the editor's latest request for suggestions has been answered and rendered. */
async function suggestionsLoaded(fieldValues: jest.SpyInstance) {
  await waitFor(() => expect(fieldValues).toHaveBeenCalled());
  await act(async () => {
    await fieldValues.mock.results[fieldValues.mock.results.length - 1]?.value;
  });
}

function setup(query: AuditQuery) {
  const onChange = jest.fn<void, [AuditQuery]>();
  const onRunQuery = jest.fn();
  // Frozen like Grafana's state: an editor that mutates its query throws here.
  const frozen = Object.freeze(
    query.filters === undefined ? { ...query } : { ...query, filters: Object.freeze({ ...query.filters }) }
  ) as AuditQuery;
  const view = render(
    <QueryEditor query={frozen} onChange={onChange} onRunQuery={onRunQuery} datasource={datasource} range={range} />
  );
  const lastQuery = () => onChange.mock.calls[onChange.mock.calls.length - 1]?.[0];
  return { onChange, onRunQuery, lastQuery, view };
}

afterEach(() => jest.restoreAllMocks());

describe('QueryEditor', () => {
  it('switches the query type and runs the query', async () => {
    const { lastQuery, onRunQuery } = setup({ refId: 'A', queryType: QueryType.Events });
    await userEvent.click(screen.getByRole('radio', { name: 'Call rate' }));
    expect(lastQuery()).toEqual({ refId: 'A', queryType: QueryType.CallRate });
    expect(onRunQuery).toHaveBeenCalledTimes(1);
  });

  it('adds a filter row for the next unused field', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: QueryType.Events, filters: { eventName: ['CreateUser'] } });
    await userEvent.click(screen.getByRole('button', { name: Selectors.addFilter }));
    expect(lastQuery()?.filters).toEqual({ eventName: ['CreateUser'], eventSource: [] });
  });

  it('removes the filter whose trash button is pressed', async () => {
    const { lastQuery } = setup({
      refId: 'A',
      queryType: QueryType.Events,
      filters: { eventName: ['CreateUser'], username: ['John'] },
    });
    await userEvent.click(screen.getByRole('button', { name: Selectors.removeFilter('eventName') }));
    expect(lastQuery()?.filters).toEqual({ username: ['John'] });
  });

  it('suggests values from the collector and adds the chosen one', async () => {
    const { lastQuery, onRunQuery } = setup({ refId: 'A', queryType: QueryType.Events, filters: { eventName: [] } });
    const values = screen.getByRole('combobox', { name: Selectors.filterValues('eventName') });
    // The options are: "CreateU" as typed, then the collector's only event name containing it.
    const fieldValues = jest.spyOn(datasource, 'fieldValues');
    await userEvent.type(values, 'CreateU');
    await suggestionsLoaded(fieldValues);
    await userEvent.keyboard('{ArrowDown}{ArrowDown}{Enter}');
    await waitFor(() => expect(lastQuery()?.filters).toEqual({ eventName: ['CreateUser'] }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('accepts a value the collector has not seen (or a $variable) as typed', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: QueryType.Events, filters: { username: [] } });
    const values = screen.getByRole('combobox', { name: Selectors.filterValues('username') });
    const fieldValues = jest.spyOn(datasource, 'fieldValues');
    await userEvent.type(values, '$user');
    await suggestionsLoaded(fieldValues);
    await userEvent.keyboard('{ArrowDown}{Enter}');
    await waitFor(() => expect(lastQuery()?.filters).toEqual({ username: ['$user'] }));
  });

  it('commits free text on Enter, not on each keystroke', async () => {
    const { onChange, lastQuery } = setup({ refId: 'A', queryType: QueryType.Events });
    const text = screen.getByRole('textbox', { name: Selectors.freeText });
    await userEvent.type(text, 'Mary');
    expect(onChange).not.toHaveBeenCalled();
    await userEvent.type(text, '{Enter}');
    expect(lastQuery()?.text).toBe('Mary');
  });

  it('clamps max results to what one query may fetch', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: QueryType.Events });
    const max = screen.getByRole('spinbutton', { name: Selectors.maxResults });
    await userEvent.type(max, '50000{Enter}');
    expect(lastQuery()?.maxResults).toBe(10_000);
  });

  it('groups call rates by a field', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: QueryType.CallRate });
    await userEvent.type(screen.getByRole('combobox', { name: Selectors.groupBy }), 'User n{ArrowDown}{Enter}');
    expect(lastQuery()).toEqual({ refId: 'A', queryType: QueryType.CallRate, groupBy: 'username' });
  });

  it('narrows insights by type, and offers only the filters insights have', async () => {
    const { lastQuery } = setup({ refId: 'A', queryType: QueryType.Insights, filters: {} });
    await userEvent.type(screen.getByRole('combobox', { name: Selectors.insightType }), 'Error{ArrowDown}{Enter}');
    expect(lastQuery()?.insightType).toBe('ApiErrorRateInsight');

    await userEvent.click(screen.getByRole('button', { name: Selectors.addFilter }));
    expect(lastQuery()?.filters).toEqual({ eventName: [] });
  });
});

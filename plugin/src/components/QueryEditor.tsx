/* The query editor: a query type, then that type's own small editor. */
import React from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { InlineField, RadioButtonGroup, Stack } from '@grafana/ui';
import type { CrumbtrailDataSource } from '../datasource/datasource';
import { type AuditDataSourceOptions, type AuditQuery, QueryType } from '../types';
import { CallRateQueryEditor } from './CallRateQueryEditor';
import { EventsQueryEditor } from './EventsQueryEditor';
import { InsightsQueryEditor } from './InsightsQueryEditor';
import { Selectors } from './selectors';

export type Props = QueryEditorProps<CrumbtrailDataSource, AuditQuery, AuditDataSourceOptions>;

const QUERY_TYPES = [
  { value: QueryType.Events, label: 'Events', description: 'Event history lookup' },
  { value: QueryType.CallRate, label: 'Call rate', description: 'Calls per interval, as time series' },
  { value: QueryType.Insights, label: 'Insights', description: 'Unusual call and error rates' },
];

/** What every per-type editor gets: the query, a change that also runs it, and suggestions. */
export interface TypeEditorProps {
  query: AuditQuery;
  change: (query: AuditQuery) => void;
  datasource: CrumbtrailDataSource;
  range?: Props['range'];
}

export function QueryEditor({ query, onChange, onRunQuery, datasource, range }: Props) {
  const queryType = query.queryType ?? QueryType.Events;
  const change = (next: AuditQuery) => {
    onChange(next);
    onRunQuery();
  };
  const editorProps: TypeEditorProps = { query, change, datasource, range };
  return (
    <Stack direction="column" gap={1}>
      <InlineField label="Query type" labelWidth={14}>
        <RadioButtonGroup<QueryType>
          aria-label={Selectors.queryType}
          options={QUERY_TYPES}
          value={queryType}
          onChange={(value) => change({ ...query, queryType: value })}
        />
      </InlineField>
      {queryType === QueryType.Events && <EventsQueryEditor {...editorProps} />}
      {queryType === QueryType.CallRate && <CallRateQueryEditor {...editorProps} />}
      {queryType === QueryType.Insights && <InsightsQueryEditor {...editorProps} />}
    </Stack>
  );
}

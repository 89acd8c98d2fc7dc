import React, { useId } from 'react';
import { Combobox, InlineField, Stack } from '@grafana/ui';
import { INSIGHT_STATES, INSIGHT_TYPES, type InsightState, type InsightType } from '../types';
import { FilterEditor } from './FilterEditor';
import type { TypeEditorProps } from './QueryEditor';
import { withOptional } from './query-changes';

/** Insights are per API: only these filters apply to them. */
const INSIGHT_FILTER_FIELDS = ['eventName', 'eventSource'] as const;

const TYPE_OPTIONS = INSIGHT_TYPES.map((type) => ({
  value: type,
  label: type === 'ApiCallRateInsight' ? 'Call rate' : 'Error rate',
}));
const STATE_OPTIONS = INSIGHT_STATES.map((state) => ({ value: state, label: state === 'active' ? 'Active' : 'Ended' }));

export function InsightsQueryEditor({ query, change, datasource, range }: TypeEditorProps) {
  const id = useId();
  return (
    <Stack direction="column" gap={0.5}>
      <FilterEditor
        filters={query.filters ?? {}}
        fields={INSIGHT_FILTER_FIELDS}
        suggester={datasource}
        range={range}
        onChange={(filters) => change({ ...query, filters })}
      />
      <Stack direction="row" gap={0.5}>
        <InlineField label="Insight type" labelWidth={14}>
          <Combobox<InsightType>
            id={`${id}-insightType`}
            width={20}
            isClearable
            placeholder="(both)"
            value={query.insightType ?? null}
            options={TYPE_OPTIONS}
            onChange={(option) => change(withOptional(query, 'insightType', option))}
          />
        </InlineField>
        <InlineField label="State" labelWidth={10}>
          <Combobox<InsightState>
            id={`${id}-insightState`}
            width={16}
            isClearable
            placeholder="(any)"
            value={query.insightState ?? null}
            options={STATE_OPTIONS}
            onChange={(option) => change(withOptional(query, 'insightState', option))}
          />
        </InlineField>
      </Stack>
    </Stack>
  );
}

import React, { useId } from 'react';
import { Combobox, InlineField, Stack } from '@grafana/ui';
import { DEFAULT_MAX_SERIES, LOOKUP_FIELD_LABELS, LOOKUP_FIELDS, type LookupField } from '../types';
import { FilterEditor } from './FilterEditor';
import { FreeTextField } from './FreeTextField';
import { NumberField } from './NumberField';
import type { TypeEditorProps } from './QueryEditor';
import { withOptional } from './query-changes';
import { Selectors } from './selectors';

const GROUP_BY_OPTIONS = LOOKUP_FIELDS.filter((field) => field !== 'eventId').map((field) => ({
  value: field,
  label: LOOKUP_FIELD_LABELS[field],
}));

export function CallRateQueryEditor({ query, change, datasource, range }: TypeEditorProps) {
  const id = useId();
  return (
    <Stack direction="column" gap={0.5}>
      <FilterEditor
        filters={query.filters ?? {}}
        suggester={datasource}
        range={range}
        onChange={(filters) => change({ ...query, filters })}
      />
      <Stack direction="row" gap={0.5}>
        <InlineField label="Group by" labelWidth={14} tooltip="One series per value of this field">
          <Combobox<LookupField>
            id={`${id}-groupBy`}
            width={24}
            isClearable
            placeholder="(one series)"
            value={query.groupBy ?? null}
            options={GROUP_BY_OPTIONS}
            onChange={(option) => change(withOptional(query, 'groupBy', option))}
          />
        </InlineField>
        <NumberField
          label={Selectors.maxSeries}
          tooltip="Keep the busiest series"
          value={query.maxSeries}
          placeholder={String(DEFAULT_MAX_SERIES)}
          min={1}
          max={1000}
          onCommit={(maxSeries) => change({ ...query, maxSeries })}
        />
        <FreeTextField value={query.text} onCommit={(text) => change({ ...query, text })} />
      </Stack>
    </Stack>
  );
}

/* A template-variable query: the values of one lookup field, optionally under filters. */
import React, { useId } from 'react';
import type { QueryEditorProps } from '@grafana/data';
import { Combobox, InlineField, Stack } from '@grafana/ui';
import type { CrumbtrailDataSource } from '../datasource/datasource';
import {
  type AuditDataSourceOptions,
  type AuditQuery,
  type AuditVariableQuery,
  LOOKUP_FIELD_LABELS,
  LOOKUP_FIELDS,
  type LookupField,
} from '../types';
import { FilterEditor } from './FilterEditor';
import { NumberField } from './NumberField';

type Props = QueryEditorProps<CrumbtrailDataSource, AuditQuery, AuditDataSourceOptions, AuditVariableQuery>;

const FIELD_OPTIONS = LOOKUP_FIELDS.filter((field) => field !== 'eventId').map((field) => ({
  value: field,
  label: LOOKUP_FIELD_LABELS[field],
}));

export function VariableQueryEditor({ query, onChange, datasource, range }: Props) {
  const id = useId();
  const field: LookupField = query.field ?? 'eventName';
  return (
    <Stack direction="column" gap={0.5}>
      <InlineField label="Values of" labelWidth={14} tooltip="The variable offers this field's values, busiest first">
        <Combobox<LookupField>
          id={`${id}-variableField`}
          width={24}
          value={field}
          options={FIELD_OPTIONS}
          onChange={(option) => onChange({ ...query, field: option.value })}
        />
      </InlineField>
      <FilterEditor
        filters={query.filters ?? {}}
        suggester={datasource}
        range={range}
        onChange={(filters) => onChange({ ...query, field, filters })}
      />
      <NumberField
        label="Limit"
        tooltip="At most this many values"
        value={query.limit}
        placeholder="100"
        min={1}
        max={1000}
        onCommit={(limit) => onChange({ ...query, field, limit })}
      />
    </Stack>
  );
}

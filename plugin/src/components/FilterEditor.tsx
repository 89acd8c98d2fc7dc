/*
 * One row per lookup filter: the field, and its values (several are ORed), with suggestions from
 * the collector's values API under the other filters, and the dashboard's variables.
 */
import React, { useCallback, useId } from 'react';
import { css } from '@emotion/css';
import type { TimeRange } from '@grafana/data';
import { Button, Combobox, type ComboboxOption, IconButton, InlineField, MultiCombobox, Stack } from '@grafana/ui';
import { getTemplateSrv } from '@grafana/runtime';
import { EVENT_CATEGORIES, LOOKUP_FIELD_LABELS, LOOKUP_FIELDS, type LookupField, type LookupFilters } from '../types';
import { Selectors } from './selectors';

/** What the editor needs from the datasource: suggestions for a field's values. */
export interface ValueSuggester {
  fieldValues(field: LookupField, filters: LookupFilters, range?: TimeRange): Promise<string[]>;
}

interface Props {
  filters: LookupFilters;
  onChange: (filters: LookupFilters) => void;
  suggester: ValueSuggester;
  range?: TimeRange;
  /** Limit the fields offered (the insights query filters by API only). */
  fields?: readonly LookupField[];
}

const FIXED_VALUES: Partial<Record<LookupField, readonly string[]>> = {
  readOnly: ['true', 'false'],
  eventCategory: EVENT_CATEGORIES,
};

function variableOptions(): Array<ComboboxOption<string>> {
  try {
    return getTemplateSrv()
      .getVariables()
      .map((variable) => ({ value: `$${variable.name}`, label: `$${variable.name}`, description: 'Variable' }));
  } catch {
    // No template service outside a dashboard (tests, the harness page).
    return [];
  }
}

function toOptions(values: readonly string[]): Array<ComboboxOption<string>> {
  return values.map((value) => ({ value, label: value }));
}

function withoutField(filters: LookupFilters, field: LookupField): LookupFilters {
  const rest = { ...filters };
  delete rest[field];
  return rest;
}

/** Labels the values combobox for screen readers (Combobox passes on its id, not aria-label). */
const visuallyHidden = css({
  position: 'absolute',
  width: 1,
  height: 1,
  overflow: 'hidden',
  clip: 'rect(0 0 0 0)',
  whiteSpace: 'nowrap',
});

export function FilterEditor({ filters, onChange, suggester, range, fields = LOOKUP_FIELDS }: Props) {
  const labelId = useId();
  const used = fields.filter((field) => filters[field] !== undefined);
  const unused = fields.filter((field) => filters[field] === undefined);

  const suggestions = useCallback(
    (field: LookupField) => async (input: string) => {
      const fixed = FIXED_VALUES[field];
      const values = fixed ?? (await suggester.fieldValues(field, withoutField(filters, field), range).catch(() => []));
      const lower = input.toLowerCase();
      return [...variableOptions(), ...toOptions(values)].filter((option) =>
        option.value.toLowerCase().includes(lower)
      );
    },
    [filters, range, suggester]
  );

  const renameField = (from: LookupField, to: LookupField) => {
    const next: LookupFilters = {};
    for (const field of LOOKUP_FIELDS) {
      if (field === from) {
        next[to] = filters[from] ?? [];
      } else if (filters[field] !== undefined && field !== to) {
        next[field] = filters[field];
      }
    }
    onChange(next);
  };

  return (
    <Stack direction="column" gap={0.5}>
      {used.map((field) => (
        <Stack key={field} direction="row" gap={0.5} alignItems="center">
          <label htmlFor={`${labelId}-values-${field}`} className={visuallyHidden}>
            {Selectors.filterValues(field)}
          </label>
          <InlineField label="Filter" labelWidth={14} htmlFor={`${labelId}-field-${field}`}>
            <Combobox
              id={`${labelId}-field-${field}`}
              width={22}
              value={field}
              options={[field, ...unused].map((option) => ({ value: option, label: LOOKUP_FIELD_LABELS[option] }))}
              onChange={(option) => renameField(field, option.value)}
            />
          </InlineField>
          <InlineField grow>
            <MultiCombobox<string>
              id={`${labelId}-values-${field}`}
              placeholder="Values (any of)"
              value={filters[field] ?? []}
              options={suggestions(field)}
              createCustomValue
              width="auto"
              minWidth={30}
              maxWidth={80}
              onChange={(options) => onChange({ ...filters, [field]: options.map((option) => option.value) })}
            />
          </InlineField>
          <IconButton
            name="trash-alt"
            aria-label={Selectors.removeFilter(field)}
            tooltip={Selectors.removeFilter(field)}
            onClick={() => onChange(withoutField(filters, field))}
          />
        </Stack>
      ))}
      {unused.length > 0 && (
        <div>
          <Button
            variant="secondary"
            size="sm"
            icon="plus"
            aria-label={Selectors.addFilter}
            onClick={() => {
              const [next] = unused;
              if (next !== undefined) {
                onChange({ ...filters, [next]: [] });
              }
            }}
          >
            Filter
          </Button>
        </div>
      )}
    </Stack>
  );
}

import React from 'react';
import { Stack } from '@grafana/ui';
import { MAX_EVENTS_PER_QUERY } from '../datasource/limits';
import { DEFAULT_MAX_RESULTS } from '../types';
import { FilterEditor } from './FilterEditor';
import { FreeTextField } from './FreeTextField';
import { NumberField } from './NumberField';
import type { TypeEditorProps } from './QueryEditor';
import { Selectors } from './selectors';

export function EventsQueryEditor({ query, change, datasource, range }: TypeEditorProps) {
  return (
    <Stack direction="column" gap={0.5}>
      <FilterEditor
        filters={query.filters ?? {}}
        suggester={datasource}
        range={range}
        onChange={(filters) => change({ ...query, filters })}
      />
      <Stack direction="row" gap={0.5}>
        <FreeTextField value={query.text} onCommit={(text) => change({ ...query, text })} />
        <NumberField
          label={Selectors.maxResults}
          tooltip={`Newest events first, at most ${MAX_EVENTS_PER_QUERY}`}
          value={query.maxResults}
          placeholder={String(DEFAULT_MAX_RESULTS)}
          min={1}
          max={MAX_EVENTS_PER_QUERY}
          onCommit={(maxResults) => change({ ...query, maxResults })}
        />
      </Stack>
    </Stack>
  );
}

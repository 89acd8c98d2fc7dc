/* Free text over the whole record: commits on blur or Enter, not on every keystroke. */
import React, { useState } from 'react';
import { InlineField, Input } from '@grafana/ui';
import { Selectors } from './selectors';

interface Props {
  value: string | undefined;
  onCommit: (value: string | undefined) => void;
}

export function FreeTextField({ value, onCommit }: Props) {
  const [draft, setDraft] = useState(value ?? '');
  // A new value from outside (another editor, a Logs-panel filter) replaces the draft: React's
  // "adjust state while rendering" pattern rather than an effect.
  const [shownValue, setShownValue] = useState(value);
  if (shownValue !== value) {
    setShownValue(value);
    setDraft(value ?? '');
  }
  const commit = () => {
    const next = draft.trim() === '' ? undefined : draft.trim();
    if (next !== value) {
      onCommit(next);
    }
  };
  return (
    <InlineField label="Text" labelWidth={14} tooltip="Case-insensitive text anywhere in the record" grow>
      <Input
        aria-label={Selectors.freeText}
        placeholder="e.g. Mary, AccessDenied, 203.0.113.7"
        value={draft}
        onChange={(event) => setDraft(event.currentTarget.value)}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === 'Enter') {
            commit();
          }
        }}
      />
    </InlineField>
  );
}

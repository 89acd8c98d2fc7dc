/* A whole-number input that commits on blur or Enter, clamped to [min, max]. */
import React, { useState } from 'react';
import { InlineField, Input } from '@grafana/ui';

interface Props {
  label: string;
  tooltip: string;
  value: number | undefined;
  placeholder: string;
  min: number;
  max: number;
  onCommit: (value: number | undefined) => void;
}

export function NumberField({ label, tooltip, value, placeholder, min, max, onCommit }: Props) {
  const [draft, setDraft] = useState(value === undefined ? '' : String(value));
  // A new value from outside (another editor, a Logs-panel filter) replaces the draft: React's
  // "adjust state while rendering" pattern rather than an effect.
  const [shownValue, setShownValue] = useState(value);
  if (shownValue !== value) {
    setShownValue(value);
    setDraft(value === undefined ? '' : String(value));
  }
  const commit = () => {
    const trimmed = draft.trim();
    if (trimmed === '') {
      onCommit(undefined);
      return;
    }
    const parsed = Number.parseInt(trimmed, 10);
    if (Number.isNaN(parsed)) {
      setDraft(value === undefined ? '' : String(value));
      return;
    }
    const clamped = Math.min(max, Math.max(min, parsed));
    setDraft(String(clamped));
    if (clamped !== value) {
      onCommit(clamped);
    }
  };
  return (
    <InlineField label={label} labelWidth={14} tooltip={tooltip}>
      <Input
        aria-label={label}
        type="number"
        width={12}
        min={min}
        max={max}
        placeholder={placeholder}
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

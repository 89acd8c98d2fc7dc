/* Free text over the whole record: commits on blur or Enter, not on every keystroke. */
import React from 'react';
import { InlineField, Input } from '@grafana/ui';
import { Selectors } from './selectors';
import { useDraftInput } from './use-draft-input';

interface Props {
  value: string | undefined;
  onCommit: (value: string | undefined) => void;
}

export function FreeTextField({ value, onCommit }: Props) {
  const draft = useDraftInput(
    value,
    (shown) => shown ?? '',
    (text) => {
      const next = text.trim() === '' ? undefined : text.trim();
      if (next !== value) {
        onCommit(next);
      }
    }
  );
  return (
    <InlineField label="Text" labelWidth={14} tooltip="Case-insensitive text anywhere in the record" grow>
      <Input aria-label={Selectors.freeText} placeholder="e.g. Mary, AccessDenied, 203.0.113.7" {...draft} />
    </InlineField>
  );
}

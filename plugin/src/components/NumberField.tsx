/* A whole-number input that commits on blur or Enter, clamped to [min, max]. */
import React from 'react';
import { InlineField, Input } from '@grafana/ui';
import { useDraftInput } from './use-draft-input';

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
  const show = (shown: number | undefined) => (shown === undefined ? '' : String(shown));
  const draft = useDraftInput(value, show, (text, setDraft) => {
    const trimmed = text.trim();
    if (trimmed === '') {
      onCommit(undefined);
      return;
    }
    const parsed = Number.parseInt(trimmed, 10);
    if (Number.isNaN(parsed)) {
      setDraft(show(value));
      return;
    }
    const clamped = Math.min(max, Math.max(min, parsed));
    setDraft(String(clamped));
    if (clamped !== value) {
      onCommit(clamped);
    }
  });
  return (
    <InlineField label={label} labelWidth={14} tooltip={tooltip}>
      <Input aria-label={label} type="number" width={12} min={min} max={max} placeholder={placeholder} {...draft} />
    </InlineField>
  );
}

/*
 * An input whose text is a draft until committed on blur or Enter, so a query does not run on
 * every keystroke. A new value from outside (another editor, a Logs-panel filter) replaces the
 * draft: React's "adjust state while rendering" pattern rather than an effect.
 */
import { type FormEvent, type KeyboardEvent, useState } from 'react';

type SetDraft = (draft: string) => void;

/** Props for an Input: value, onChange, onBlur and onKeyDown. */
export function useDraftInput<T>(
  value: T | undefined,
  show: (value: T | undefined) => string,
  commit: (draft: string, setDraft: SetDraft) => void
) {
  const [draft, setDraft] = useState(show(value));
  const [shownValue, setShownValue] = useState(value);
  if (shownValue !== value) {
    setShownValue(value);
    setDraft(show(value));
  }
  const commitDraft = () => commit(draft, setDraft);
  return {
    value: draft,
    onChange: (event: FormEvent<HTMLInputElement>) => setDraft(event.currentTarget.value),
    onBlur: commitDraft,
    onKeyDown: (event: KeyboardEvent<HTMLInputElement>) => {
      if (event.key === 'Enter') {
        commitDraft();
      }
    },
  };
}

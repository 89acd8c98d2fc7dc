/* Changes the editors make to a query, without mutating it (Grafana's query state is frozen). */
import type { AuditQuery } from '../types';

/**
 * The query with an optional setting set to a clearable combobox's choice, or removed when it was
 * cleared (an absent key, not `undefined`, so saved dashboards stay clean).
 */
export function withOptional<K extends keyof AuditQuery>(
  query: AuditQuery,
  key: K,
  option: { value: AuditQuery[K] } | null
): AuditQuery {
  const next = { ...query };
  if (option === null) {
    delete next[key];
  } else {
    next[key] = option.value;
  }
  return next;
}

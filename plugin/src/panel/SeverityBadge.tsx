/*
 * The visible marker of a failed call (its error code) or an insight, so severity does not rest
 * on the row's border colour alone.
 */
import { Badge } from '@grafana/ui';
import React from 'react';
import type { EventRow } from './event-rows';

export function SeverityBadge({ row }: { row: EventRow }) {
  if (row.severity === 'error') {
    return <Badge color="red" icon="exclamation-circle" text={row.values.errorCode ?? 'Error'} />;
  }
  if (row.severity === 'insight') {
    return <Badge color="orange" icon="bolt" text="Insight" />;
  }
  return null;
}

/*
 * What a click on a cell value does: add an ad-hoc filter through the panel context (dashboards
 * with an ad-hoc filter variable), or set the dashboard variable named after the field.
 */
import { locationService } from '@grafana/runtime';
import { usePanelContext } from '@grafana/ui';
import { useCallback } from 'react';
import type { FilterableColumn, ValueClickAction } from './types';

export type ValueFilter = (field: FilterableColumn, value: string) => void;

export function useValueFilter(action: ValueClickAction): ValueFilter {
  const { onAddAdHocFilter } = usePanelContext();
  return useCallback(
    (field, value) => {
      // Outside a dashboard (Explore, panel previews) there is no ad-hoc filter handler; a URL
      // variable still works there and on dashboards without an ad-hoc filter variable.
      if (action === 'adhoc' && onAddAdHocFilter !== undefined) {
        onAddAdHocFilter({ key: field, value, operator: '=' });
        return;
      }
      // `true`: replace the history entry, as Grafana does for variable changes.
      locationService.partial({ [`var-${field}`]: value }, true);
    },
    [action, onAddAdHocFilter]
  );
}

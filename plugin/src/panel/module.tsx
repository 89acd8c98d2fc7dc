/*
 * The event-history panel plugin, nested in the datasource plugin's folder (dist/panel/). Its
 * options: which columns to show and what a click on a value does.
 */
import { PanelPlugin, type SelectFieldConfigSettings } from '@grafana/data';
import { EventHistoryPanel } from './EventHistoryPanel';
import {
  COLUMN_LABELS,
  DEFAULT_OPTIONS,
  EVENT_COLUMNS,
  type EventColumn,
  type Options,
  type ValueClickAction,
} from './types';

const columnOptions = EVENT_COLUMNS.map((column) => ({ value: column, label: COLUMN_LABELS[column] }));
// Grafana types a multi-select's value as a single option, yet its editor saves an array of them.
const defaultColumns = DEFAULT_OPTIONS.columns as unknown as EventColumn;

const valueClickOptions: Array<{ value: ValueClickAction; label: string; description: string }> = [
  { value: 'adhoc', label: 'Add ad-hoc filter', description: "Adds a filter to the dashboard's ad-hoc filters" },
  { value: 'variable', label: 'Set variable', description: 'Sets the dashboard variable named after the field' },
];

export const plugin = new PanelPlugin<Options>(EventHistoryPanel).setPanelOptions((builder) =>
  builder
    .addMultiSelect<EventColumn, SelectFieldConfigSettings<EventColumn>>({
      path: 'columns',
      name: 'Columns',
      description: 'Fields shown as columns, in this order. CloudTrail event history shows the first five.',
      defaultValue: defaultColumns,
      settings: { options: columnOptions },
    })
    .addRadio({
      path: 'valueClick',
      name: 'Click on a value',
      description:
        'Filters the dashboard on the value: with an ad-hoc filter, or by setting the variable named after the field ' +
        '(var-username, var-eventName…). Without ad-hoc filters on the dashboard, sets the variable.',
      defaultValue: DEFAULT_OPTIONS.valueClick,
      settings: { options: valueClickOptions },
    })
);

import { PanelOptionsEditorBuilder, standardEditorsRegistry } from '@grafana/data';
import { plugin } from '../module';
import { EVENT_COLUMNS, type Options } from '../types';

// Grafana registers its option editors at startup; the builder only needs their ids here.
beforeAll(() => {
  standardEditorsRegistry.setInit(() => ['multi-select', 'radio'].map((id) => ({ id, name: id, editor: () => null })));
});

function optionItems() {
  const builder = new PanelOptionsEditorBuilder<Options>();
  plugin.getPanelOptionsSupplier()(builder, { data: [] });
  return Object.fromEntries(builder.getItems().map((item) => [item.path, item]));
}

describe('event-history panel plugin', () => {
  it("defaults to CloudTrail console's columns and ad-hoc filters", () => {
    expect(plugin.defaults).toEqual({
      columns: ['eventTime', 'username', 'eventName', 'resourceType', 'resourceName'],
      valueClick: 'adhoc',
    });
  });

  it('offers every field as a column and both click actions', () => {
    const items = optionItems();
    expect(items.columns.settings.options.map((option: { value: string }) => option.value)).toEqual([...EVENT_COLUMNS]);
    expect(items.valueClick.settings.options.map((option: { value: string }) => option.value)).toEqual([
      'adhoc',
      'variable',
    ]);
  });
});

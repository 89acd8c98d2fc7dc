// @grafana/plugin-e2e specs for a real Grafana (see configEditor.spec.ts).
import { expect, test } from '@grafana/plugin-e2e';

test('an Event name filter returns those events as a table', async ({
  panelEditPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: 'crumbtrail.yml' });
  await panelEditPage.datasource.set(ds.name);
  await panelEditPage.setVisualization('Table');
  const row = panelEditPage.getQueryEditorRow('A');
  await row.getByRole('button', { name: 'Add filter' }).click();
  await row.getByLabel('Values of eventName').fill('CreateUser');
  await page.keyboard.press('Enter');
  await expect(panelEditPage.refreshPanel()).toBeOK();
  await expect(panelEditPage.panel.data).toContainText(['CreateUser']);
});

// @grafana/plugin-e2e specs for a real Grafana: run with `npm run e2e` against the stack of the
// repository's docker-compose.yml. Not run in CI: no Grafana server can be installed there.
import { expect, test } from '@grafana/plugin-e2e';

test('the settings page asks for the collector URL and the API token', async ({
  createDataSourceConfigPage,
  readProvisionedDataSource,
  page,
}) => {
  const ds = await readProvisionedDataSource({ fileName: 'crumbtrail.yml' });
  await createDataSourceConfigPage({ type: ds.type });
  await expect(page.getByLabel('Collector URL')).toBeVisible();
  await expect(page.getByLabel('API token')).toBeVisible();
});

test('Save & test succeeds against the provisioned collector', async ({
  readProvisionedDataSource,
  gotoDataSourceConfigPage,
}) => {
  const ds = await readProvisionedDataSource({ fileName: 'crumbtrail.yml' });
  const configPage = await gotoDataSourceConfigPage(ds.uid);
  await expect(configPage.saveAndTest()).toBeOK();
  await expect(configPage).toHaveAlert('success', { hasText: /Connected to the crumbtrail collector/ });
});

test('Save & test explains a wrong URL', async ({ createDataSourceConfigPage, readProvisionedDataSource, page }) => {
  const ds = await readProvisionedDataSource({ fileName: 'crumbtrail.yml' });
  const configPage = await createDataSourceConfigPage({ type: ds.type });
  await page.getByLabel('Collector URL').fill('http://127.0.0.1:9');
  await expect(configPage.saveAndTest()).not.toBeOK();
  await expect(configPage).toHaveAlert('error', { hasText: /cannot reach/ });
});

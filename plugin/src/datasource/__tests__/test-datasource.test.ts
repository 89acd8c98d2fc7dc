/*
 * "Save & test": a real lookup through the data-proxy stand-in, so a wrong URL, a wrong token and
 * an unreachable collector each get a message that says what to fix.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DataProxy, startDataProxy } from '../../../test-support/grafana-data-proxy';
import { STORY } from '../../../test-support/story-collector';
import { instanceSettings, storyDatasource } from '../../../test-support/story-datasource';
import { TestTemplateSrv } from '../../../test-support/template-srv';
import { fetchBackendSrv } from '../../../test-support/fetch-backend-srv';
import { CrumbtrailDataSource } from '../datasource';

const collectorUrl = () => process.env.CRUMBTRAIL_TEST_COLLECTOR_URL!;

async function datasourceBehind(proxy: DataProxy, jsonData = {}) {
  return new CrumbtrailDataSource(
    instanceSettings(jsonData, proxy.instanceUrl),
    fetchBackendSrv(proxy.origin),
    new TestTemplateSrv()
  );
}

describe('Save & test', () => {
  const proxies: DataProxy[] = [];
  afterAll(async () => Promise.all(proxies.map((proxy) => proxy.close())));

  async function proxyTo(url: string, apiToken?: string) {
    const proxy = await startDataProxy({ uid: 'crumbtrail-test', collectorUrl: url, apiToken });
    proxies.push(proxy);
    return proxy;
  }

  it('succeeds against the collector with the right token', async () => {
    const result = await storyDatasource(new TestTemplateSrv()).testDatasource();
    expect(result).toEqual({
      status: 'success',
      message: `Connected to the crumbtrail collector at ${collectorUrl()}.`,
    });
  });

  it('says the token was refused', async () => {
    for (const token of ['wrong-token', undefined]) {
      const datasource = await datasourceBehind(await proxyTo(collectorUrl(), token));
      const result = await datasource.testDatasource();
      expect(result.status).toBe('error');
      expect(result.message).toMatch(/refused the API token/);
    }
    expect(STORY.apiToken).not.toBe('wrong-token');
  });

  it('says the URL is not a crumbtrail query API', async () => {
    const elsewhere = createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<h1>Not Found</h1>');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;
      const result = await (await datasourceBehind(await proxyTo(url, STORY.apiToken))).testDatasource();
      expect(result).toEqual({
        status: 'error',
        message: expect.stringContaining('has no crumbtrail query API (404)'),
      });
    } finally {
      elsewhere.close();
    }
  });

  it('says Grafana cannot reach the collector', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const result = await (await datasourceBehind(await proxyTo(url, STORY.apiToken))).testDatasource();
    expect(result.status).toBe('error');
    expect(result.message).toMatch(/^Grafana cannot reach http:\/\/127\.0\.0\.1:\d+ \(HTTP 502\)/);
  });

  it('asks for the URL when none is set', async () => {
    const datasource = await datasourceBehind(await proxyTo(collectorUrl(), STORY.apiToken), { collectorUrl: '' });
    expect(await datasource.testDatasource()).toEqual({
      status: 'error',
      message: expect.stringContaining('Set the collector URL'),
    });
  });
});

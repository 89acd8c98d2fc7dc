/*
 * Authorisation is decided on the route the router matched, never on the URL text: every route,
 * under every spelling an attacker can try (percent-encoded letters, doubled slashes, dot
 * segments, trailing slashes, mixed case), is refused without the token and never served without
 * it. The probes stay public; /metrics takes its own token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CollectorProcess } from '../support/collector-process.js';
import { startCollectorProcess } from '../support/collector-process.js';
import { rawRequest } from '../support/raw-http.js';

const API_TOKEN = 'route-secret-0123456789';
const METRICS_TOKEN = 'metrics-secret-0123456789';

const ROUTES = [
  '/api/v1/events',
  '/api/v1/events/01a236d0-4f7c-7746-8d6e-8e781814c8b8',
  '/api/v1/values/eventName',
  '/api/v1/stats/calls',
  '/api/v1/insights',
];

/** Spellings of a path that a router, a proxy or a client may treat as the same route. */
function variants(path: string): string[] {
  const [, first = '', ...rest] = path.split('/');
  const tail = rest.join('/');
  const encodeAt = (index: number): string =>
    path.slice(0, index) + `%${path.charCodeAt(index).toString(16)}` + path.slice(index + 1);
  return [
    path,
    encodeAt(1), // /%61pi/...
    encodeAt(path.length - 1), // last letter encoded
    path.replace(/[a-z]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`),
    `/${first}%2F${tail}`,
    `/${path}`,
    path.replace('/v1/', '//v1/'),
    `${path}/`,
    `${path}//`,
    `/x/..${path}`,
    path.replace('/v1/', '/./v1/'),
    path.replace('/v1/', '/v1/x/../'),
    path.replace('/v1/', '/%2e/v1/'),
    path.replace('/v1/', '/v1/%2e%2e/v1/'),
    path.toUpperCase(),
    path.replace('api', 'Api'),
    `${path}?maxResults=1`,
    `${path};jsessionid=1`,
    `${path}%00`,
    `${path}#fragment`,
  ];
}

describe('authorisation by matched route', () => {
  let collector: CollectorProcess;
  before(async () => {
    collector = await startCollectorProcess({
      args: ['--api-token', API_TOKEN, '--metrics-token', METRICS_TOKEN],
    });
  });
  after(async () => {
    await collector.stop();
  });

  it('never serves a query route without the token, however its path is spelled', async () => {
    const served: string[] = [];
    for (const route of ROUTES) {
      for (const path of variants(route)) {
        const anonymous = await rawRequest(collector.apiUrl, path);
        if (anonymous.status !== 401 && anonymous.status !== 400) {
          served.push(`${path} → ${anonymous.status} without a token`);
        }
        const wrong = await rawRequest(collector.apiUrl, path, {
          headers: { authorization: `Bearer ${METRICS_TOKEN}` },
        });
        if (wrong.status !== 401 && wrong.status !== 400) {
          served.push(`${path} → ${wrong.status} with the metrics token`);
        }
        const authorised = await rawRequest(collector.apiUrl, path, {
          headers: { authorization: `Bearer ${API_TOKEN}` },
        });
        assert.ok(authorised.status < 500, `${path} → ${authorised.status} with the token`);
        assert.notEqual(authorised.status, 401, `${path}: the token is accepted`);
      }
    }
    assert.deepEqual(served, []);
  });

  it('routes a percent-encoded spelling to the real route once the token is given', async () => {
    const response = await rawRequest(collector.apiUrl, '/%61pi/v1/events', {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), { events: [] });
  });

  it('refuses unknown paths without the token too (deny by default), with the token 404', async () => {
    assert.equal((await rawRequest(collector.apiUrl, '/admin')).status, 401);
    const known = await rawRequest(collector.apiUrl, '/admin', {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    assert.equal(known.status, 404);
  });

  it('keeps the probes public', async () => {
    assert.equal((await rawRequest(collector.apiUrl, '/healthz')).status, 200);
    assert.equal((await rawRequest(collector.apiUrl, '/readyz')).status, 200);
  });

  it('serves /metrics only with the metrics token, not the API token', async () => {
    for (const path of ['/metrics', '/%6detrics', '/metrics/', '//metrics']) {
      assert.equal((await rawRequest(collector.apiUrl, path)).status, 401, path);
      const apiToken = await rawRequest(collector.apiUrl, path, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      assert.ok([401, 404].includes(apiToken.status), `${path} with the API token: ${apiToken.status}`);
    }
    const scrape = await rawRequest(collector.apiUrl, '/metrics', {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    assert.equal(scrape.status, 200);
    assert.match(scrape.text, /^crumbtrail_events_ingested_total /m);
  });
});

/*
 * Tokens on the query API and the receiver, health and metrics endpoints, and events derived from
 * plain OpenTelemetry HTTP server spans (--derive-from-http-spans).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { exportOrFail, exportSpans, exporterFor, makeSpans } from '../support/otel-client.js';

const API_TOKEN = 'query-secret-0123456789';
const INGEST_TOKEN = 'ingest-secret-9876543210';
/** An hour back, fixed for the file: inside retention however slowly it runs, never in the future. */
const BASE_MS = Date.now() - 60 * 60_000;
const MINUTE_MS = 60_000;

describe('tokens, health and metrics', () => {
  let collector: CollectorProcess;
  before(async () => {
    collector = await startCollectorProcess({
      args: ['--ingest-token', INGEST_TOKEN],
      env: { CRUMBTRAIL_API_TOKEN: API_TOKEN },
    });
  });
  after(async () => {
    await collector.stop();
  });

  it('refuses /api/* without the token, with a wrong one, or a malformed header', async () => {
    for (const token of [undefined, 'wrong', `${API_TOKEN}x`, '']) {
      const { status, body } = await getJson<{ message: string }>(collector.apiUrl, '/api/v1/events', token);
      assert.equal(status, 401);
      assert.match(body.message, /API token/);
    }
    const basic = await fetch(`${collector.apiUrl}/api/v1/events`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${API_TOKEN}`).toString('base64')}` },
    });
    assert.equal(basic.status, 401);
    assert.equal(basic.headers.get('www-authenticate'), 'Bearer realm="crumbtrail"');
  });

  it('refuses exports without the ingest token, and accepts them with it', async () => {
    const spans = makeSpans([
      { time: new Date(), attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'Guarded' } },
    ]);
    const refused = await exportSpans(exporterFor('json', collector.otlpUrl), spans);
    assert.notEqual(refused.code, 0);
    const apiTokenIsNotIngestToken = await exportSpans(
      exporterFor('protobuf', collector.otlpUrl, { authorization: `Bearer ${API_TOKEN}` }),
      spans,
    );
    assert.notEqual(apiTokenIsNotIngestToken.code, 0);
    await exportOrFail(
      exporterFor('protobuf', collector.otlpUrl, { authorization: `Bearer ${INGEST_TOKEN}` }),
      spans,
    );
    const { status, body } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      '/api/v1/events?eventName=Guarded',
      API_TOKEN,
    );
    assert.equal(status, 200);
    assert.equal(body.events.length, 1);
  });

  it('serves health, readiness and metrics without a token', async () => {
    assert.deepEqual((await getJson(collector.apiUrl, '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await getJson(collector.apiUrl, '/readyz')).body, { status: 'ready' });
    const metrics = await fetch(`${collector.apiUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const text = await metrics.text();
    for (const name of [
      'crumbtrail_export_requests_total',
      'crumbtrail_spans_received_total',
      'crumbtrail_events_ingested_total',
      'crumbtrail_store_commit_duration_seconds_bucket',
      'crumbtrail_store_queue_depth',
      'crumbtrail_api_request_duration_seconds_bucket',
      'crumbtrail_text_index_backlog_events',
    ]) {
      assert.match(text, new RegExp(`^${name}`, 'm'), name);
    }
    assert.match(text, /^crumbtrail_events_ingested_total 1$/m);
    assert.match(text, /^crumbtrail_export_requests_total\{encoding="json",status="401"\} 1$/m);
  });

  it('answers bad query parameters with 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/v1/events?maxResults=0', /"maxResults"/],
      ['/api/v1/events?maxResults=1001', /"maxResults"/],
      ['/api/v1/events?startTime=yesterday', /"startTime"/],
      ['/api/v1/events?startTime=1700000000', /"startTime".*epoch milliseconds/],
      ['/api/v1/events?startTime=2024-02-01&endTime=2024-01-01', /"startTime".*after endTime/],
      ['/api/v1/events?readOnly=maybe', /"readOnly"/],
      ['/api/v1/events?EventName=CreateUser', /did you mean "eventName"/],
      ['/api/v1/events?eventCategory=Bogus', /"eventCategory"/],
      [`/api/v1/events?username=${'x'.repeat(2000)}`, /"username"/],
      ['/api/v1/stats/calls?step=1&startTime=1700000000000&endTime=1700100000000', /"step".*buckets/],
      ['/api/v1/stats/calls?groupBy=password', /"groupBy"/],
      ['/api/v1/values/eventName?limit=-1', /"limit"/],
    ];
    for (const [path, message] of cases) {
      const { status, body } = await getJson<{ message: string }>(collector.apiUrl, path, API_TOKEN);
      assert.equal(status, 400, path);
      assert.match(body.message, message, path);
    }
    const unknownField = await getJson<{ message: string }>(
      collector.apiUrl,
      '/api/v1/values/password',
      API_TOKEN,
    );
    assert.equal(unknownField.status, 404);
    const missing = await getJson<{ message: string }>(collector.apiUrl, '/api/v1/events/0000', API_TOKEN);
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /no event/);
  });
});

describe('events derived from plain OpenTelemetry server spans', () => {
  const httpSpan = {
    name: 'POST /users/:id/keys',
    kind: SpanKind.SERVER,
    time: new Date(BASE_MS),
    attributes: {
      [A.ATTR_HTTP_REQUEST_METHOD]: 'POST',
      [A.ATTR_HTTP_ROUTE]: '/users/:id/keys',
      [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 403,
      [A.ATTR_CLIENT_ADDRESS]: '198.51.100.4',
      [A.ATTR_USER_AGENT_ORIGINAL]: 'curl/8.5.0',
      [A.ATTR_USER_NAME]: 'mallory',
    },
  };
  const legacyHttpSpan = {
    name: 'GET',
    kind: SpanKind.SERVER,
    time: new Date(BASE_MS + MINUTE_MS),
    attributes: { 'http.method': 'GET', [A.ATTR_HTTP_ROUTE]: '/buckets', 'http.status_code': 200 },
  };
  const rpcSpan = {
    name: 'grpc',
    kind: SpanKind.SERVER,
    time: new Date(BASE_MS + 2 * MINUTE_MS),
    attributes: { [A.ATTR_RPC_SYSTEM_NAME]: 'grpc', [A.ATTR_RPC_METHOD]: 'storage.v1.Buckets/ListBuckets' },
  };
  const clientSpan = { ...httpSpan, kind: SpanKind.CLIENT, time: new Date(BASE_MS + 3 * MINUTE_MS) };

  it('ignores them by default and records them with --derive-from-http-spans', async () => {
    for (const derive of [false, true]) {
      const collector = await startCollectorProcess({ args: derive ? ['--derive-from-http-spans'] : [] });
      try {
        await exportOrFail(
          exporterFor('json', collector.otlpUrl),
          makeSpans([httpSpan, legacyHttpSpan, rpcSpan, clientSpan], { 'service.name': 'keys-api' }),
        );
        const { body } = await getJson<{ events: CloudTrailRecord[] }>(collector.apiUrl, '/api/v1/events');
        if (!derive) {
          assert.deepEqual(body.events, []);
          continue;
        }
        const byName = new Map(body.events.map((event) => [event.eventName, event]));
        assert.deepEqual([...byName.keys()].sort(), ['GetBuckets', 'ListBuckets', 'PostUsersByIdKeys']);
        const post = byName.get('PostUsersByIdKeys')!;
        assert.equal(post.eventSource, 'keys-api');
        assert.equal(post.errorCode, 'Forbidden');
        assert.equal(post.readOnly, false);
        assert.equal(post.sourceIPAddress, '198.51.100.4');
        assert.equal(post.userIdentity.userName, 'mallory');
        assert.equal(post.crumbtrail.origin, 'http-span');
        assert.equal(byName.get('GetBuckets')!.readOnly, true);
        const rpc = byName.get('ListBuckets')!;
        assert.equal(rpc.eventSource, 'storage.v1.Buckets');
        assert.equal(rpc.readOnly, true);
        assert.equal(rpc.crumbtrail.origin, 'rpc-span');
      } finally {
        await collector.stop();
      }
    }
  });
});

describe('lookups that overrun --query-timeout-ms', () => {
  it('are stopped and answered 503 with advice, and the next lookup works', async () => {
    const collector = await startCollectorProcess({ args: ['--query-timeout-ms', '5'] });
    try {
      const spans = makeSpans(
        Array.from({ length: 6000 }, (_, i) => ({
          time: new Date(BASE_MS + i),
          attributes: {
            [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'Bulk',
            [A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS]: JSON.stringify({ padding: 'x'.repeat(4000) }),
          },
        })),
      );
      const exporter = exporterFor('protobuf', collector.otlpUrl);
      for (let offset = 0; offset < spans.length; offset += 500) {
        await exportOrFail(exporter, spans.slice(offset, offset + 500));
      }
      // A free-text search for something absent reads all 6,000 records (~25 MB): far over 5 ms.
      const slow = await getJson<{ error: string; message: string }>(
        collector.apiUrl,
        '/api/v1/events?q=absent-text',
      );
      assert.equal(slow.status, 503);
      assert.equal(slow.body.error, 'QueryTimeout');
      assert.match(slow.body.message, /narrow the time range/);
      let quick = await getJson<{ events: unknown[] }>(
        collector.apiUrl,
        '/api/v1/events?eventName=Bulk&maxResults=1',
      );
      // The stopped reader thread is replaced; a lookup that fits the limit is answered again. On a
      // loaded machine even that may miss 5 ms a few times: a deadline, not a count of attempts.
      const deadline = Date.now() + 30_000;
      while (quick.status !== 200 && Date.now() < deadline) {
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
        quick = await getJson<{ events: unknown[] }>(
          collector.apiUrl,
          '/api/v1/events?eventName=Bulk&maxResults=1',
        );
      }
      assert.equal(quick.status, 200);
      assert.equal(quick.body.events.length, 1);
    } finally {
      await collector.stop();
    }
  });
});

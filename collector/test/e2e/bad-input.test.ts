/*
 * Bad input at the OTLP receiver: every malformed, oversized, mistyped or hostile request gets the
 * status the OTLP specification prescribes with a clear message, in the request's encoding, and
 * nothing acknowledged before is lost.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { exportOrFail, exporterFor, makeSpans } from '../support/otel-client.js';

const MAX_BODY = 1024 * 1024;
/** An hour back, fixed for the file: inside retention however slowly it runs, never in the future. */
const BASE_MS = Date.now() - 60 * 60_000;
const BASE_NANOS = BigInt(BASE_MS) * 1_000_000n;

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

function jsonSpan(
  overrides: Record<string, unknown> = {},
  attributes: unknown[] = [],
): Record<string, unknown> {
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: 'eee19b7ec3c1b174',
    name: 'call',
    kind: 2,
    startTimeUnixNano: String(BASE_NANOS),
    endTimeUnixNano: String(BASE_NANOS + 100_000_000n),
    attributes: [{ key: A.ATTR_CRUMBTRAIL_EVENT_NAME, value: { stringValue: 'RawCall' } }, ...attributes],
    ...overrides,
  };
}

function jsonRequest(spans: unknown[]): string {
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
}

describe('bad input at the OTLP receiver', () => {
  let collector: CollectorProcess;

  async function post(body: string | Uint8Array, headers: Record<string, string>): Promise<RawResponse> {
    const response = await fetch(`${collector.otlpUrl}/v1/traces`, { method: 'POST', body, headers });
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      text: Buffer.from(await response.arrayBuffer()).toString('utf8'),
    };
  }

  function postJson(body: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawResponse> {
    return post(body, { 'content-type': 'application/json', ...headers });
  }

  async function allEvents(): Promise<CloudTrailRecord[]> {
    const { body } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      '/api/v1/events?maxResults=1000',
    );
    return body.events;
  }

  let acknowledged: string[] = [];

  before(async () => {
    collector = await startCollectorProcess({ args: ['--max-body-bytes', String(MAX_BODY)] });
    const spans = makeSpans(
      Array.from({ length: 10 }, (_, i) => ({
        time: new Date(BASE_MS + i * 60_000),
        attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'Baseline' },
      })),
    );
    await exportOrFail(exporterFor('protobuf', collector.otlpUrl), spans);
    acknowledged = spans.map((span) => span.spanContext().spanId);
  });

  after(async () => {
    try {
      // Whatever was thrown at it, every acknowledged event is still there.
      const stored = new Set((await allEvents()).map((event) => event.crumbtrail.spanId));
      for (const spanId of acknowledged) assert.ok(stored.has(spanId), `acknowledged span ${spanId} lost`);
    } finally {
      await collector.stop();
    }
  });

  it('answers malformed JSON with 400 and a JSON Status naming the problem', async () => {
    const response = await postJson('{"resourceSpans": [');
    assert.equal(response.status, 400);
    assert.match(response.contentType, /application\/json/);
    const status = JSON.parse(response.text) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, /invalid JSON/);
  });

  it('answers wrongly typed JSON with 400 naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['{"resourceSpans": {}}', /resourceSpans must be an array/],
      ['[]', /JSON object/],
      [jsonRequest([jsonSpan({ traceId: 5 })]), /traceId must be a string/],
      [jsonRequest([jsonSpan({ endTimeUnixNano: 'soon' })]), /endTimeUnixNano/],
      [jsonRequest([jsonSpan({}, [{ key: 'x', value: { intValue: 'many' } }])]), /intValue/],
    ];
    for (const [body, message] of cases) {
      const response = await postJson(body);
      assert.equal(response.status, 400, body);
      assert.match((JSON.parse(response.text) as { message: string }).message, message);
    }
  });

  it('answers undecodable protobuf with 400 and a protobuf Status', async () => {
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
    const response = await post(garbage, { 'content-type': 'application/x-protobuf' });
    assert.equal(response.status, 400);
    assert.equal(response.contentType, 'application/x-protobuf');
    assert.match(response.text, /invalid protobuf/);
  });

  it('ignores unknown fields at every level, as the specification requires', async () => {
    const span = {
      ...jsonSpan({ spanId: '00000000000000aa', futureField: { nested: [1, 2] } }),
      droppedLinksCount: 3,
    };
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [], somethingNew: true },
          scopeSpans: [{ scope: { name: 's', v: 2 }, spans: [span] }],
          x: 1,
        },
      ],
      extension: 'ignored',
    });
    const response = await postJson(body);
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.text), {});
    const { body: found } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      '/api/v1/events?eventName=RawCall',
    );
    assert.ok(found.events.some((event) => event.crumbtrail.spanId === '00000000000000aa'));
    acknowledged.push('00000000000000aa');
  });

  it('reports spans that cannot become events as partial success, storing the rest', async () => {
    const good = jsonSpan({ spanId: '00000000000000bb' });
    const badTrace = jsonSpan({ spanId: '00000000000000cc', traceId: 'not-hex' });
    const noTime = jsonSpan({ spanId: '00000000000000dd', endTimeUnixNano: '0', startTimeUnixNano: '0' });
    const response = await postJson(jsonRequest([good, badTrace, noTime]));
    assert.equal(response.status, 200);
    const body = JSON.parse(response.text) as {
      partialSuccess: { rejectedSpans: number; errorMessage: string };
    };
    assert.equal(body.partialSuccess.rejectedSpans, 2);
    assert.match(body.partialSuccess.errorMessage, /traceId must be 32 hex digits/);
    assert.match(body.partialSuccess.errorMessage, /start time/);
    const ids = (await allEvents()).map((event) => event.crumbtrail.spanId);
    assert.ok(ids.includes('00000000000000bb'));
    assert.ok(!ids.includes('00000000000000cc') && !ids.includes('00000000000000dd'));
    acknowledged.push('00000000000000bb');
  });

  it("applies CloudTrail's size limits to huge attribute values, with a marker", async () => {
    const hugeParameters = JSON.stringify({ blob: 'x'.repeat(200 * 1024) });
    const span = jsonSpan({ spanId: '00000000000000ee' }, [
      { key: A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS, value: { stringValue: hugeParameters } },
      { key: A.ATTR_USER_AGENT_ORIGINAL, value: { stringValue: 'ü'.repeat(3000) } },
    ]);
    const response = await postJson(jsonRequest([span]));
    assert.equal(response.status, 200);
    const event = (await allEvents()).find((e) => e.crumbtrail.spanId === '00000000000000ee');
    assert.ok(event);
    assert.equal(event.requestParameters, null);
    assert.deepEqual(event.crumbtrail.sizeLimits?.omitted, [
      { field: 'requestParameters', originalBytes: Buffer.byteLength(hugeParameters) },
    ]);
    assert.ok(Buffer.byteLength(event.userAgent ?? '') <= 1024);
    assert.equal(event.userAgent, 'ü'.repeat(512));
    assert.deepEqual(event.crumbtrail.sizeLimits.truncated, ['userAgent']);
    acknowledged.push('00000000000000ee');
  });

  it('refuses a body over the limit with 413, before and after decompression (gzip bomb)', async () => {
    const big = jsonRequest([jsonSpan({}, [{ key: 'pad', value: { stringValue: 'y'.repeat(MAX_BODY) } }])]);
    assert.equal((await postJson(big)).status, 413);
    // 64 MiB of zeros gzip to ~64 KB: inflating stops at the limit.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    assert.ok(bomb.length < MAX_BODY);
    const response = await postJson(bomb, { 'content-encoding': 'gzip' });
    assert.equal(response.status, 413);
    assert.match(
      (JSON.parse(response.text) as { message: string }).message,
      /decompressed request body exceeds/,
    );
  });

  it('accepts gzip-compressed requests and refuses a corrupt gzip stream with 400', async () => {
    const ok = await postJson(gzipSync(jsonRequest([jsonSpan({ spanId: '00000000000000ff' })])), {
      'content-encoding': 'gzip',
    });
    assert.equal(ok.status, 200);
    acknowledged.push('00000000000000ff');
    const corrupt = await postJson(Buffer.from('definitely not gzip'), { 'content-encoding': 'gzip' });
    assert.equal(corrupt.status, 400);
    assert.match(corrupt.text, /invalid gzip/);
  });

  it('closes the connection after a body refused mid-read, so the next export on it is answered', async () => {
    // One keep-alive connection, as an exporter keeps: the rest of a corrupt gzip body must not be
    // read as the next request (found by the fuzz test).
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (body: Buffer | string, headers: Record<string, string>): Promise<number> =>
        new Promise((resolve, reject) => {
          const url = new URL(`${collector.otlpUrl}/v1/traces`);
          const outgoing = request(
            { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers },
            (response) => {
              response.resume();
              response.on('end', () => {
                resolve(response.statusCode ?? 0);
              });
            },
          );
          outgoing.on('error', reject);
          outgoing.end(body);
        });
      const json = { 'content-type': 'application/json' };
      assert.equal(await send(Buffer.alloc(300_000, 'x'), { ...json, 'content-encoding': 'gzip' }), 400);
      assert.equal(await send(jsonRequest([]), json), 200);
    } finally {
      agent.destroy();
    }
  });

  it('refuses other content types and encodings with 415', async () => {
    const text = await post('hello', { 'content-type': 'text/plain' });
    assert.equal(text.status, 415);
    assert.match(text.text, /application\/x-protobuf or application\/json/);
    const brotli = await postJson('{}', { 'content-encoding': 'br' });
    assert.equal(brotli.status, 415);
    assert.match(brotli.text, /Content-Encoding/);
  });

  it('answers unknown routes with 404', async () => {
    const response = await fetch(`${collector.otlpUrl}/v1/logs`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 404);
  });

  it('stores a retried export once (idempotent on traceId + spanId)', async () => {
    const spans = makeSpans([
      { time: new Date(), attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'Retried' } },
    ]);
    const exporter = exporterFor('json', collector.otlpUrl);
    await exportOrFail(exporter, spans);
    await exportOrFail(exporter, spans);
    await exportOrFail(exporterFor('protobuf', collector.otlpUrl), spans);
    const { body } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      '/api/v1/events?eventName=Retried',
    );
    assert.equal(body.events.length, 1);
    const metrics = await (await fetch(`${collector.apiUrl}/metrics`)).text();
    assert.match(metrics, /^crumbtrail_events_duplicate_total 2$/m);
    acknowledged.push(spans[0]!.spanContext().spanId);
  });

  it('ignores spans without crumbtrail attributes, and counts them', async () => {
    const spans = makeSpans([{ time: new Date(), attributes: { 'http.request.method': 'GET' } }]);
    await exportOrFail(exporterFor('json', collector.otlpUrl), spans);
    const metrics = await (await fetch(`${collector.apiUrl}/metrics`)).text();
    assert.match(metrics, /^crumbtrail_spans_ignored_total 1$/m);
    const ids = (await allEvents()).map((event) => event.crumbtrail.spanId);
    assert.ok(!ids.includes(spans[0]!.spanContext().spanId));
  });
});

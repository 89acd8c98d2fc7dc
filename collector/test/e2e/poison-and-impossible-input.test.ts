/*
 * Spans that cannot (or must not) become records are rejected alone, as OTLP partial success, and
 * never fail another exporter's batch: forged collector-only event types, documents nested
 * thousands deep, event times outside what the store keeps. Every string field and the whole
 * record are capped, with markers saying what was cut; text is normalised once at ingest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import {
  arrayAttribute,
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../support/otlp-json.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const RECORD_LIMIT = 256 * 1024;

describe('poison spans and impossible input', () => {
  let collector: CollectorProcess;
  before(async () => {
    // The default retention (90 days) and future skew (5 minutes) are what is tested here.
    collector = await startCollectorProcess({ args: ['--max-body-bytes', String(32 * 1024 * 1024)] });
  });
  after(async () => {
    await collector.stop();
  });

  async function eventBySpanId(eventName: string, spanId: string): Promise<CloudTrailRecord | undefined> {
    const { status, body } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      `/api/v1/events?eventName=${encodeURIComponent(eventName)}&maxResults=1000`,
    );
    assert.equal(status, 200);
    return body.events.find((event) => event.crumbtrail.spanId === spanId);
  }

  /** Concurrent ordinary exports while `poison` is sent: all of them must be acknowledged. */
  async function alongsideOrdinaryExports(poison: () => Promise<void>): Promise<void> {
    const ordinary = Array.from({ length: 12 }, async () => {
      const spanIds = Array.from({ length: 20 }, () => freshSpanId());
      const answer = await postJsonExport(
        collector.otlpUrl,
        exportRequestJson(spanIds.map((id) => auditJsonSpan(id, Date.now() - 1000, 'Ordinary'))),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.partialSuccess, undefined);
      return spanIds;
    });
    await poison();
    const acknowledged = (await Promise.all(ordinary)).flat();
    for (const spanId of acknowledged) assert.ok(await eventBySpanId('Ordinary', spanId), spanId);
  }

  it('rejects a span forging an insight event alone, and fails no other batch', async () => {
    await alongsideOrdinaryExports(async () => {
      for (const eventType of ['AwsCloudTrailInsight', 'SomethingElse']) {
        const forged = freshSpanId();
        const sibling = freshSpanId();
        const answer = await postJsonExport(
          collector.otlpUrl,
          exportRequestJson([
            auditJsonSpan(forged, Date.now() - 1000, 'Forged', [
              stringAttribute(A.ATTR_CRUMBTRAIL_EVENT_TYPE, eventType),
            ]),
            auditJsonSpan(sibling, Date.now() - 1000, 'Forged'),
          ]),
        );
        assert.equal(answer.status, 200);
        assert.equal(answer.body.partialSuccess?.rejectedSpans, 1);
        assert.match(answer.body.partialSuccess.errorMessage ?? '', /crumbtrail\.event\.type must be one of/);
        assert.equal(await eventBySpanId('Forged', forged), undefined);
        assert.ok(await eventBySpanId('Forged', sibling), 'the sibling span is stored');
      }
    });
    const { body } = await getJson<{ events: unknown[] }>(
      collector.apiUrl,
      '/api/v1/events?eventCategory=insight',
    );
    assert.deepEqual(body.events, [], 'no insight was forged');
    const accepted = freshSpanId();
    const console = await postJsonExport(
      collector.otlpUrl,
      exportRequestJson([
        auditJsonSpan(accepted, Date.now(), 'ConsoleLogin', [
          stringAttribute(A.ATTR_CRUMBTRAIL_EVENT_TYPE, 'AwsConsoleSignIn'),
        ]),
      ]),
    );
    assert.equal(console.body.partialSuccess, undefined);
    assert.equal((await eventBySpanId('ConsoleLogin', accepted))?.eventType, 'AwsConsoleSignIn');
  });

  it('stores a span whose requestParameters nest 5,000 deep without the document, and fails no other batch', async () => {
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const spanId = freshSpanId();
    await alongsideOrdinaryExports(async () => {
      const answer = await postJsonExport(
        collector.otlpUrl,
        exportRequestJson([
          auditJsonSpan(spanId, Date.now() - 1000, 'Deep', [
            stringAttribute(A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS, deep),
            stringAttribute(A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS, '[[[[1]]]]'),
          ]),
        ]),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });
    const event = await eventBySpanId('Deep', spanId);
    assert.ok(event);
    assert.equal(event.requestParameters, null);
    assert.deepEqual(event.responseElements, [[[[1]]]], 'shallow documents are kept');
    assert.deepEqual(event.crumbtrail.sizeLimits?.omitted, [
      { field: 'requestParameters', originalBytes: deep.length, reason: 'nested deeper than 32 levels' },
    ]);
  });

  it('caps every string field, lists and the whole record, saying what was cut', async () => {
    const mib = 'x'.repeat(1024 * 1024);
    const spanId = freshSpanId();
    const resources = Array.from({ length: 150 }, (_, i) => `user-${i}-${'r'.repeat(2000)}`);
    const answer = await postJsonExport(
      collector.otlpUrl,
      exportRequestJson(
        [
          auditJsonSpan(spanId, Date.now() - 1000, 'Huge', [
            stringAttribute(A.ATTR_TLS_CIPHER, mib),
            stringAttribute(A.ATTR_TLS_PROTOCOL_VERSION, mib),
            stringAttribute(A.ATTR_SERVER_ADDRESS, mib),
            stringAttribute(A.ATTR_CLOUD_ACCOUNT_ID, mib),
            stringAttribute(A.ATTR_CLOUD_REGION, mib),
            stringAttribute(A.ATTR_USER_NAME, mib),
            stringAttribute(A.ATTR_CRUMBTRAIL_ERROR_MESSAGE, mib),
            stringAttribute(A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS, JSON.stringify({ p: 'p'.repeat(90_000) })),
            stringAttribute(A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS, JSON.stringify({ q: 'q'.repeat(95_000) })),
            stringAttribute(
              A.ATTR_CRUMBTRAIL_ADDITIONAL_EVENT_DATA,
              JSON.stringify({ z: 'z'.repeat(80_000) }),
            ),
            arrayAttribute(
              A.ATTR_CRUMBTRAIL_RESOURCE_TYPES,
              resources.map(() => 'User'),
            ),
            arrayAttribute(A.ATTR_CRUMBTRAIL_RESOURCE_NAMES, resources),
          ]),
        ],
        [stringAttribute(A.ATTR_SERVICE_NAME, mib), stringAttribute(A.ATTR_SERVICE_VERSION, mib)],
      ),
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const { status, body } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      '/api/v1/events?eventName=Huge',
    );
    assert.equal(status, 200);
    const event = body.events.find((candidate) => candidate.crumbtrail.spanId === spanId);
    assert.ok(event);
    assert.ok(Buffer.byteLength(JSON.stringify(event)) <= RECORD_LIMIT, 'the record fits in 256 KB');
    for (const value of [
      event.tlsDetails?.cipherSuite,
      event.tlsDetails?.tlsVersion,
      event.tlsDetails?.clientProvidedHostHeader,
      event.recipientAccountId,
      event.awsRegion,
      event.userIdentity.userName,
      event.errorMessage,
      event.crumbtrail.serviceName,
      event.crumbtrail.serviceVersion,
    ]) {
      assert.ok(
        value !== undefined && Buffer.byteLength(value) <= 1024,
        `${value?.slice(0, 20)}… is cut to 1 KB`,
      );
    }
    const limits = event.crumbtrail.sizeLimits;
    assert.ok(limits);
    for (const field of [
      'tlsDetails.cipherSuite',
      'recipientAccountId',
      'crumbtrail.serviceName',
      'crumbtrail.serviceVersion',
      'userIdentity.userName',
    ]) {
      assert.ok(limits.truncated?.includes(field), `${field} is marked as truncated`);
    }
    // The largest document went first; the resources were cut to what fits.
    assert.equal(event.responseElements, null);
    assert.ok(
      limits.omitted?.some(
        (entry) => entry.field === 'responseElements' && entry.reason === 'the record exceeded 256 KB',
      ),
    );
    const cut = limits.cutLists?.find((entry) => entry.field === 'resources');
    assert.ok(cut, 'the resources cut is marked');
    assert.equal(cut.originalCount, 150);
    assert.equal(cut.kept, event.resources?.length);
    assert.ok(cut.kept <= 100);
    assert.equal(event.resources?.[0]?.name?.startsWith('user-0-'), true);
  });

  it('rejects events older than the retention period and far in the future, alone, saying why', async () => {
    const now = Date.now();
    const cases = [
      { spanId: freshSpanId(), endMs: now - 91 * DAY_MS, message: /before the retention period/ },
      { spanId: freshSpanId(), endMs: Date.UTC(2600, 0, 1), message: /in the future/ },
      { spanId: freshSpanId(), endMs: now + 60 * 60 * 1000, message: /check the client's clock/ },
    ];
    const inside = [freshSpanId(), freshSpanId(), freshSpanId()];
    const answer = await postJsonExport(
      collector.otlpUrl,
      exportRequestJson([
        ...cases.map((entry) => auditJsonSpan(entry.spanId, entry.endMs, 'Timely')),
        auditJsonSpan(inside[0]!, now - 89 * DAY_MS, 'Timely'),
        auditJsonSpan(inside[1]!, now, 'Timely'),
        // Within the allowed clock skew.
        auditJsonSpan(inside[2]!, now + 60 * 1000, 'Timely'),
      ]),
    );
    assert.equal(answer.status, 200);
    assert.equal(answer.body.partialSuccess?.rejectedSpans, cases.length);
    for (const entry of cases) assert.match(answer.body.partialSuccess.errorMessage ?? '', entry.message);
    for (const entry of cases) assert.equal(await eventBySpanId('Timely', entry.spanId), undefined);
    for (const spanId of inside) assert.ok(await eventBySpanId('Timely', spanId), spanId);
  });

  it('stores lone surrogates as U+FFFD, so that what a record shows is what a filter finds', async () => {
    const spanId = freshSpanId();
    const answer = await postJsonExport(
      collector.otlpUrl,
      // Written by hand: JSON.stringify would escape the surrogate the same way, but say so.
      exportRequestJson([
        auditJsonSpan(spanId, Date.now() - 1000, 'Surrogate', [
          stringAttribute(A.ATTR_USER_NAME, 'ab\ud800cd'),
          stringAttribute(A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS, '{"k\\udfff":"v\\ud800"}'),
        ]),
      ]),
    );
    assert.equal(answer.status, 200);
    const normalised = 'ab\ufffdcd';
    const { body } = await getJson<{ events: CloudTrailRecord[] }>(
      collector.apiUrl,
      `/api/v1/events?username=${encodeURIComponent(normalised)}`,
    );
    assert.equal(body.events.length, 1, 'found by the normalised name');
    const [event] = body.events;
    assert.ok(event);
    assert.equal(event.crumbtrail.spanId, spanId);
    assert.equal(event.userIdentity.userName, normalised);
    assert.deepEqual(event.requestParameters, { 'k\ufffd': 'v\ufffd' });
    const { body: values } = await getJson<{ values: { value: string }[] }>(
      collector.apiUrl,
      '/api/v1/values/username?eventName=Surrogate',
    );
    assert.deepEqual(
      values.values.map((entry) => entry.value),
      [normalised],
    );
  });
});

/*
 * Every query bounds its work before doing it: a call-rate series grouped by a field with a value
 * per event is counted for the busiest groups only, an answer too large to build is refused with
 * advice, and lookup pages of large records end early (with a token for the rest) instead of
 * building one string of hundreds of megabytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { exportOrFail, exporterFor, makeSpans } from '../support/otel-client.js';
import {
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../support/otlp-json.js';

const HOUR_MS = 60 * 60 * 1000;
/** One request may take long on a loaded machine; this only stops a hung one from hanging the file. */
const HANG_GUARD_MS = 120_000;

interface Series {
  group?: string;
  points: [number, number][];
}

describe('bounded queries', () => {
  let collector: CollectorProcess;
  // Fixed for the whole file, an hour back from the start: no timer can move it out of retention.
  const endMs = Date.now();
  const startMs = endMs - 3 * HOUR_MS;

  before(async () => {
    collector = await startCollectorProcess();
    const exporter = exporterFor('protobuf', collector.otlpUrl);
    for (let batch = 0; batch < 12; batch++) {
      await exportOrFail(
        exporter,
        makeSpans(
          Array.from({ length: 500 }, (_, i) => ({
            time: new Date(endMs - HOUR_MS + (batch * 500 + i) * 100),
            attributes: {
              [A.ATTR_CRUMBTRAIL_EVENT_NAME]: i % 3 === 0 ? 'GetUser' : 'ListUsers',
              [A.ATTR_USER_NAME]: `user-${i % 7}`,
            },
          })),
        ),
      );
    }
  });
  after(async () => {
    await collector.stop();
  });

  async function callStats(
    query: string,
  ): Promise<{ status: number; body: { series?: Series[]; message?: string } }> {
    const response = await fetch(`${collector.apiUrl}/api/v1/stats/calls?${query}`, {
      signal: AbortSignal.timeout(HANG_GUARD_MS),
    });
    return {
      status: response.status,
      body: (await response.json()) as { series?: Series[]; message?: string },
    };
  }

  it('groups 6,000 events by eventId at a 1 s step over 3 hours, counting only the busiest group', async () => {
    const { status, body } = await callStats(
      `groupBy=eventId&step=1&startTime=${startMs}&endTime=${endMs}&maxSeries=1`,
    );
    assert.equal(status, 200, body.message);
    assert.equal(body.series?.length, 1);
    const [series] = body.series ?? [];
    assert.ok(series);
    assert.equal(series.points.length, 3 * 3600 + 1);
    assert.equal(
      series.points.reduce((sum, [, count]) => sum + count, 0),
      1,
      'one event per eventId',
    );
    assert.equal((await getJson(collector.apiUrl, '/healthz')).status, 200, 'the collector is still up');
  });

  it('keeps the busiest groups, with their full counts', async () => {
    const { status, body } = await callStats(
      `groupBy=eventName&step=3600&startTime=${startMs}&endTime=${endMs}&maxSeries=1`,
    );
    assert.equal(status, 200);
    assert.deepEqual(
      body.series?.map((series) => [series.group, series.points.reduce((sum, [, count]) => sum + count, 0)]),
      [['ListUsers', 12 * 333]],
    );
  });

  it('refuses an answer of more points than it builds, before doing the work, with advice', async () => {
    const { status, body } = await callStats(
      `groupBy=eventId&step=1&startTime=${startMs}&endTime=${endMs}&maxSeries=1000`,
    );
    assert.equal(status, 400);
    assert.match(
      body.message ?? '',
      /1000 series × 10801 buckets is more than 1000000 points: use a larger step/,
    );
  });

  it('ends a page of large records early, with a token that pages through all of them exactly once', async () => {
    const documents = (index: number): ReturnType<typeof stringAttribute>[] => [
      stringAttribute(
        A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS,
        JSON.stringify({ i: index, p: 'p'.repeat(95_000) }),
      ),
      stringAttribute(A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS, JSON.stringify({ q: 'q'.repeat(95_000) })),
    ];
    const spanIds: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const spans = Array.from({ length: 10 }, (_, i) => {
        const spanId = freshSpanId();
        spanIds.push(spanId);
        return auditJsonSpan(
          spanId,
          endMs - HOUR_MS / 2 + batch * 10 + i,
          'Large',
          documents(batch * 10 + i),
        );
      });
      const answer = await postJsonExport(collector.otlpUrl, exportRequestJson(spans));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.partialSuccess, undefined);
    }
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let token: string | undefined;
    do {
      const suffix = token === undefined ? '' : `&nextToken=${encodeURIComponent(token)}`;
      const response = await fetch(
        `${collector.apiUrl}/api/v1/events?eventName=Large&maxResults=1000${suffix}`,
        {
          signal: AbortSignal.timeout(HANG_GUARD_MS),
        },
      );
      assert.equal(response.status, 200);
      const body = (await response.json()) as { events: CloudTrailRecord[]; nextToken?: string };
      pageSizes.push(body.events.length);
      seen.push(...body.events.map((event) => event.crumbtrail.spanId ?? ''));
      token = body.nextToken;
    } while (token !== undefined);
    assert.ok(pageSizes.length > 1, `pages ${pageSizes.join(', ')}: the first ended at its size budget`);
    assert.deepEqual([...seen].sort(), [...spanIds].sort(), 'every record once');
  });
});

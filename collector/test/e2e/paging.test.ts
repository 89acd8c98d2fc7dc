/*
 * Paging through more than 1,000 events with nextToken: every event exactly once, in order, and
 * tokens that were altered or reused with other filters are refused with a 400 that says why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import { exportOrFail, exporterFor, makeSpans } from '../support/otel-client.js';

interface Page {
  events: CloudTrailRecord[];
  nextToken?: string;
}

const TOTAL = 2_600;
/** An hour back, fixed for the file: inside retention however slowly it runs, never in the future. */
const BASE = Date.now() - 60 * 60_000;

describe('paging', () => {
  let collector: CollectorProcess;

  async function pageThrough(query: string, pageSize: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const params = new URLSearchParams(query);
      params.set('maxResults', String(pageSize));
      if (token !== undefined) params.set('nextToken', token);
      const { status, body } = await getJson<Page>(collector.apiUrl, `/api/v1/events?${params.toString()}`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(body.events.length <= pageSize);
      ids.push(...body.events.map((event) => event.eventID));
      token = body.nextToken;
      pages++;
    } while (token !== undefined);
    return { ids, pages };
  }

  before(async () => {
    collector = await startCollectorProcess();
    // Several events share each millisecond so the order must break ties consistently.
    const spans = makeSpans(
      Array.from({ length: TOTAL }, (_, i) => ({
        time: new Date(BASE + Math.floor(i / 3)),
        attributes: {
          [A.ATTR_CRUMBTRAIL_EVENT_NAME]: i % 2 === 0 ? 'PutObject' : 'GetObject',
          [A.ATTR_USER_NAME]: `user-${i % 4}`,
        },
      })),
    );
    const exporter = exporterFor('json', collector.otlpUrl);
    for (let offset = 0; offset < spans.length; offset += 512) {
      await exportOrFail(exporter, spans.slice(offset, offset + 512));
    }
  });
  after(async () => {
    await collector.stop();
  });

  it('visits all 2,600 events exactly once, newest first, with pages of 1,000', async () => {
    const { ids, pages } = await pageThrough('', 1000);
    assert.equal(pages, 3);
    assert.equal(ids.length, TOTAL);
    assert.equal(new Set(ids).size, TOTAL, 'no duplicates');
    const { body } = await getJson<Page>(collector.apiUrl, `/api/v1/events?eventId=${ids[0]}`);
    assert.equal(body.events.length, 1);
    assert.ok(Date.parse(body.events[0]!.eventTime) >= BASE + Math.floor((TOTAL - 1) / 3));
  });

  it('pages a filtered lookup with an odd page size without gaps', async () => {
    const { ids, pages } = await pageThrough('eventName=PutObject&username=user-0&username=user-2', 137);
    assert.equal(ids.length, TOTAL / 2);
    assert.equal(new Set(ids).size, TOTAL / 2);
    assert.equal(pages, Math.ceil(TOTAL / 2 / 137));
  });

  it('keeps order across pages: each page is older than the one before', async () => {
    let token: string | undefined;
    let previous: { time: number; id: string } | undefined;
    for (let page = 0; page < 4; page++) {
      const { body } = await getJson<Page>(
        collector.apiUrl,
        `/api/v1/events?maxResults=50${token === undefined ? '' : `&nextToken=${encodeURIComponent(token)}`}`,
      );
      for (const event of body.events) {
        const time = Date.parse(event.eventTime);
        if (previous !== undefined) assert.ok(time <= previous.time, 'non-increasing time');
        previous = { time, id: event.eventID };
      }
      token = body.nextToken;
    }
  });

  describe('bad tokens', () => {
    let token: string;
    before(async () => {
      const { body } = await getJson<Page>(
        collector.apiUrl,
        '/api/v1/events?maxResults=10&eventName=PutObject',
      );
      assert.ok(body.nextToken);
      token = body.nextToken;
    });

    it('refuses a token used with different filters', async () => {
      const { status, body } = await getJson<{ message: string }>(
        collector.apiUrl,
        `/api/v1/events?eventName=GetObject&nextToken=${encodeURIComponent(token)}`,
      );
      assert.equal(status, 400);
      assert.match(body.message, /nextToken.*different query/);
    });

    it('refuses a token that was altered, anywhere in it', async () => {
      for (const position of [0, Math.floor(token.length / 2), token.length - 1]) {
        const flipped = token[position] === 'A' ? 'B' : 'A';
        const altered = token.slice(0, position) + flipped + token.slice(position + 1);
        const { status, body } = await getJson<{ message: string }>(
          collector.apiUrl,
          `/api/v1/events?eventName=PutObject&nextToken=${encodeURIComponent(altered)}`,
        );
        assert.equal(status, 400);
        assert.match(body.message, /nextToken.*(malformed|altered)/);
      }
    });

    it('refuses garbage and oversized tokens', async () => {
      for (const garbage of ['x', 'a.b.c', '..', 'A'.repeat(5000)]) {
        const { status } = await getJson(collector.apiUrl, `/api/v1/events?nextToken=${garbage}`);
        assert.equal(status, 400);
      }
    });

    it('accepts the token with the same filters (and another page size)', async () => {
      const { status, body } = await getJson<Page>(
        collector.apiUrl,
        `/api/v1/events?eventName=PutObject&maxResults=5&nextToken=${encodeURIComponent(token)}`,
      );
      assert.equal(status, 200);
      assert.equal(body.events.length, 5);
    });
  });
});

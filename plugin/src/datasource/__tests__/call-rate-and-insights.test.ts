/*
 * Call-rate series and Insights (table and annotations) from the real collector serving the audit
 * story, whose RunInstances burst at 10:00 the real Insights engine turned into an insight.
 */
import type { DataFrame } from '@grafana/data';
import { STORY } from '../../../test-support/story-collector';
import { storyDatasource, storyRequest } from '../../../test-support/story-datasource';
import { TestTemplateSrv } from '../../../test-support/template-srv';
import { type AuditQuery, QueryType } from '../../types';
import { MAX_BUCKETS } from '../call-rate-frames';
import { column, frameField, onlyFrame } from '../../../test-support/frame-readers';

const MINUTE = 60_000;
const datasource = storyDatasource(new TestTemplateSrv());

function callsIn(frame: DataFrame): number[] {
  return column(frame, 'calls') as number[];
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

describe('call-rate query', () => {
  it('gives one series per event name, counting every call once, with the burst visible', async () => {
    const response = await datasource.query(
      storyRequest([{ refId: 'A', queryType: QueryType.CallRate, groupBy: 'eventName' }], { intervalMs: MINUTE })
    );
    const frames = response.data as DataFrame[];
    const byName = new Map(frames.map((frame) => [frameField(frame, 'calls').labels?.eventName, frame]));
    expect([...byName.keys()].sort()).toEqual([
      'CreateUser',
      'DeleteUser',
      'DescribeInstances',
      'ListUsers',
      'RunInstances',
    ]);

    // Cross-check against the event history: the series count the calls the lookup returns.
    const events = onlyFrame(
      await datasource.query(
        storyRequest([
          { refId: 'B', queryType: QueryType.Events, filters: { eventName: ['RunInstances'] }, maxResults: 10_000 },
        ])
      )
    );
    const runInstances = byName.get('RunInstances') as DataFrame;
    expect(sum(callsIn(runInstances))).toBe(events.length);

    const times = column(runInstances, 'time') as number[];
    const burstMinute = times.indexOf(STORY.burstStartMs);
    expect(burstMinute).toBeGreaterThan(0);
    expect(callsIn(runInstances)[burstMinute]).toBeGreaterThanOrEqual(40);
    expect(callsIn(runInstances)[burstMinute - 1]).toBeLessThan(10);
  });

  it('follows the panel interval, widened when the range would exceed the bucket limit', async () => {
    const fiveMinutes = onlyFrame(
      await datasource.query(
        storyRequest([{ refId: 'A', queryType: QueryType.CallRate, filters: { eventName: ['CreateUser'] } }], {
          intervalMs: 5 * MINUTE,
        })
      )
    );
    const times = column(fiveMinutes, 'time') as number[];
    expect(times[1]! - times[0]!).toBe(5 * MINUTE);
    expect(sum(callsIn(fiveMinutes))).toBe(1);

    // 100 ms over 2.5 hours would be 90,000 buckets: the step grows to fit the collector's limit.
    const fine = onlyFrame(
      await datasource.query(
        storyRequest([{ refId: 'A', queryType: QueryType.CallRate, filters: { eventName: ['CreateUser'] } }], {
          intervalMs: 100,
        })
      )
    );
    expect(fine.length).toBeLessThanOrEqual(MAX_BUCKETS);
    expect(sum(callsIn(fine))).toBe(1);

    // 1000 series of 11,000 buckets would be 11 M points, over the collector's limit of 1 M: the
    // step grows to fit that too, so the query is answered rather than refused.
    const grouped = await datasource.query(
      storyRequest([{ refId: 'A', queryType: QueryType.CallRate, groupBy: 'eventName', maxSeries: 1000 }], {
        intervalMs: 100,
      })
    );
    expect(grouped.errors ?? []).toEqual([]);
    expect(grouped.data.length).toBeGreaterThan(1);
    for (const frame of grouped.data as DataFrame[]) {
      expect(frame.length * grouped.data.length).toBeLessThanOrEqual(1_000_000);
    }
  });
});

describe('insights query', () => {
  it('lists the RunInstances insight with its region, averages and tags', async () => {
    const frame = onlyFrame(await datasource.query(storyRequest([{ refId: 'A', queryType: QueryType.Insights }])));
    expect(frame.length).toBe(1);
    expect(column(frame, 'eventName')).toEqual(['RunInstances']);
    expect(column(frame, 'insightType')).toEqual(['ApiCallRateInsight']);
    expect(column(frame, 'state')).toEqual(['ended']);
    const [start] = column(frame, 'time') as number[];
    const [end] = column(frame, 'timeEnd') as number[];
    // Raised within the burst's first minutes, ended after it.
    expect(start).toBeGreaterThanOrEqual(STORY.burstStartMs);
    expect(start).toBeLessThan(STORY.burstStartMs + 5 * MINUTE);
    expect(end).toBeGreaterThan(STORY.burstStartMs + 9 * MINUTE);
    expect(column(frame, 'title')).toEqual(['Unusual call rate: RunInstances']);
    expect(String(column(frame, 'text')[0])).toMatch(/baseline \d+\.\d calls\/min, observed \d+\.\d calls\/min/);
    expect(column(frame, 'tags')[0]).toEqual(['RunInstances', 'ApiCallRateInsight', 'compute.example.com']);
    const [baseline] = column(frame, 'baselineAverage') as number[];
    const [observed] = column(frame, 'insightAverage') as number[];
    expect(observed).toBeGreaterThan(baseline! * 2.5);
  });

  it('narrows by API, type and state', async () => {
    const cases: Array<[Partial<AuditQuery>, number]> = [
      [{ filters: { eventName: ['DescribeInstances'] } }, 0],
      [{ filters: { eventSource: ['compute.example.com'] } }, 1],
      [{ insightType: 'ApiErrorRateInsight' }, 0],
      [{ insightState: 'active' }, 0],
      [{ insightState: 'ended' }, 1],
    ];
    for (const [patch, expected] of cases) {
      const frame = onlyFrame(
        await datasource.query(storyRequest([{ refId: 'A', queryType: QueryType.Insights, ...patch }]))
      );
      expect([patch, frame.length]).toEqual([patch, expected]);
    }
  });

  it('is an annotation source: standard annotation support reads time, timeEnd, title, text and tags', () => {
    // Grafana's standard support maps these field names; an empty object turns it on.
    expect(datasource.annotations).toEqual({});
  });
});

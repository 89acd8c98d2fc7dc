/* Reading back what the demo wrote: the collector's query API, typed for the fields the tests use. */
import { getJson } from '../../../../collector/test/support/collector-process.js';

export interface DemoEvent {
  eventID: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  userIdentity: { type?: string; userName?: string; accessKeyId?: string; arn?: string };
  userAgent?: string;
  sourceIPAddress?: string;
  sessionCredentialFromConsole?: string;
  requestParameters: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  resources?: { type?: string; name?: string; ARN?: string }[];
  crumbtrail: {
    serviceName?: string;
    serviceVersion?: string;
    peerAddress?: string;
    httpStatusCode?: number;
  };
  [field: string]: unknown;
}

export type Query = Record<string, string | number | boolean>;

function queryString(query: Query): string {
  return new URLSearchParams(
    Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]),
  ).toString();
}

async function ok<T>(apiUrl: string, path: string): Promise<T> {
  const { status, body } = await getJson<T>(apiUrl, path);
  if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Every event matching the query, through all pages. */
export async function allEvents(apiUrl: string, query: Query): Promise<DemoEvent[]> {
  const events: DemoEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ok<{ events: DemoEvent[]; nextToken?: string }>(
      apiUrl,
      `/api/v1/events?${queryString({ ...query, maxResults: 1000, ...(nextToken === undefined ? {} : { nextToken }) })}`,
    );
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}

export async function someEvents(apiUrl: string, query: Query): Promise<DemoEvent[]> {
  return (await ok<{ events: DemoEvent[] }>(apiUrl, `/api/v1/events?${queryString(query)}`)).events;
}

/** Distinct values of a field with their counts, for events matching the query. */
export async function valueCounts(apiUrl: string, field: string, query: Query): Promise<Map<string, number>> {
  const body = await ok<{ values: { value: string; count: number }[] }>(
    apiUrl,
    `/api/v1/values/${field}?${queryString({ ...query, limit: 1000 })}`,
  );
  return new Map(body.values.map(({ value, count }) => [value, count]));
}

/** Calls in [startTime, endTime], summed over `step`-second buckets. */
export async function callCount(apiUrl: string, query: Query): Promise<number> {
  const body = await ok<{ series: { points: [number, number][] }[] }>(
    apiUrl,
    `/api/v1/stats/calls?${queryString(query)}`,
  );
  return body.series.reduce((sum, series) => sum + series.points.reduce((s, [, count]) => s + count, 0), 0);
}

export function total(counts: Map<string, number>): number {
  return [...counts.values()].reduce((sum, count) => sum + count, 0);
}

/*
 * "Download events" in the event-history panel, against the real collector serving the audit
 * story through the real datasource: every matching event (not only the rows shown), fetched page
 * by page with progress, capped, cancellable, saved as CSV or CloudTrail JSON. The CSV must be the
 * collector's own format=csv export of the same filters, byte for byte. Grafana's datasource
 * registry (getDataSourceSrv) is the one stand-in: no Grafana server can run here.
 */
import type { DataSourceApi } from '@grafana/data';
import { type DataSourceSrv, setDataSourceSrv } from '@grafana/runtime';
import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { parse } from 'csv-parse/sync';
import React from 'react';
import { PanelSelectors } from '../../components/selectors';
import type { ExportOptions } from '../../datasource/event-export';
import type { AuditRecord } from '../../shared/cloudtrail-record';
import { EVENT_CSV_HEADERS } from '../../shared/event-csv';
import { STORY } from '../../../test-support/story-collector';
import { storyDatasource, storyRequest } from '../../../test-support/story-datasource';
import { TestTemplateSrv } from '../../../test-support/template-srv';
import { type AuditQuery, QueryType } from '../../types';
import { DownloadEvents } from '../DownloadEvents';
import { EventHistoryPanel } from '../EventHistoryPanel';
import type { DownloadFile } from '../save-file';
import { panelProps } from '../test-support/fixtures';

const SOURCES = ['iam.example.com', 'compute.example.com'];
const datasource = storyDatasource(new TestTemplateSrv([{ name: 'source', value: SOURCES }]));
const REF = { type: 'crumbtrail-audit-datasource', uid: 'crumbtrail-test' };

beforeAll(() => {
  setDataSourceSrv({
    get: async () => datasource as unknown as DataSourceApi,
    getList: () => [],
    getInstanceSettings: () => undefined,
    reload: () => {},
    registerRuntimeDataSource: () => {},
  } as unknown as DataSourceSrv);
});

function eventsQuery(patch: Partial<AuditQuery> = {}): AuditQuery {
  return { refId: 'A', datasource: REF, queryType: QueryType.Events, maxResults: 50, ...patch };
}

/** The collector's own export of the same filters and time range (with the API token). */
async function collectorExport(params: Record<string, string | string[]>): Promise<string> {
  const search = new URLSearchParams({ startTime: String(STORY.startMs), endTime: String(STORY.endMs) });
  for (const [name, value] of Object.entries(params)) {
    for (const each of Array.isArray(value) ? value : [value]) {
      search.append(name, each);
    }
  }
  const response = await fetch(`${process.env.CRUMBTRAIL_TEST_COLLECTOR_URL}/api/v1/events?${search}`, {
    headers: { authorization: `Bearer ${STORY.apiToken}` },
  });
  expect(response.status).toBe(200);
  return response.text();
}

/** Renders the bar for `targets`, clicks `button`, and returns the saved file once the status says so. */
async function download(targets: AuditQuery[], button: string, maxEvents?: number): Promise<DownloadFile> {
  const saved: DownloadFile[] = [];
  render(
    <DownloadEvents
      request={storyRequest(targets)}
      save={(file) => saved.push(file)}
      {...(maxEvents === undefined ? {} : { maxEvents })}
    />
  );
  await userEvent.click(screen.getByRole('button', { name: button }));
  await screen.findByText(/^Downloaded /, undefined, { timeout: 20_000 });
  expect(saved).toHaveLength(1);
  return saved[0] as DownloadFile;
}

describe('Download events', () => {
  it('CSV: every matching event, paged with progress, the same file as the collector exports', async () => {
    const progress: number[] = [];
    const exportEvents = datasource.exportEvents.bind(datasource);
    const spy = jest.spyOn(datasource, 'exportEvents').mockImplementation((query, range, scoped, adHoc, options) =>
      exportEvents(query, range, scoped, adHoc, {
        ...options,
        onProgress: (events) => {
          progress.push(events);
          options?.onProgress?.(events);
        },
      } satisfies ExportOptions)
    );
    try {
      const file = await download([eventsQuery({ filters: { eventSource: ['$source'] } })], PanelSelectors.downloadCsv);
      expect(file.name).toBe('crumbtrail-events.csv');
      expect(file.type).toMatch(/^text\/csv/);
      const expected = await collectorExport({ eventSource: SOURCES, format: 'csv' });
      expect(file.text).toBe(expected);
      const rows = parse(file.text) as string[][];
      expect(rows[0]).toEqual([...EVENT_CSV_HEADERS]);
      // More than the query's maxResults (50) and more than one collector page.
      expect(rows.length - 1).toBeGreaterThan(1000);
      expect(progress[0]).toBe(1000);
      expect(progress[progress.length - 1]).toBe(rows.length - 1);
      expect(screen.getByRole('status', { name: PanelSelectors.downloadStatus })).toHaveTextContent(
        `Downloaded ${(rows.length - 1).toLocaleString('en-US')} events as CSV`
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('JSON: CloudTrail records, the same events as the collector exports', async () => {
    const file = await download(
      [eventsQuery({ filters: { username: ['mallory', 'John'] } })],
      PanelSelectors.downloadJson
    );
    expect(file.name).toBe('crumbtrail-events.json');
    const { Records } = JSON.parse(file.text) as { Records: AuditRecord[] };
    const ndjson = await collectorExport({ username: ['mallory', 'John'], format: 'ndjson' });
    const expected = ndjson
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditRecord);
    expect(Records).toEqual(expected);
    expect(new Set(Records.map((record) => record.userIdentity?.userName))).toEqual(new Set(['mallory', 'John']));
  });

  it('stops at the cap and says so', async () => {
    const file = await download([eventsQuery()], PanelSelectors.downloadCsv, 1500);
    expect((parse(file.text) as string[][]).length - 1).toBe(1500);
    expect(screen.getByRole('status', { name: PanelSelectors.downloadStatus })).toHaveTextContent(
      'Downloaded the first 1,500 events (the cap is 1,500): narrow the time range or filters for the rest'
    );
  });

  it('can be cancelled between pages: nothing is saved', async () => {
    const save = jest.fn();
    const exportEvents = datasource.exportEvents.bind(datasource);
    const spy = jest.spyOn(datasource, 'exportEvents').mockImplementation((query, range, scoped, adHoc, options) =>
      exportEvents(query, range, scoped, adHoc, {
        ...options,
        onProgress: (events) => {
          options?.onProgress?.(events);
          // The user clicks Cancel while the first page is in.
          act(() => screen.getByRole('button', { name: PanelSelectors.cancelDownload }).click());
        },
      })
    );
    try {
      render(<DownloadEvents request={storyRequest([eventsQuery()])} save={save} />);
      await userEvent.click(screen.getByRole('button', { name: PanelSelectors.downloadCsv }));
      await screen.findByText('Download cancelled');
      // The export stopped after its first page.
      await expect(spy.mock.results[0]?.value).rejects.toThrow('download cancelled');
      expect(save).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('a query the collector refuses: the collector says why', async () => {
    const saved: DownloadFile[] = [];
    const request = storyRequest([eventsQuery({ filters: { eventSource: ['iam.example.com'] } })], {
      fromMs: STORY.endMs,
      toMs: STORY.startMs,
    });
    render(<DownloadEvents request={request} save={(file) => saved.push(file)} />);
    await userEvent.click(screen.getByRole('button', { name: PanelSelectors.downloadJson }));
    expect(await screen.findByText(/^Download failed: crumbtrail collector: /)).toBeInTheDocument();
    expect(saved).toHaveLength(0);
  });

  it('the panel shows the bar above its table, for the queries behind its data', async () => {
    const request = storyRequest([eventsQuery()]);
    const response = await datasource.query(request);
    const props = panelProps(response.data, {});
    const created: Blob[] = [];
    // jsdom cannot navigate: the link's click is where the browser would start the download.
    const clicks = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement
    ) {
      expect(this.download).toBe('crumbtrail-events.csv');
    });
    const original = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };
    URL.createObjectURL = (blob: Blob) => {
      created.push(blob);
      return 'blob:crumbtrail-test';
    };
    URL.revokeObjectURL = () => {};
    try {
      render(<EventHistoryPanel {...props} data={{ ...props.data, request }} />);
      await userEvent.click(screen.getByRole('button', { name: PanelSelectors.downloadCsv }));
      await screen.findByText(/^Downloaded /, undefined, { timeout: 20_000 });
      expect(created).toHaveLength(1);
      expect(created[0]?.type).toBe('text/csv;charset=utf-8');
      expect(clicks).toHaveBeenCalledTimes(1);
    } finally {
      clicks.mockRestore();
      URL.createObjectURL = original.create;
      URL.revokeObjectURL = original.revoke;
    }
  });
});

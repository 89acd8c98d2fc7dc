/*
 * "Download events" state for the event-history panel: finds the crumbtrail datasource of the
 * panel's events queries (panels cannot call the collector themselves, datasources can), asks it
 * for every matching event page by page, reports progress, and saves CSV or JSON. The panel and
 * the datasource are separate bundles in Grafana, so the datasource is recognised by its
 * exportEvents method, not by its class.
 */
import type { AdHocVariableFilter, DataQueryRequest, ScopedVars, TimeRange } from '@grafana/data';
import { getDataSourceSrv } from '@grafana/runtime';
import { useCallback, useRef, useState } from 'react';
import type { EventExport, ExportOptions } from '../datasource/event-export';
import type { AuditRecord } from '../shared/cloudtrail-record';
import { formatEventCsv, formatEventJson } from '../shared/event-csv';
import { type AuditQuery, QueryType } from '../types';
import { type DownloadFile, saveFile } from './save-file';

export type DownloadFormat = 'csv' | 'json';

export type DownloadState =
  | { state: 'idle' }
  | { state: 'running'; format: DownloadFormat; events: number }
  | { state: 'done'; format: DownloadFormat; events: number; truncated: boolean }
  | { state: 'cancelled' }
  | { state: 'error'; message: string };

interface ExportingDatasource {
  exportEvents(
    query: AuditQuery,
    range: TimeRange,
    scopedVars?: ScopedVars,
    adHocFilters?: AdHocVariableFilter[],
    options?: ExportOptions
  ): Promise<EventExport>;
}

const DATASOURCE_TYPE = 'crumbtrail-audit-datasource';

function isExporting(datasource: unknown): datasource is ExportingDatasource {
  return typeof (datasource as Partial<ExportingDatasource> | undefined)?.exportEvents === 'function';
}

/** The panel's visible events queries of a crumbtrail datasource. */
export function eventsTargets(request: DataQueryRequest | undefined): AuditQuery[] {
  return (request?.targets ?? []).filter((target): target is AuditQuery => {
    const query = target as AuditQuery;
    const type = query.datasource?.type;
    return (
      query.hide !== true &&
      (type === undefined || type === DATASOURCE_TYPE) &&
      (query.queryType ?? QueryType.Events) === QueryType.Events
    );
  });
}

/** Several queries: one list, newest first, each event once. */
function merged(exports: EventExport[]): EventExport {
  const byId = new Map<string, AuditRecord>();
  for (const { records } of exports) {
    for (const record of records) {
      byId.set(record.eventID, record);
    }
  }
  const records = [...byId.values()].sort((a, b) => b.eventTime.localeCompare(a.eventTime));
  return { records, truncated: exports.some((item) => item.truncated) };
}

function fileOf(format: DownloadFormat, records: AuditRecord[]): DownloadFile {
  return format === 'csv'
    ? { name: 'crumbtrail-events.csv', type: 'text/csv;charset=utf-8', text: formatEventCsv(records) }
    : { name: 'crumbtrail-events.json', type: 'application/json', text: formatEventJson(records) };
}

export function useEventDownload(
  request: DataQueryRequest | undefined,
  options: { maxEvents?: number; save?: (file: DownloadFile) => void } = {}
) {
  const [status, setStatus] = useState<DownloadState>({ state: 'idle' });
  const controller = useRef<AbortController | undefined>(undefined);
  const { maxEvents, save = saveFile } = options;

  const start = useCallback(
    async (format: DownloadFormat) => {
      const targets = eventsTargets(request);
      if (request === undefined || targets.length === 0) {
        setStatus({ state: 'error', message: 'No events query of a crumbtrail datasource to download' });
        return;
      }
      controller.current?.abort();
      const abort = new AbortController();
      controller.current = abort;
      setStatus({ state: 'running', format, events: 0 });
      try {
        const exports: EventExport[] = [];
        let before = 0;
        for (const target of targets) {
          // getDataSourceSrv() is deprecated for @grafana/runtime/unstable, which Grafana 12.3 (the
          // oldest this plugin supports) lacks; it is what every supported version provides.
          // eslint-disable-next-line @typescript-eslint/no-deprecated
          const datasource = await getDataSourceSrv().get(target.datasource ?? null, request.scopedVars);
          if (!isExporting(datasource)) {
            throw new Error(`the datasource of query ${target.refId} cannot export events`);
          }
          const done = before;
          exports.push(
            await datasource.exportEvents(target, request.range, request.scopedVars, request.filters, {
              ...(maxEvents === undefined ? {} : { maxEvents }),
              signal: abort.signal,
              onProgress: (events) => {
                if (!abort.signal.aborted) {
                  setStatus({ state: 'running', format, events: done + events });
                }
              },
            })
          );
          before += exports[exports.length - 1]?.records.length ?? 0;
        }
        if (abort.signal.aborted) {
          return;
        }
        const result = merged(exports);
        save(fileOf(format, result.records));
        setStatus({ state: 'done', format, events: result.records.length, truncated: result.truncated });
      } catch (error) {
        if (abort.signal.aborted) {
          return;
        }
        setStatus({ state: 'error', message: error instanceof Error ? error.message : String(error) });
      }
    },
    [request, maxEvents, save]
  );

  const cancel = useCallback(() => {
    controller.current?.abort();
    setStatus({ state: 'cancelled' });
  }, []);

  return { status, start, cancel };
}

/*
 * The harness page's datasource and time range, shared by its parts: Grafana's runtime singletons
 * set as its app sets them before any plugin code runs, the real CrumbtrailDataSource behind the
 * data-proxy stand-in, and the query requests Grafana's query runner would build.
 *
 * URL parameters: from/to (epoch ms, the time range: the audit story's by default) and
 * collectorUrl (the datasource's setting; only the proxy calls it).
 */
import {
  type AdHocVariableFilter,
  type DataQueryRequest,
  type DataSourceInstanceSettings,
  dateTime,
  type TimeRange,
} from '@grafana/data';
import { setBackendSrv, setTemplateSrv } from '@grafana/runtime';
import { CrumbtrailDataSource } from '../src/datasource/datasource';
import type { AuditDataSourceOptions, AuditQuery } from '../src/types';
import { fetchBackendSrv } from '../test-support/fetch-backend-srv';
import { TestTemplateSrv } from '../test-support/template-srv';
import { HARNESS } from './harness-constants';

const params = new URLSearchParams(window.location.search);
const fromMs = Number(params.get('from') ?? HARNESS.defaultFromMs);
const toMs = Number(params.get('to') ?? HARNESS.defaultToMs);
const collectorUrl = params.get('collectorUrl') ?? undefined;

setBackendSrv(fetchBackendSrv(window.location.origin));
setTemplateSrv(new TestTemplateSrv([{ name: 'user', value: 'John', options: ['John', 'alice', 'bob', 'mallory'] }]));

const instanceSettings: DataSourceInstanceSettings<AuditDataSourceOptions> = {
  id: 1,
  uid: HARNESS.datasourceUid,
  type: 'crumbtrail-audit-datasource',
  name: 'crumbtrail',
  url: `/api/datasources/proxy/uid/${HARNESS.datasourceUid}`,
  access: 'proxy',
  readOnly: false,
  jsonData: { collectorUrl },
  meta: {} as DataSourceInstanceSettings['meta'],
};
export const datasource = new CrumbtrailDataSource(instanceSettings);

const from = dateTime(fromMs);
const to = dateTime(toMs);
export const range: TimeRange = { from, to, raw: { from, to } };

let requestCounter = 0;

/** What Grafana's query runner sends for a panel: `interval` is the panel's (the default suits tables). */
export function request(
  targets: AuditQuery[],
  filters: AdHocVariableFilter[],
  interval = { interval: '1m', intervalMs: 60_000 }
): DataQueryRequest<AuditQuery> {
  requestCounter += 1;
  return {
    requestId: `harness-${requestCounter}`,
    ...interval,
    range,
    scopedVars: {},
    targets,
    filters,
    timezone: 'utc',
    app: 'panel-editor',
    startTime: Date.now(),
  };
}

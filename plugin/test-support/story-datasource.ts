/*
 * The crumbtrail datasource as Grafana would construct it, wired to the jest run's real collector
 * (see jest-global-setup.ts) through the data-proxy stand-in.
 */
import { type DataQueryRequest, type DataSourceInstanceSettings, dateTime, type ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import { CrumbtrailDataSource } from '../src/datasource/datasource';
import type { AuditDataSourceOptions, AuditQuery } from '../src/types';
import { fetchBackendSrv } from './fetch-backend-srv';
import { STORY } from './story-collector';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set: run these tests through jest (its globalSetup starts the collector)`);
  }
  return value;
}

export function instanceSettings(
  jsonData: Partial<AuditDataSourceOptions> = {},
  url = required('CRUMBTRAIL_TEST_INSTANCE_URL')
): DataSourceInstanceSettings<AuditDataSourceOptions> {
  return {
    id: 1,
    uid: 'crumbtrail-test',
    type: 'crumbtrail-audit-datasource',
    name: 'crumbtrail',
    url,
    access: 'proxy',
    readOnly: false,
    jsonData: { collectorUrl: required('CRUMBTRAIL_TEST_COLLECTOR_URL'), ...jsonData },
    meta: {} as DataSourceInstanceSettings['meta'],
  };
}

export function storyDatasource(
  templateSrv: TemplateSrv,
  jsonData: Partial<AuditDataSourceOptions> = {},
  url?: string
): CrumbtrailDataSource {
  return new CrumbtrailDataSource(
    instanceSettings(jsonData, url),
    fetchBackendSrv(required('CRUMBTRAIL_TEST_GRAFANA_ORIGIN')),
    templateSrv
  );
}

/** A dashboard request over the story's time range (or a part of it). */
export function storyRequest(
  targets: AuditQuery[],
  options: { fromMs?: number; toMs?: number; intervalMs?: number; scopedVars?: ScopedVars } = {}
): DataQueryRequest<AuditQuery> {
  const from = dateTime(options.fromMs ?? STORY.startMs);
  const to = dateTime(options.toMs ?? STORY.endMs);
  return {
    requestId: 'Q1',
    interval: '1m',
    intervalMs: options.intervalMs ?? 60_000,
    range: { from, to, raw: { from, to } },
    scopedVars: options.scopedVars ?? {},
    targets,
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  };
}

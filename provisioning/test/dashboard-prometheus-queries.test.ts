/*
 * Every Prometheus query of the provisioned dashboards, interpolated as Grafana does it and run
 * against a real Prometheus (Debian's) scraping a real collector: each dashboard variable at
 * "All", at one value and at several values, with its allValue, includeAll and multi settings
 * (plugin/test-support/scenes-template-srv.ts models Grafana's Scenes interpolation and
 * support/prometheus-interpolation.ts the Prometheus datasource's formatting: no Grafana server
 * can run here). A query must run without error and return the series of the selected APIs only.
 *
 * The collector gets calls to three APIs a few minutes before now and evaluates Insights every
 * second, so /metrics carries the insight gauges of exactly those APIs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CollectorProcess,
  startCollectorProcess,
} from '../../collector/test/support/collector-process.js';
import {
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../../collector/test/support/otlp-json.js';
import {
  dashboardVariable,
  type DashboardVariable,
  ScenesTemplateSrv,
} from '../../plugin/test-support/scenes-template-srv.js';
import { queriesOf, variablesOf } from './support/dashboard-walk.js';
import { stringAt } from './support/json-shapes.js';
import {
  prometheusInterpolateQueryExpr,
  prometheusRangeVariables,
} from './support/prometheus-interpolation.js';
import { type PrometheusServer, startPrometheus } from './support/prometheus-server.js';
import { loadProvisioning } from './support/provisioning-model.js';
import { relativeToRepo } from './support/repo-files.js';

const APIS = [
  { eventSource: 'iam.example.com', eventName: 'CreateUser' },
  { eventSource: 'iam.example.com', eventName: 'DeleteUser' },
  { eventSource: 'compute.example.com', eventName: 'RunInstances' },
];
const apiKey = (source: string | undefined, name: string | undefined) => `${source ?? '?'}/${name ?? '?'}`;
const RANGE_SECONDS = 3600;

/** What each dashboard variable offers: the APIs' sources and names (what "All" stands for). */
const OPTIONS: Record<string, string[]> = {
  eventSource: [...new Set(APIS.map((api) => api.eventSource))],
  eventName: APIS.map((api) => api.eventName),
  username: ['John', 'alice'],
};

interface Scenario {
  label: string;
  selection: Record<string, 'all' | string[]>;
}

/** Each variable at All, at one value and at several (the others at All), then all at one value. */
function scenarios(variables: string[]): Scenario[] {
  const allAtAll = Object.fromEntries(variables.map((name) => [name, 'all' as const]));
  const list: Scenario[] = [{ label: 'every variable at All', selection: allAtAll }];
  for (const name of variables) {
    const options = OPTIONS[name] ?? [];
    list.push({
      label: `${name} = ${options[0] ?? ''}`,
      selection: { ...allAtAll, [name]: options.slice(0, 1) },
    });
    list.push({
      label: `${name} = ${options.slice(-2).join(' + ')}`,
      selection: { ...allAtAll, [name]: options.slice(-2) },
    });
  }
  list.push({
    label: 'every variable at one value',
    selection: Object.fromEntries(variables.map((name) => [name, (OPTIONS[name] ?? []).slice(-1)])),
  });
  return list;
}

function selected(selection: Scenario['selection'], name: string, value: string | undefined): boolean {
  const choice = selection[name];
  return choice === undefined || choice === 'all' || (value !== undefined && choice.includes(value));
}

async function sendCalls(collector: CollectorProcess): Promise<void> {
  const endMs = Date.now() - 90_000;
  const spans = APIS.flatMap((api, index) =>
    Array.from({ length: 5 }, (_, call) =>
      auditJsonSpan(freshSpanId(), endMs - index * 1000 - call * 100, api.eventName, [
        stringAttribute('crumbtrail.event.source', api.eventSource),
        stringAttribute('user.name', 'John'),
      ]),
    ),
  );
  const answer = await postJsonExport(collector.otlpUrl, exportRequestJson(spans));
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 450; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('dashboard Prometheus queries, interpolated as Grafana does, against a real Prometheus', () => {
  let collector: CollectorProcess | undefined;
  let prometheus: PrometheusServer | undefined;

  before(async () => {
    // The calls are written first and the collector restarted on the same file: a collector
    // evaluates the minute that is due at start, then each next minute as it ends, so APIs that
    // appear after its first evaluation would get gauges only a minute later.
    const writer = await startCollectorProcess({ args: ['--no-insights'] });
    try {
      await sendCalls(writer);
    } finally {
      await writer.stop();
    }
    collector = await startCollectorProcess({
      dbPath: writer.dbPath,
      args: ['--insights-interval-seconds', '1', '--insights-lateness-seconds', '1'],
    });
    const metricsUrl = `${collector.apiUrl}/metrics`;
    await waitFor('the insight gauges of every API on /metrics', async () => {
      const text = await (await fetch(metricsUrl)).text();
      return APIS.every((api) => text.includes(`event_name="${api.eventName}"`));
    });
    prometheus = await startPrometheus({ targets: [new URL(collector.apiUrl).host], ruleFiles: [] });
    const server = prometheus;
    // Three scrapes at least: a range query ending now (whole seconds) then holds a sample of
    // every series, however the first scrape fell within its second.
    await waitFor('Prometheus to scrape the gauges three times', async () => {
      const outcome = await server.query('min(count_over_time(crumbtrail_insight_observed[1m])) >= 3', {
        range: false,
        rangeSeconds: 0,
      });
      return outcome.series.length === 1;
    });
  });

  after(async () => {
    await prometheus?.stop();
    await collector?.stop();
  });

  for (const { file, json } of loadProvisioning().dashboards) {
    const prometheusQueries = queriesOf(json).filter(
      (query) =>
        stringAt(query.datasource, 'type') === 'prometheus' && stringAt(query.query, 'expr') !== undefined,
    );
    if (prometheusQueries.length === 0) continue;
    const variableJson = variablesOf(json).filter((variable) =>
      ['query', 'custom'].includes(String(variable.type)),
    );
    const names = variableJson.map((variable) => String(variable.name));

    for (const scenario of scenarios(names)) {
      it(`${relativeToRepo(file)}, ${scenario.label}: every query runs and returns the selected APIs`, async () => {
        assert.ok(prometheus !== undefined, 'Prometheus did not start');
        const variables: DashboardVariable[] = variableJson.map((variable) =>
          dashboardVariable(
            variable,
            scenario.selection[String(variable.name)] ?? 'all',
            OPTIONS[String(variable.name)] ?? [],
          ),
        );
        const templateSrv = new ScenesTemplateSrv(variables);
        const everyAll = new ScenesTemplateSrv(
          variables.map((variable) => ({ ...variable, current: 'all' })),
        );
        const problems: string[] = [];
        for (const query of prometheusQueries) {
          const expr = stringAt(query.query, 'expr') ?? '';
          const range = query.query.range === true;
          const scoped = prometheusRangeVariables(RANGE_SECONDS);
          const interpolated = templateSrv.replace(expr, scoped, prometheusInterpolateQueryExpr);
          const outcome = await prometheus.query(interpolated, { range, rangeSeconds: RANGE_SECONDS });
          if (outcome.error !== undefined) {
            problems.push(`${query.where}: ${interpolated}\n  → ${outcome.error}`);
            continue;
          }
          // The right series: those of the same query at All, narrowed to the selection.
          const unfiltered = await prometheus.query(
            everyAll.replace(expr, scoped, prometheusInterpolateQueryExpr),
            {
              range,
              rangeSeconds: RANGE_SECONDS,
            },
          );
          const keys = (series: Record<string, string>[]) =>
            series.map((labels) => apiKey(labels.event_source, labels.event_name)).sort();
          const expected = unfiltered.series.filter(
            (labels) =>
              labels.event_source === undefined ||
              (selected(scenario.selection, 'eventSource', labels.event_source) &&
                selected(scenario.selection, 'eventName', labels.event_name)),
          );
          if (JSON.stringify(keys(outcome.series)) !== JSON.stringify(keys(expected))) {
            problems.push(
              `${query.where}: ${interpolated}\n  → ${keys(outcome.series).join(', ')}; expected ${keys(expected).join(', ')}`,
            );
          }
        }
        assert.deepEqual(problems, []);
      });
    }

    it(`${relativeToRepo(file)}: the per-API queries see every API at All (the checks above are not vacuous)`, async () => {
      assert.ok(prometheus !== undefined);
      const all = new ScenesTemplateSrv(
        variableJson.map((variable) =>
          dashboardVariable(variable, 'all', OPTIONS[String(variable.name)] ?? []),
        ),
      );
      const perApi = prometheusQueries.filter((query) =>
        /by \(event_source, event_name\)/.test(stringAt(query.query, 'expr') ?? ''),
      );
      assert.ok(perApi.length > 0);
      const seen = new Set<string>();
      for (const query of perApi) {
        const expr = all.replace(
          stringAt(query.query, 'expr') ?? '',
          prometheusRangeVariables(RANGE_SECONDS),
          prometheusInterpolateQueryExpr,
        );
        const outcome = await prometheus.query(expr, {
          range: query.query.range === true,
          rangeSeconds: RANGE_SECONDS,
        });
        for (const labels of outcome.series) seen.add(apiKey(labels.event_source, labels.event_name));
      }
      assert.deepEqual([...seen].sort(), APIS.map((api) => apiKey(api.eventSource, api.eventName)).sort());
    });
  }
});

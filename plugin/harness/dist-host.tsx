/*
 * A page that loads the BUILT plugins (dist/module.js, dist/panel/module.js) the way Grafana's
 * frontend does, since no Grafana server can run here: SystemJS with its AMD extra, Grafana's
 * shared modules registered under their package names (and nothing else, so a dependency the
 * build wrongly left external fails to load), each plugin imported from
 * public/plugins/<id>/module.js (so the bundle's public path comes from the module URL, as in
 * Grafana), its plugin.json read from beside it, and its logo loaded from there. It then drives
 * the datasource and the panel: an events query, the panel rendering its frames, and Download.
 *
 * It reports on the page: data-testid dist-host-status holds "ready" or "failed: <reason>".
 * dist-plugins.test.ts drives it in headless Chromium.
 */
// First: @grafana/runtime reads the boot data as it loads, @grafana/ui the public path.
import './grafana-boot-data';
import * as emotionCss from '@emotion/css';
import * as grafanaData from '@grafana/data';
import * as grafanaI18n from '@grafana/i18n';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import lodash from 'lodash';
import React from 'react';
import ReactDom from 'react-dom';
import { createRoot } from 'react-dom/client';
import * as jsxRuntime from 'react/jsx-runtime';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';
import { fetchBackendSrv } from '../test-support/fetch-backend-srv';
import { TestTemplateSrv } from '../test-support/template-srv';
import { DIST_HOST } from './dist-host-constants';

interface SystemJs {
  set(id: string, module: object): void;
  import(id: string): Promise<Record<string, unknown>>;
  addImportMap(map: { imports: Record<string, string> }): void;
}

declare global {
  interface Window {
    System: SystemJs;
  }
}

/**
 * Grafana's shared dependencies (public/app/features/plugins/loader/sharedDependencies.ts) that
 * this plugin's build may leave external. Default-export packages are registered as Grafana
 * registers them: { default, __useDefault }, which SystemJS's AMD extra unwraps.
 */
const SHARED: Record<string, object> = {
  '@emotion/css': emotionCss,
  '@grafana/data': grafanaData,
  '@grafana/i18n': grafanaI18n,
  '@grafana/runtime': grafanaRuntime,
  '@grafana/ui': grafanaUi,
  lodash: { default: lodash, __useDefault: true },
  react: { default: React, __useDefault: true },
  'react-dom': { default: ReactDom, __useDefault: true },
  'react/jsx-runtime': jsxRuntime,
  rxjs,
  'rxjs/operators': rxjsOperators,
};

function registerSharedDependencies() {
  const imports: Record<string, string> = {};
  for (const [name, module] of Object.entries(SHARED)) {
    window.System.set(`app:${name}`, module);
    imports[name] = `app:${name}`;
  }
  window.System.addImportMap({ imports });
}

interface PluginJson {
  id: string;
  type: string;
  info: { logos: { small: string } };
}

/** What Grafana does for a plugin: its plugin.json, its module, its logo, under public/plugins/<id>/. */
async function loadPlugin(id: string): Promise<{ json: PluginJson; exports: Record<string, unknown> }> {
  const base = `/public/plugins/${id}/`;
  const json = (await (await fetch(`${base}plugin.json`)).json()) as PluginJson;
  if (json.id !== id) {
    throw new Error(`${base}plugin.json has id ${json.id}`);
  }
  const exports = await window.System.import(`${base}module.js`);
  const logo = await fetch(`${base}${json.info.logos.small}`);
  if (!logo.ok) {
    throw new Error(`${id}: logo ${json.info.logos.small} answered ${logo.status}`);
  }
  return { json, exports };
}

function setStatus(text: string) {
  const element = document.getElementById('status');
  if (element !== null) {
    element.textContent = text;
  }
}

/**
 * SystemJS's AMD extra defines a global define(): loaded only now, after the shared modules ran,
 * or UMD packages among them (lodash) would register with it instead of exporting.
 */
function loadAmdExtra(): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = '/systemjs/extras/amd.js';
    script.onload = () => resolve();
    script.onerror = () => reject(new Error('SystemJS AMD extra did not load'));
    document.head.appendChild(script);
  });
}

async function main() {
  await loadAmdExtra();
  registerSharedDependencies();
  grafanaRuntime.setBackendSrv(fetchBackendSrv(window.location.origin));
  grafanaRuntime.setTemplateSrv(new TestTemplateSrv());

  const datasourcePlugin = await loadPlugin(DIST_HOST.datasourceId);
  const dsPlugin = datasourcePlugin.exports.plugin;
  if (!(dsPlugin instanceof grafanaData.DataSourcePlugin)) {
    throw new Error(`${DIST_HOST.datasourceId}/module.js exports no DataSourcePlugin named "plugin"`);
  }
  const instance = new dsPlugin.DataSourceClass({
    id: 1,
    uid: DIST_HOST.datasourceUid,
    type: datasourcePlugin.json.id,
    name: 'crumbtrail',
    url: `/api/datasources/proxy/uid/${DIST_HOST.datasourceUid}`,
    access: 'proxy',
    readOnly: false,
    jsonData: {},
    meta: datasourcePlugin.json,
  } as never) as grafanaData.DataSourceApi;
  grafanaRuntime.setDataSourceSrv({
    get: async () => instance,
    getList: () => [],
    getInstanceSettings: () => undefined,
    reload: () => {},
    registerRuntimeDataSource: () => {},
  } as unknown as grafanaRuntime.DataSourceSrv);

  const panelPlugin = await loadPlugin(DIST_HOST.panelId);
  const pPlugin = panelPlugin.exports.plugin;
  if (!(pPlugin instanceof grafanaData.PanelPlugin) || pPlugin.panel === null) {
    throw new Error(`${DIST_HOST.panelId}/module.js exports no PanelPlugin named "plugin"`);
  }

  // What Grafana's query runner sends for the panel: an events query over the story's range.
  const from = grafanaData.dateTime(DIST_HOST.fromMs);
  const to = grafanaData.dateTime(DIST_HOST.toMs);
  const range = { from, to, raw: { from, to } };
  const request = {
    requestId: 'dist-1',
    interval: '1m',
    intervalMs: 60_000,
    range,
    scopedVars: {},
    targets: [
      {
        refId: 'A',
        datasource: { type: datasourcePlugin.json.id, uid: DIST_HOST.datasourceUid },
        queryType: 'events',
        maxResults: 100,
      },
    ],
    timezone: 'utc',
    app: 'dashboard',
    startTime: Date.now(),
  } as unknown as grafanaData.DataQueryRequest;
  const answer = instance.query(request);
  const response = rxjs.isObservable(answer) ? await rxjs.lastValueFrom(answer) : await answer;
  const Panel = pPlugin.panel as unknown as React.ComponentType<Record<string, unknown>>;
  const theme = grafanaData.createTheme({ colors: { mode: 'dark' } });
  const data = { state: grafanaData.LoadingState.Done, series: response.data, timeRange: range, request };
  createRoot(document.getElementById('root') as HTMLElement).render(
    <grafanaUi.ThemeContext.Provider value={theme}>
      <Panel
        id={1}
        title="Event history"
        data={data}
        timeRange={range}
        timeZone="utc"
        // Grafana fills options from its editors registry, which is part of its app: the panel applies its own defaults.
        options={{}}
        fieldConfig={{ defaults: {}, overrides: [] }}
        transparent={false}
        width={1200}
        height={600}
        renderCounter={0}
        eventBus={new grafanaData.EventBusSrv()}
        replaceVariables={(value: string) => value}
        onOptionsChange={() => {}}
        onFieldConfigChange={() => {}}
        onChangeTimeRange={() => {}}
      />
    </grafanaUi.ThemeContext.Provider>
  );
  setStatus('ready');
}

main().catch((error: unknown) => {
  console.error(error);
  setStatus(`failed: ${error instanceof Error ? error.message : String(error)}`);
});

/*
 * The origin the built plugins are loaded from, laid out as Grafana's server lays it out (no
 * Grafana server can run here): public/plugins/<id>/ serves the built plugin folder (dist/, and
 * dist/panel/ for the nested panel), and /api/datasources/proxy/uid/<uid>/<route path>/ forwards
 * to the URL and headers of the datasource's plugin.json `routes`, their {{ .JsonData.x }} and
 * {{ .SecureJsonData.x }} templates filled in, as Grafana's data proxy does. The host page
 * (dist-host.tsx) is bundled beside SystemJS.
 */
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type DataProxy, startDataProxy } from '../test-support/grafana-data-proxy';
import { DIST_HOST } from './dist-host-constants';
import { harnessFiles } from './harness-server';

export const PLUGIN_DIST = resolve(__dirname, '../dist');
const SYSTEMJS_DIST = join(dirname(require.resolve('systemjs/package.json')), 'dist');

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>crumbtrail built plugins in a Grafana-like host</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="/host.css" />
    <script src="/systemjs/system.js"></script>
  </head>
  <body>
    <div id="status" data-testid="dist-host-status">loading</div>
    <div id="root"></div>
    <script type="module" src="/host.js"></script>
  </body>
</html>
`;

interface Route {
  path: string;
  url: string;
  headers?: Array<{ name: string; content: string }>;
}

export interface DatasourceSettings {
  jsonData: Record<string, string>;
  secureJsonData: Record<string, string>;
}

/** Grafana's route templates: {{ .JsonData.name }} and {{ .SecureJsonData.name }}. */
function fillTemplate(template: string, settings: DatasourceSettings): string {
  return template.replace(
    /\{\{\s*\.(JsonData|SecureJsonData)\.(\w+)\s*\}\}/g,
    (_whole, kind: string, name: string) =>
      (kind === 'JsonData' ? settings.jsonData : settings.secureJsonData)[name] ?? ''
  );
}

async function forward(target: string, headers: Record<string, string>, response: ServerResponse) {
  try {
    const upstream = await fetch(target, { headers });
    const body = Buffer.from(await upstream.arrayBuffer());
    response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
    response.end(body);
  } catch {
    response.writeHead(502, { 'content-type': 'text/plain' });
    response.end('Bad Gateway');
  }
}

/** Serves public/plugins/<id>/ from a plugin folder, and the datasource's routes. */
function grafanaLayout(distDir: string, settings: DatasourceSettings, page: ReturnType<typeof harnessFiles>) {
  const routes = (JSON.parse(readFileSync(join(distDir, 'plugin.json'), 'utf8')) as { routes?: Route[] }).routes ?? [];
  const folders: Record<string, string> = {
    [`/public/plugins/${DIST_HOST.datasourceId}/`]: distDir,
    [`/public/plugins/${DIST_HOST.panelId}/`]: join(distDir, 'panel'),
    '/systemjs/': SYSTEMJS_DIST,
  };
  const proxyPrefix = `/api/datasources/proxy/uid/${DIST_HOST.datasourceUid}/`;
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = request.url ?? '/';
    if (url.startsWith(proxyPrefix)) {
      const rest = url.slice(proxyPrefix.length);
      const route = routes.find((candidate) => rest === candidate.path || rest.startsWith(`${candidate.path}/`));
      if (route === undefined) {
        return false;
      }
      const headers = Object.fromEntries(
        (route.headers ?? []).map((header) => [header.name.toLowerCase(), fillTemplate(header.content, settings)])
      );
      void forward(
        `${fillTemplate(route.url, settings).replace(/\/+$/, '')}${rest.slice(route.path.length)}`,
        headers,
        response
      );
      return true;
    }
    for (const [prefix, folder] of Object.entries(folders)) {
      if (url.startsWith(prefix)) {
        // harnessFiles serves a folder's files by path (and refuses paths that leave it).
        return harnessFiles(folder)({ ...request, url: `/${url.slice(prefix.length)}` } as IncomingMessage, response);
      }
    }
    return page(request, response);
  };
}

export interface DistHost {
  origin: string;
  close(): Promise<void>;
}

/** Bundles the host page and serves it with the plugin folder `distDir` (dist/ by default). */
export async function startDistHost(settings: DatasourceSettings, distDir = PLUGIN_DIST): Promise<DistHost> {
  const outdir = mkdtempSync(join(tmpdir(), 'crumbtrail-dist-host-'));
  let proxy: DataProxy | undefined;
  try {
    await build({
      entryPoints: { host: join(__dirname, 'dist-host.tsx') },
      absWorkingDir: resolve(__dirname, '..'),
      outdir,
      bundle: true,
      platform: 'browser',
      // A module script (deferred): it runs after SystemJS's classic scripts, as Grafana's own bundle does.
      format: 'esm',
      target: 'chrome120',
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"development"', global: 'globalThis' },
      loader: { '.svg': 'file', '.png': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file', '.eot': 'file' },
      assetNames: 'assets/[name]-[hash]',
      logLevel: 'silent',
      banner: { css: '/* crumbtrail dist host */' },
    });
    writeFileSync(join(outdir, 'index.html'), INDEX_HTML);
    // The data proxy's own route is unused (another uid): this host forwards by plugin.json routes.
    proxy = await startDataProxy({
      uid: 'unused',
      collectorUrl: 'http://127.0.0.1:9',
      fallback: grafanaLayout(distDir, settings, harnessFiles(outdir)),
    });
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
  const started = proxy;
  return {
    origin: started.origin,
    close: async () => {
      await started.close();
      rmSync(outdir, { recursive: true, force: true });
    },
  };
}

/*
 * The harness page's origin, as Grafana's would be: the data-proxy stand-in forwards
 * /api/datasources/proxy/uid/crumbtrail-harness/collector/* to the real story collector, and
 * serves the built page and @grafana/ui's icons (under Grafana's public path) from the same origin.
 *
 *   node --import tsx plugin/harness/harness-server.ts
 * starts the collector, builds the page and prints its URL, for a look in a real browser.
 */
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { type DataProxy, startDataProxy } from '../test-support/grafana-data-proxy';
import { STORY, type StoryCollector, startStoryCollector } from '../test-support/story-collector';
import { buildHarness } from './build-harness';
import { HARNESS } from './harness-constants';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

/** @grafana/ui ships the icons Grafana serves under public/build/img/icons/. */
const ICONS_DIR = join(dirname(require.resolve('@grafana/ui/package.json')), 'dist/public/img/icons');
const ICONS_PREFIX = `${HARNESS.publicPath}build/img/icons/`;
/**
 * Icons @grafana/ui uses that only Grafana's server ships: a plain stand-in each, so the page
 * renders them; any other icon missing from @grafana/ui answers 404, which the test fails on.
 */
const STAND_IN_ICONS: Record<string, string> = {
  // The combobox's loading indicator (the Spinner spins it).
  'unicons/spinner.svg':
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2a10 10 0 0 1 10 10h-2a8 8 0 0 0-8-8z"/></svg>',
};

/** The file under `root` that `relative` names, or undefined if it leaves `root` or is no file. */
function fileUnder(root: string, relative: string): string | undefined {
  const file = normalize(join(root, decodeURIComponent(relative)));
  if (!file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
    return undefined;
  }
  return file;
}

function sendFile(response: ServerResponse, file: string) {
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
  });
  createReadStream(file).pipe(response);
}

/** The data proxy's `fallback`: the built page in `outdir`, and the icons. */
export function harnessFiles(outdir: string) {
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return false;
    }
    const path = new URL(request.url ?? '/', 'http://harness').pathname;
    const standIn = path.startsWith(ICONS_PREFIX) ? STAND_IN_ICONS[path.slice(ICONS_PREFIX.length)] : undefined;
    if (standIn !== undefined && fileUnder(ICONS_DIR, path.slice(ICONS_PREFIX.length)) === undefined) {
      response.writeHead(200, { 'content-type': CONTENT_TYPES['.svg'], 'cache-control': 'no-store' });
      response.end(standIn);
      return true;
    }
    const file = path.startsWith(ICONS_PREFIX)
      ? fileUnder(ICONS_DIR, path.slice(ICONS_PREFIX.length))
      : fileUnder(outdir, path === '/' ? 'index.html' : path.slice(1));
    if (file === undefined) {
      return false;
    }
    sendFile(response, file);
    return true;
  };
}

export interface Harness {
  collector: StoryCollector;
  proxy: DataProxy;
  /** The page's URL in a theme, over the story's time range. */
  pageUrl(theme: 'dark' | 'light'): string;
  close(): Promise<void>;
}

/** The story collector, the built page and the origin serving both. */
export async function startHarness(): Promise<Harness> {
  const [collector, built] = await Promise.all([startStoryCollector(), buildHarness()]);
  let proxy: DataProxy;
  try {
    proxy = await startDataProxy({
      uid: HARNESS.datasourceUid,
      collectorUrl: collector.apiUrl,
      apiToken: STORY.apiToken,
      fallback: harnessFiles(built.outdir),
    });
  } catch (error) {
    await collector.stop();
    rmSync(built.outdir, { recursive: true, force: true });
    throw error;
  }
  return {
    collector,
    proxy,
    pageUrl: (theme) => {
      const params = new URLSearchParams({
        theme,
        from: String(STORY.startMs),
        to: String(STORY.endMs),
        collectorUrl: collector.apiUrl,
      });
      return `${proxy.origin}/?${params.toString()}`;
    },
    close: async () => {
      await proxy.close();
      await collector.stop();
      rmSync(built.outdir, { recursive: true, force: true });
    },
  };
}

if (require.main === module) {
  startHarness().then(
    (harness) => {
      console.log(`harness page: ${harness.pageUrl('dark')}`);
      console.log(`              ${harness.pageUrl('light')}`);
      console.log('Ctrl-C stops the collector and the server.');
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => void harness.close().then(() => process.exit(0)));
      }
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    }
  );
}

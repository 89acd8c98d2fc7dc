/*
 * The harness page's origin, as Grafana's would be: the data-proxy stand-in forwards
 * /api/datasources/proxy/uid/crumbtrail-harness/collector/* to a real collector (the story
 * collector it starts, or any running one), and serves the built page and @grafana/ui's icons
 * (under Grafana's public path) from the same origin.
 *
 *   node --import tsx plugin/harness/harness-server.ts
 *   node --import tsx plugin/harness/harness-server.ts --collector-url http://127.0.0.1:8790 \
 *     --api-token TOKEN --from 2026-03-02T08:00Z --to 2026-03-02T10:30Z
 * builds the page, starts the story collector (first form) and prints the page's URL, for a look
 * in a real browser.
 */
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { type DataProxy, startDataProxy } from '../test-support/grafana-data-proxy';
import { STORY, startStoryCollector } from '../test-support/story-collector';
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

export interface HarnessOptions {
  /**
   * A running collector's query API, e.g. http://127.0.0.1:8790. Without it the harness starts the
   * story collector (test-support/story-collector.ts) and shows the story.
   */
  collectorUrl?: string;
  /** The token that collector requires (sent by the data-proxy stand-in, as Grafana's route does). */
  apiToken?: string;
  /** The page's time range, epoch ms: by default the story's, or the last hour for `collectorUrl`. */
  fromMs?: number;
  toMs?: number;
}

export interface Harness {
  /** The collector the page reads, through the data-proxy stand-in. */
  collectorUrl: string;
  apiToken: string | undefined;
  fromMs: number;
  toMs: number;
  proxy: DataProxy;
  /** The page's URL in a theme, over the time range. */
  pageUrl(theme: 'dark' | 'light'): string;
  close(): Promise<void>;
}

const HOUR_MS = 3_600_000;

interface Collector {
  url: string;
  apiToken: string | undefined;
  fromMs: number;
  toMs: number;
  stop(): Promise<void>;
}

/** The collector asked for, or the story collector over the story's range. */
async function collectorFor(options: HarnessOptions): Promise<Collector> {
  if (options.collectorUrl === undefined) {
    const story = await startStoryCollector();
    return {
      url: story.apiUrl,
      apiToken: STORY.apiToken,
      fromMs: options.fromMs ?? STORY.startMs,
      toMs: options.toMs ?? STORY.endMs,
      stop: () => story.stop(),
    };
  }
  const toMs = options.toMs ?? Date.now();
  return {
    url: options.collectorUrl.replace(/\/+$/, ''),
    apiToken: options.apiToken,
    fromMs: options.fromMs ?? toMs - HOUR_MS,
    toMs,
    // Someone else's collector: theirs to stop.
    stop: async () => {},
  };
}

/** The built page and the origin serving it, in front of `options.collectorUrl` or the story collector. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const { fromMs, toMs } = options;
  if ((fromMs !== undefined && !Number.isFinite(fromMs)) || (toMs !== undefined && !Number.isFinite(toMs))) {
    throw new Error(`startHarness: fromMs and toMs must be epoch milliseconds (got ${fromMs}, ${toMs})`);
  }
  const [collected, built] = await Promise.allSettled([collectorFor(options), buildHarness()]);
  if (collected.status === 'rejected' || built.status === 'rejected') {
    if (collected.status === 'fulfilled') {
      await collected.value.stop();
    }
    if (built.status === 'fulfilled') {
      rmSync(built.value.outdir, { recursive: true, force: true });
    }
    throw collected.status === 'rejected' ? collected.reason : (built as PromiseRejectedResult).reason;
  }
  const collector = collected.value;
  const { outdir } = built.value;
  const cleanUp = async () => {
    await collector.stop();
    rmSync(outdir, { recursive: true, force: true });
  };
  if (!(collector.fromMs < collector.toMs)) {
    await cleanUp();
    throw new Error(
      `startHarness: the time range must not be empty (fromMs ${collector.fromMs}, toMs ${collector.toMs})`
    );
  }
  let proxy: DataProxy;
  try {
    proxy = await startDataProxy({
      uid: HARNESS.datasourceUid,
      collectorUrl: collector.url,
      apiToken: collector.apiToken,
      fallback: harnessFiles(outdir),
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  return {
    collectorUrl: collector.url,
    apiToken: collector.apiToken,
    fromMs: collector.fromMs,
    toMs: collector.toMs,
    proxy,
    // The page reads its time range (and the datasource's collectorUrl setting) from the URL.
    pageUrl: (theme) => {
      const params = new URLSearchParams({
        theme,
        from: String(collector.fromMs),
        to: String(collector.toMs),
        collectorUrl: collector.url,
      });
      return `${proxy.origin}/?${params.toString()}`;
    },
    close: async () => {
      try {
        await proxy.close();
      } finally {
        await cleanUp();
      }
    },
  };
}

/** `--collector-url URL [--api-token T] [--from ISO] [--to ISO]`, or nothing for the story. */
function optionsFromArgs(args: string[]): HarnessOptions {
  const { values } = parseArgs({
    args,
    options: {
      'collector-url': { type: 'string' },
      'api-token': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
  });
  const time = (text: string | undefined) => (text === undefined ? undefined : Date.parse(text));
  return {
    collectorUrl: values['collector-url'],
    apiToken: values['api-token'] ?? process.env.CRUMBTRAIL_API_TOKEN,
    fromMs: time(values.from),
    toMs: time(values.to),
  };
}

if (require.main === module) {
  startHarness(optionsFromArgs(process.argv.slice(2))).then(
    (harness) => {
      console.log(`harness page: ${harness.pageUrl('dark')}`);
      console.log(`              ${harness.pageUrl('light')}`);
      console.log('Ctrl-C stops the server (and the story collector, if it started one).');
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

/*
 * The BUILT plugins (dist/module.js, dist/panel/module.js, as `npm run build` makes them and users
 * install them) loaded in headless Chromium the way Grafana's frontend loads them: SystemJS with
 * its AMD extra, Grafana's shared modules as the only externals, public/plugins/<id>/ URLs, the
 * datasource's plugin.json routes for its requests (dist-host.tsx, dist-host-server.ts). No
 * Grafana server can run here: the host page and the route-following proxy stand in for it.
 * Against the real collector serving the audit story, the test runs an events query through the
 * built datasource, renders the built panel, expands an event and downloads every matching event
 * as CSV. Copies of dist/ with a wrong external, a missing export, a missing file or a broken
 * route must fail to load.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { PanelSelectors } from '../src/components/selectors';
import { EVENT_CSV_HEADERS } from '../src/shared/event-csv';
import { STORY, type StoryCollector, startStoryCollector } from '../test-support/story-collector';
import { harnessContext, launchChromium, watchPage } from './chromium';
import { type DatasourceSettings, type DistHost, PLUGIN_DIST, startDistHost } from './dist-host-server';

let collector: StoryCollector | undefined;
let browser: Browser | undefined;

function settings(): DatasourceSettings {
  assert.ok(collector !== undefined, 'the story collector did not start');
  return { jsonData: { collectorUrl: collector.apiUrl }, secureJsonData: { apiToken: STORY.apiToken } };
}

before(async () => {
  assert.ok(
    existsSync(join(PLUGIN_DIST, 'module.js')) && existsSync(join(PLUGIN_DIST, 'panel/module.js')),
    'no plugin/dist: run `npm run build` first (npm test does)'
  );
  const [story, chromium] = await Promise.allSettled([startStoryCollector(), launchChromium()]);
  collector = story.status === 'fulfilled' ? story.value : undefined;
  browser = chromium.status === 'fulfilled' ? chromium.value : undefined;
  for (const outcome of [story, chromium]) {
    if (outcome.status === 'rejected') {
      throw outcome.reason;
    }
  }
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await collector?.stop();
  }
});

/** Opens the host page over `distDir` and waits for it to report; returns the status and problems. */
async function load(distDir: string, steps?: (page: import('playwright-core').Page) => Promise<void>) {
  assert.ok(browser !== undefined, 'Chromium did not start');
  const host: DistHost = await startDistHost(settings(), distDir);
  const context = await harnessContext(browser);
  try {
    const page = await context.newPage();
    const watched = watchPage(page);
    await page.goto(`${host.origin}/`);
    const status = page.getByTestId('dist-host-status');
    await page.waitForFunction(
      () => (document.getElementById('status')?.textContent ?? 'loading') !== 'loading',
      undefined,
      { timeout: 30_000 }
    );
    const text = (await status.textContent()) ?? '';
    if (text === 'ready' && steps !== undefined) {
      await steps(page);
    }
    return { status: text, problems: watched.problems };
  } finally {
    await context.close();
    await host.close();
  }
}

/** A copy of dist/ changed by `change`, removed after `run`. */
async function withBrokenCopy<T>(change: (dir: string) => void, run: (dir: string) => Promise<T>): Promise<T> {
  const dir = join(mkdtempSync(join(tmpdir(), 'crumbtrail-dist-copy-')), 'dist');
  try {
    cpSync(PLUGIN_DIST, dir, { recursive: true });
    change(dir);
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function edit(file: string, from: RegExp, to: string) {
  const text = readFileSync(file, 'utf8');
  const changed = text.replace(from, to);
  assert.notEqual(changed, text, `${file}: nothing matched ${String(from)}`);
  writeFileSync(file, changed);
}

describe('the built plugins, loaded as Grafana loads them', () => {
  it('load, query the collector through the plugin.json route, render events, expand one, download all as CSV', async () => {
    let csv = '';
    const { status, problems } = await load(PLUGIN_DIST, async (page) => {
      const table = page.getByRole('table', { name: PanelSelectors.table });
      await table.waitFor();
      const toggles = page.getByRole('button', { name: /^Record of / });
      assert.ok((await toggles.count()) > 5, 'the panel shows the events the built datasource returned');
      await toggles.first().click();
      const json = await page.getByTestId(PanelSelectors.recordJson).textContent();
      assert.match(json ?? '', /"eventID"/);
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 30_000 }),
        page.getByRole('button', { name: PanelSelectors.downloadCsv }).click(),
      ]);
      assert.equal(download.suggestedFilename(), 'crumbtrail-events.csv');
      const path = await download.path();
      csv = readFileSync(path, 'utf8');
      await page.getByText(/^Downloaded [\d,]+ events as CSV$/).waitFor();
    });
    assert.equal(status, 'ready');
    assert.deepEqual(problems, []);
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines[0], EVENT_CSV_HEADERS.join(','));
    // Every matching event, not only the query's 100 rows.
    assert.ok(lines.length - 1 > 1000, `${lines.length - 1} events downloaded`);
  });

  it('a build that leaves a non-shared module external fails to load', async () => {
    const outcome = await withBrokenCopy(
      (dir) => edit(join(dir, 'module.js'), /define\(\["@emotion\/css",/, 'define(["@emotion/css","left-external",'),
      (dir) => load(dir)
    );
    assert.match(outcome.status, /^failed: /);
  });

  it('a panel module without its "plugin" export fails to load', async () => {
    const outcome = await withBrokenCopy(
      (dir) => edit(join(dir, 'panel/module.js'), /\{plugin:\(\)=>/, '{plugin_:()=>'),
      (dir) => load(dir)
    );
    assert.match(outcome.status, /failed: crumbtrail-eventhistory-panel\/module\.js exports no PanelPlugin/);
  });

  it('a file missing from the plugin folder (its logo) fails to load', async () => {
    const outcome = await withBrokenCopy(
      (dir) => unlinkSync(join(dir, 'panel/img/logo.svg')),
      (dir) => load(dir)
    );
    assert.match(outcome.status, /failed: crumbtrail-eventhistory-panel: logo img\/logo\.svg answered 404/);
  });

  it('a plugin.json route the datasource does not call fails its queries', async () => {
    const outcome = await withBrokenCopy(
      (dir) => edit(join(dir, 'plugin.json'), /"path": "collector"/, '"path": "api"'),
      (dir) => load(dir)
    );
    assert.match(outcome.status, /^failed: /);
  });
});

/*
 * Screenshots of the plugin against any running collector, for end-to-end tests of a whole stack:
 * the harness page (the real query editor, event-history panel and a call-rate chart with the
 * insights as regions) in Grafana's dark and light themes, in headless Chromium.
 *
 *   const shots = await captureStackScreenshots({
 *     collectorUrl: 'http://127.0.0.1:8790', apiToken: 'token',
 *     fromMs: Date.now() - 15 * 60_000, toMs: Date.now(),
 *     directory: 'screenshots/e2e', namePrefix: 'stack',
 *   });
 *   // shots.dark, shots.light: the PNGs; shots.regions: the insights drawn on the chart.
 *
 * It fails (after saving <namePrefix>-<theme>-failed.png) if the page logs an error, a query fails,
 * the event history has no rows or the chart no series.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { harnessContext, launchChromium, settledScreenshot, watchPage } from './chromium';
import { harnessTestIds } from './harness-constants';
import {
  chartSeriesCount,
  type DrawnRegion,
  drawnRegions,
  eventRowCount,
  waitForChart,
  waitForEventHistory,
} from './harness-page';
import { type Harness, startHarness } from './harness-server';

export interface StackScreenshotOptions {
  /** The collector's query API, e.g. http://127.0.0.1:8790. */
  collectorUrl: string;
  /** The token the collector requires, if any. */
  apiToken?: string;
  /** The time range to show, epoch ms: it must hold events. */
  fromMs: number;
  toMs: number;
  /** Where the PNGs go (created if missing). */
  directory: string;
  /** File names are <namePrefix>-dark.png and <namePrefix>-light.png; "crumbtrail" by default. */
  namePrefix?: string;
}

export interface StackScreenshots {
  dark: string;
  light: string;
  /** What the dark page showed: its event rows, chart series and insight regions. */
  rows: number;
  series: number;
  regions: Array<Pick<DrawnRegion, 'title' | 'startMs' | 'endMs'>>;
}

/** A real collector and demo services answer slower than the story's: allow for it. */
const RENDER_TIMEOUT_MS = 30_000;

type Theme = 'dark' | 'light';

async function capture(browser: Browser, harness: Harness, theme: Theme, file: string) {
  const context = await harnessContext(browser);
  try {
    const watched = watchPage(await context.newPage());
    const { page } = watched;
    try {
      await page.goto(harness.pageUrl(theme));
      await waitForEventHistory(page, RENDER_TIMEOUT_MS);
      await waitForChart(page, RENDER_TIMEOUT_MS);
      const rows = await eventRowCount(page);
      if (rows === 0) {
        throw new Error('the event history shows no rows: does the collector hold events in the time range?');
      }
      const series = await chartSeriesCount(page);
      if (series === 0) {
        throw new Error('the call-rate chart shows no series');
      }
      // The plot has drawn once its overlay is there; the regions are laid out with it.
      await page.getByTestId(harnessTestIds.insightRegions).waitFor({ timeout: RENDER_TIMEOUT_MS });
      await settledScreenshot(watched, file);
      if (watched.problems.length > 0) {
        throw new Error('the page logged errors');
      }
      const regions = (await drawnRegions(page)).map(({ title, startMs, endMs }) => ({ title, startMs, endMs }));
      return { rows, series, regions };
    } catch (error) {
      await page.screenshot({ path: file.replace(/\.png$/, '-failed.png'), fullPage: true }).catch(() => {});
      const message = error instanceof Error ? error.message : String(error);
      // The page's own errors say why a query failed (e.g. the collector's 401 or the proxy's 502).
      const problems = watched.problems.length > 0 ? `\npage errors:\n${watched.problems.join('\n')}` : '';
      throw new Error(`stack screenshot (${theme}) of ${harness.collectorUrl}: ${message}${problems}`, {
        cause: error,
      });
    }
  } finally {
    await context.close();
  }
}

/** Saves dark and light full-page screenshots of the harness page against `collectorUrl`. */
export async function captureStackScreenshots(options: StackScreenshotOptions): Promise<StackScreenshots> {
  const { collectorUrl, apiToken, fromMs, toMs } = options;
  if (collectorUrl.trim() === '') {
    throw new Error('captureStackScreenshots: collectorUrl is empty');
  }
  const directory = resolve(options.directory);
  mkdirSync(directory, { recursive: true });
  const file = (theme: Theme) => join(directory, `${options.namePrefix ?? 'crumbtrail'}-${theme}.png`);

  const [started, launched] = await Promise.allSettled([
    startHarness({ collectorUrl, apiToken, fromMs, toMs }),
    launchChromium(),
  ]);
  try {
    if (started.status === 'rejected') {
      throw started.reason;
    }
    if (launched.status === 'rejected') {
      throw launched.reason;
    }
    const dark = await capture(launched.value, started.value, 'dark', file('dark'));
    await capture(launched.value, started.value, 'light', file('light'));
    return { dark: file('dark'), light: file('light'), ...dark };
  } finally {
    if (launched.status === 'fulfilled') {
      await launched.value.close();
    }
    if (started.status === 'fulfilled') {
      await started.value.close();
    }
  }
}

/**
 * From the command line, for tests outside the plugin (the whole-stack end-to-end test runs the
 * plugin's code in a process of its own, under the plugin's TypeScript settings):
 *   node --import tsx plugin/harness/stack-screenshots.ts --collector-url URL --from ISO --to ISO \
 *     --directory DIR [--api-token T] [--name-prefix P]
 * prints the StackScreenshots as one JSON line.
 */
if (require.main === module) {
  const { values } = parseArgs({
    options: {
      'collector-url': { type: 'string' },
      'api-token': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      directory: { type: 'string' },
      'name-prefix': { type: 'string' },
    },
  });
  const collectorUrl = values['collector-url'];
  const directory = values.directory;
  const fromMs = Date.parse(values.from ?? '');
  const toMs = Date.parse(values.to ?? '');
  if (collectorUrl === undefined || directory === undefined || Number.isNaN(fromMs) || Number.isNaN(toMs)) {
    console.error('usage: stack-screenshots.ts --collector-url URL --from ISO --to ISO --directory DIR');
    process.exit(2);
  }
  captureStackScreenshots({
    collectorUrl,
    fromMs,
    toMs,
    directory,
    ...(values['api-token'] === undefined ? {} : { apiToken: values['api-token'] }),
    ...(values['name-prefix'] === undefined ? {} : { namePrefix: values['name-prefix'] }),
  }).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    }
  );
}

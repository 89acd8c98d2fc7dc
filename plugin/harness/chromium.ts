/*
 * Headless Debian Chromium for the harness page (harness.test.ts, stack-screenshots.ts): how it is
 * launched, what counts as the page going wrong, and when the page has finished loading what it
 * shows, so a screenshot never catches a half-loaded icon.
 */
import { existsSync } from 'node:fs';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type ConsoleMessage,
  type Page,
  type Request,
} from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Wide enough for the page's 1200 px panels; the screenshots are full-page whatever the height. */
export const VIEWPORT = { width: 1280, height: 1100 };

/** Chromium as the tests run it: headless, sandbox-less (containers), quiet on the network. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install the Debian package chromium (npm test's pretest does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A context with the harness's viewport; every step is quick, so a missing element fails in seconds. */
export async function harnessContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  context.setDefaultTimeout(10_000);
  return context;
}

/**
 * Grafana's fonts ship with Grafana's server, not with @grafana/ui, so the page's requests for them
 * fail and text falls back to the system's sans-serif. Nothing else may log an error.
 */
function isExpectedConsoleError(message: ConsoleMessage): boolean {
  const url = message.location().url;
  return (
    message.text().startsWith('Failed to load resource') &&
    url !== '' &&
    new URL(url).pathname.startsWith('/public/fonts/')
  );
}

/** Polls `check` until it holds, for states no single element's presence shows. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

export interface WatchedPage {
  page: Page;
  /** Page errors and unexpected console errors so far, as text. */
  problems: string[];
  /** Resolves once no request is under way, and still none a moment later. */
  settled(): Promise<void>;
}

/** Watches a new page for errors and for the requests it has under way (icons load after rendering). */
export function watchPage(page: Page): WatchedPage {
  const problems: string[] = [];
  const pending = new Set<Request>();
  page.on('request', (request) => pending.add(request));
  page.on('requestfinished', (request) => pending.delete(request));
  page.on('requestfailed', (request) => pending.delete(request));
  page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !isExpectedConsoleError(message)) {
      problems.push(`console error: ${message.text()} (${message.location().url})`);
    }
  });
  return {
    page,
    problems,
    settled: () =>
      until('the page to finish loading what it shows', async () => {
        if (pending.size > 0) {
          return false;
        }
        // Still none a moment later: nothing rendered in between asked for more.
        await new Promise((resolveWait) => setTimeout(resolveWait, 100));
        return pending.size === 0;
      }),
  };
}

/** A full-page screenshot once the page has settled, with no hover state left by the pointer. */
export async function settledScreenshot(watched: WatchedPage, path: string) {
  await watched.page.mouse.move(0, 0);
  await watched.settled();
  await watched.page.screenshot({ path, fullPage: true });
}

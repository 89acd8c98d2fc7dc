/*
 * The plugin in a real browser (headless Debian Chromium through playwright-core): the harness
 * page's real query editor and event-history panel, in Grafana's dark and light themes, against
 * the real collector serving the audit story through the data-proxy stand-in. The test uses the
 * editor as a user would, checks the panel shows what the collector answers for the same lookup,
 * expands events, and saves screenshots under <repo>/screenshots/plugin-harness/ (git-ignored).
 * Any page error or unexpected console error fails it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type ConsoleMessage, type Page, type Request } from 'playwright-core';
import { PanelSelectors, Selectors } from '../src/components/selectors';
import type { AuditRecord } from '../src/shared/cloudtrail-record';
import { STORY } from '../test-support/story-collector';
import { harnessTestIds } from './harness-constants';
import { type Harness, startHarness } from './harness-server';

const SCREENSHOTS = resolve(__dirname, '../../screenshots/plugin-harness');
const CHROMIUM = '/usr/bin/chromium';
/** How many of the newest rows are compared one by one (the table renders only those in view). */
const COMPARED_ROWS = 10;

let harness: Harness | undefined;
let browser: Browser | undefined;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install the Debian package chromium (npm test's pretest does)`);
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  const launched = chromium.launch({
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
  // Whichever fails, the other is still closed in `after`.
  const [started, chromiumBrowser] = await Promise.allSettled([startHarness(), launched]);
  harness = started.status === 'fulfilled' ? started.value : undefined;
  browser = chromiumBrowser.status === 'fulfilled' ? chromiumBrowser.value : undefined;
  for (const outcome of [started, chromiumBrowser]) {
    if (outcome.status === 'rejected') {
      throw outcome.reason;
    }
  }
});

after(async () => {
  await browser?.close();
  await harness?.close();
});

function started(): { harness: Harness; browser: Browser } {
  assert.ok(harness !== undefined && browser !== undefined, 'the harness or Chromium did not start');
  return { harness, browser };
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

/** Runs `steps` on a new page in `theme`; fails on page errors and console errors, with a screenshot. */
async function onPage(theme: 'dark' | 'light', name: string, steps: (page: Page) => Promise<void>) {
  const { harness: running, browser: chromiumBrowser } = started();
  const context = await chromiumBrowser.newContext({ viewport: { width: 1280, height: 1100 }, deviceScaleFactor: 1 });
  // Every step is quick; a missing element should fail in seconds, not at the default 30 s.
  context.setDefaultTimeout(10_000);
  const problems: string[] = [];
  try {
    const page = await context.newPage();
    const pending = new Set<Request>();
    inFlight.set(page, pending);
    page.on('request', (request) => pending.add(request));
    page.on('requestfinished', (request) => pending.delete(request));
    page.on('requestfailed', (request) => pending.delete(request));
    page.on('pageerror', (error) => problems.push(`page error: ${error.stack ?? error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !isExpectedConsoleError(message)) {
        problems.push(`console error: ${message.text()} (${message.location().url})`);
      }
    });
    try {
      await page.goto(running.pageUrl(theme));
      await steps(page);
    } catch (error) {
      await page.screenshot({ path: join(SCREENSHOTS, `failed-${name}.png`), fullPage: true }).catch(() => {});
      throw error;
    }
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, [], 'the page logged errors');
}

/** Polls `check` until it holds, for states no single element's presence shows. */
async function until(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/** Each page's requests under way (icons load on their own after rendering). */
const inFlight = new WeakMap<Page, Set<Request>>();

async function screenshot(page: Page, file: string) {
  // The pointer must not leave a hover state behind.
  await page.mouse.move(0, 0);
  await until('the page to finish loading what it shows', async () => {
    if ((inFlight.get(page)?.size ?? 0) > 0) {
      return false;
    }
    // Still none a moment later: nothing rendered in between asked for more.
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    return (inFlight.get(page)?.size ?? 0) === 0;
  });
  await page.screenshot({ path: join(SCREENSHOTS, file), fullPage: true });
}

/** Waits until the panel shows the result of `query` (as the datasource displays it) and ad-hoc filters. */
async function waitForResult(page: Page, query: string, adHoc = '') {
  const panel = `[data-testid="${harnessTestIds.panel}"]`;
  await page.locator(`${panel}[data-state="Done"][data-query="${query}"][data-ad-hoc="${adHoc}"]`).waitFor();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The same lookup, asked of the collector directly with its API token. */
async function collectorEvents(params: Record<string, string>): Promise<AuditRecord[]> {
  const search = new URLSearchParams({ ...params, startTime: iso(STORY.startMs), endTime: iso(STORY.endMs) });
  const response = await fetch(`${started().harness.collector.apiUrl}/api/v1/events?${search.toString()}`, {
    headers: { authorization: `Bearer ${STORY.apiToken}` },
  });
  assert.equal(response.status, 200, `collector lookup ${search.toString()}`);
  return ((await response.json()) as { events: AuditRecord[] }).events;
}

/** A record as the panel's default columns show it: event time (UTC), user, event, resource type and name. */
function expectedCells(record: AuditRecord): string[] {
  const resource = record.resources?.[0];
  return [
    iso(Date.parse(record.eventTime)).slice(0, 19).replace('T', ' '),
    record.userIdentity?.userName ?? '',
    record.eventName ?? '',
    resource?.type ?? '',
    resource?.name ?? '',
  ];
}

interface ShownRow {
  cells: string[];
  /** The error or insight badge's text. */
  badge: string;
  severity: string | null;
  expanded: string | null;
}

/**
 * The rows the panel's table renders (those in view and a few more), in order, and its row count.
 * (No named functions inside: tsx's esbuild would wrap them in a helper the page does not have.)
 */
async function shownRows(page: Page): Promise<{ count: number; rows: ShownRow[] }> {
  return page.getByRole('table', { name: PanelSelectors.table }).evaluate((table) => {
    const rows = [...table.querySelectorAll<HTMLElement>('[role="row"][data-index]')]
      .sort((a, b) => Number(a.dataset.index) - Number(b.dataset.index))
      .map((row) => {
        // The first cell holds the expand toggle; an expanded record is a cell spanning the row.
        const cells = [...row.querySelectorAll<HTMLElement>(':scope > [role="cell"]:not([aria-colspan])')].slice(1);
        return {
          // A cell's value, then maybe the row's error or insight badge.
          cells: cells.map(
            (cell) => cell.querySelector(':scope > time, :scope > button, :scope > span')?.textContent?.trim() ?? ''
          ),
          badge: cells
            .flatMap((cell) => [...cell.children].slice(1).map((child) => child.textContent?.trim() ?? ''))
            .join(' '),
          severity: row.getAttribute('data-severity'),
          expanded: row.getAttribute('aria-expanded'),
        };
      });
    return { count: Number(table.getAttribute('aria-rowcount')) - 1, rows };
  });
}

/** Adds a filter with the editor's button and gives it one value, typed and confirmed with Enter. */
async function addFilter(page: Page, field: { label: string; name: string }, value: string) {
  await page.getByRole('button', { name: Selectors.addFilter }).click();
  // A new filter starts on the first field not filtered yet (Event name); pick the wanted one. The
  // field's combobox is labelled by its row's label.
  const fieldBox = page.getByRole('combobox', { name: 'Filter', exact: true });
  if ((await fieldBox.inputValue()) !== field.label) {
    await fieldBox.click();
    await page.getByRole('option', { name: field.label, exact: true }).click();
  }
  const values = page.getByRole('combobox', { name: Selectors.filterValues(field.name) });
  await values.click();
  await values.pressSequentially(value);
  // The collector's own suggestion for what was typed, once the suggestions have caught up with the
  // typing (they load after a pause): the only option left, highlighted with a key press.
  const options = page.getByRole('listbox').getByRole('option');
  await until(`the suggestions to be just ${value}`, async () => {
    const shown = await options.allInnerTexts();
    return shown.length === 1 && shown[0].trim() === value;
  });
  await values.press('ArrowDown');
  await page.getByRole('option', { name: value, exact: true, selected: true }).waitFor();
  await values.press('Enter');
  // Leave the field, as a user moving on does: that closes the menu and clears the typed text.
  await values.blur();
  await page.getByRole('listbox').waitFor({ state: 'detached' });
}

/** The expanded record's pretty-printed JSON. */
async function recordJson(page: Page): Promise<string> {
  const text = await page.getByTestId(PanelSelectors.recordJson).textContent();
  assert.ok(text !== null, 'no record JSON shown');
  return text;
}

async function canvasIsDark(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const [red, green, blue] = (getComputedStyle(document.body).backgroundColor.match(/\d+/g) ?? []).map(Number);
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255 < 0.5;
  });
}

test('dark theme: the newest events of the story, then Event name = CreateUser typed in, John creating Mary expanded with the keyboard', async () => {
  await onPage('dark', 'dark', async (page) => {
    await waitForResult(page, 'events');
    assert.equal(await canvasIsDark(page), true, 'the dark theme has a dark canvas');

    const newest = await collectorEvents({ maxResults: '100' });
    let shown = await shownRows(page);
    assert.equal(shown.count, newest.length);
    assert.deepEqual(
      shown.rows.slice(0, COMPARED_ROWS).map((row) => row.cells),
      newest.slice(0, COMPARED_ROWS).map(expectedCells)
    );
    const insights = page.getByTestId(harnessTestIds.insights);
    await insights.getByText('Unusual call rate: RunInstances').waitFor();
    await screenshot(page, 'dark-story.png');

    await addFilter(page, { label: 'Event name', name: 'eventName' }, 'CreateUser');
    await waitForResult(page, 'events eventName=CreateUser');
    const created = await collectorEvents({ eventName: 'CreateUser' });
    assert.deepEqual(created.map(expectedCells), [['2026-03-02 09:30:12', 'John', 'CreateUser', 'User', 'Mary']]);
    shown = await shownRows(page);
    assert.equal(shown.count, 1);
    assert.deepEqual(
      shown.rows.map((row) => row.cells),
      created.map(expectedCells)
    );
    assert.equal(shown.rows[0].severity, 'info');
    assert.equal(shown.rows[0].expanded, 'false');

    // Keyboard: the row is the tab stop; Enter expands it.
    await page.locator('[role="row"][data-index="0"]').focus();
    await page.keyboard.press('Enter');
    const json = await recordJson(page);
    assert.equal((await shownRows(page)).rows[0].expanded, 'true');
    const toggle = page.getByRole('button', { name: PanelSelectors.toggleRecord('John CreateUser User/Mary') });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.match(json, /^ {2}"eventName": "CreateUser",$/m);
    assert.match(json, /^ {4}"userName": "John"/m);
    assert.deepEqual(JSON.parse(json), created[0]);
    await screenshot(page, 'dark-createuser-expanded.png');
  });
});

test('light theme: a value click adds an ad-hoc filter, then Error code = AccessDenied shows mallory denied, expanded with a click', async () => {
  await onPage('light', 'light', async (page) => {
    await waitForResult(page, 'events');
    assert.equal(await canvasIsDark(page), false, 'the light theme has a light canvas');

    // A click on a value filters the "dashboard" (the harness's ad-hoc filters) on it.
    const [first] = (await shownRows(page)).rows;
    const user = first.cells[1];
    await page
      .getByRole('button', { name: PanelSelectors.filterBy('username', user) })
      .first()
      .click();
    await waitForResult(page, 'events', `username=${user}`);
    const usersEvents = await collectorEvents({ username: user, maxResults: '100' });
    let shown = await shownRows(page);
    assert.equal(shown.count, usersEvents.length);
    assert.deepEqual(
      shown.rows.slice(0, COMPARED_ROWS).map((row) => row.cells),
      usersEvents.slice(0, COMPARED_ROWS).map(expectedCells)
    );
    await page.getByTestId(harnessTestIds.adHoc).getByRole('button', { name: 'Clear' }).click();
    await waitForResult(page, 'events');

    await addFilter(page, { label: 'Error code', name: 'errorCode' }, 'AccessDenied');
    await waitForResult(page, 'events errorCode=AccessDenied');
    const denied = await collectorEvents({ errorCode: 'AccessDenied' });
    assert.deepEqual(denied.map(expectedCells), [['2026-03-02 09:35:30', 'mallory', 'DeleteUser', 'User', 'Mary']]);
    shown = await shownRows(page);
    assert.equal(shown.count, 1);
    assert.deepEqual(
      shown.rows.map((row) => row.cells),
      denied.map(expectedCells)
    );
    assert.equal(shown.rows[0].severity, 'error');
    assert.equal(shown.rows[0].badge, 'AccessDenied');
    assert.equal(shown.rows[0].expanded, 'false');

    await page
      .getByRole('button', { name: PanelSelectors.toggleRecord('mallory DeleteUser User/Mary failed: AccessDenied') })
      .click();
    const json = await recordJson(page);
    assert.equal((await shownRows(page)).rows[0].expanded, 'true');
    assert.match(json, /^ {2}"errorCode": "AccessDenied",$/m);
    assert.deepEqual(JSON.parse(json), denied[0]);
    await screenshot(page, 'light-accessdenied-expanded.png');
  });
});

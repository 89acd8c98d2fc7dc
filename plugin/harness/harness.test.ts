/*
 * The plugin in a real browser (headless Debian Chromium through playwright-core): the harness
 * page's real query editor and event-history panel, in Grafana's dark and light themes, against
 * the real collector serving the audit story through the data-proxy stand-in. The test uses the
 * editor as a user would, checks the panel shows what the collector answers for the same lookup,
 * expands events, checks the call-rate chart draws the story's insight as a region over exactly its
 * Start→End, and saves screenshots under <repo>/screenshots/plugin-harness/ (git-ignored).
 * Any page error or unexpected console error fails it.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PanelSelectors, Selectors } from '../src/components/selectors';
import type { AuditRecord, InsightSummary } from '../src/shared/cloudtrail-record';
import { STORY } from '../test-support/story-collector';
import { harnessContext, launchChromium, settledScreenshot, until, type WatchedPage, watchPage } from './chromium';
import { harnessTestIds } from './harness-constants';
import { chartSeriesCount, drawnRegions, waitForChart } from './harness-page';
import { type Harness, startHarness } from './harness-server';

const SCREENSHOTS = resolve(__dirname, '../../screenshots/plugin-harness');
/** How many of the newest rows are compared one by one (the table renders only those in view). */
const COMPARED_ROWS = 10;

let harness: Harness | undefined;
let browser: Browser | undefined;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Whichever fails, the other is still closed in `after`.
  const [started, chromiumBrowser] = await Promise.allSettled([startHarness(), launchChromium()]);
  harness = started.status === 'fulfilled' ? started.value : undefined;
  browser = chromiumBrowser.status === 'fulfilled' ? chromiumBrowser.value : undefined;
  for (const outcome of [started, chromiumBrowser]) {
    if (outcome.status === 'rejected') {
      throw outcome.reason;
    }
  }
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await harness?.close();
  }
});

function started(): { harness: Harness; browser: Browser } {
  assert.ok(harness !== undefined && browser !== undefined, 'the harness or Chromium did not start');
  return { harness, browser };
}

/** Each page's watcher, for its screenshots to wait on. */
const watchers = new WeakMap<Page, WatchedPage>();

/** Runs `steps` on a new page in `theme`; fails on page errors and console errors, with a screenshot. */
async function onPage(theme: 'dark' | 'light', name: string, steps: (page: Page) => Promise<void>) {
  const { harness: running, browser: chromiumBrowser } = started();
  const context = await harnessContext(chromiumBrowser);
  let problems: string[] = [];
  try {
    const watched = watchPage(await context.newPage());
    const { page } = watched;
    watchers.set(page, watched);
    problems = watched.problems;
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

async function screenshot(page: Page, file: string) {
  const watched = watchers.get(page);
  assert.ok(watched !== undefined, 'a page not opened by onPage');
  await settledScreenshot(watched, join(SCREENSHOTS, file));
}

/** Waits until the panel shows the result of `query` (as the datasource displays it) and ad-hoc filters. */
async function waitForResult(page: Page, query: string, adHoc = '') {
  const panel = `[data-testid="${harnessTestIds.panel}"]`;
  await page.locator(`${panel}[data-state="Done"][data-query="${query}"][data-ad-hoc="${adHoc}"]`).waitFor();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** GET `path` of the collector's query API directly, with its API token, over the story's range. */
async function collectorGet<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const search = new URLSearchParams({ ...params, startTime: iso(STORY.startMs), endTime: iso(STORY.endMs) });
  const response = await fetch(`${started().harness.collectorUrl}${path}?${search.toString()}`, {
    headers: { authorization: `Bearer ${STORY.apiToken}` },
  });
  assert.equal(response.status, 200, `collector ${path}?${search.toString()}`);
  return (await response.json()) as T;
}

/** The same lookup, asked of the collector directly. */
async function collectorEvents(params: Record<string, string>): Promise<AuditRecord[]> {
  return (await collectorGet<{ events: AuditRecord[] }>('/api/v1/events', params)).events;
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

/** The event names the collector counts calls of in the story's range. */
async function collectorEventNames(): Promise<string[]> {
  const { series } = await collectorGet<{ series: Array<{ group?: string }> }>('/api/v1/stats/calls', {
    groupBy: 'eventName',
  });
  return series.map((entry) => entry.group ?? '');
}

/**
 * The story's insights, as the datasource's insights frame (insights-frame.ts) turns them into
 * annotation regions: time = start, timeEnd = end (the range's end while active), the title.
 * (@grafana/data needs a browser, so the frame itself is not built here.)
 */
async function expectedRegions(): Promise<Array<{ title: string; startMs: number; endMs: number }>> {
  const { insights } = await collectorGet<{ insights: InsightSummary[] }>('/api/v1/insights');
  return insights.map((insight) => ({
    title: `${insight.insightType === 'ApiErrorRateInsight' ? 'Unusual error rate' : 'Unusual call rate'}: ${insight.eventName}`,
    startMs: Date.parse(insight.startTime),
    endMs: insight.endTime === null ? STORY.endMs : Date.parse(insight.endTime),
  }));
}

/**
 * The chart shows a series per event name the collector counts, and the story's insight as a
 * region with its title over exactly its Start→End stretch of the plotting area.
 */
async function checkChart(page: Page) {
  await waitForChart(page, 10_000);
  const names = await collectorEventNames();
  assert.equal(await chartSeriesCount(page), names.length);
  // The legend (DOM, unlike the canvas) names every series.
  const chartText = await page.getByTestId(harnessTestIds.chart).innerText();
  for (const name of names) {
    assert.ok(chartText.includes(name), `the legend names ${name}`);
  }
  const expected = await expectedRegions();
  assert.deepEqual(
    expected.map((region) => region.title),
    ['Unusual call rate: RunInstances']
  );
  await until('the insight regions to be drawn', async () => (await drawnRegions(page)).length === expected.length);
  const drawn = await drawnRegions(page);
  assert.deepEqual(
    drawn.map(({ title, startMs, endMs }) => ({ title, startMs, endMs })),
    expected
  );
  const xOf = (plot: { x: number; width: number }, ms: number) =>
    plot.x + ((ms - STORY.startMs) / (STORY.endMs - STORY.startMs)) * plot.width;
  for (const region of drawn) {
    assert.ok(Math.abs(region.box.x - xOf(region.plot, region.startMs)) < 1.5, `${region.title} starts at its Start`);
    assert.ok(
      Math.abs(region.box.x + region.box.width - xOf(region.plot, region.endMs)) < 1.5,
      `${region.title} ends at its End`
    );
    assert.ok(region.box.y >= region.plot.y - 0.5 && region.box.height <= region.plot.height + 0.5, 'within the plot');
    await page
      .getByTestId(harnessTestIds.insightRegion)
      .getByText(region.title, { exact: true })
      .waitFor({ state: 'visible' });
  }
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
    await checkChart(page);
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
    await checkChart(page);
    await screenshot(page, 'light-story.png');

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

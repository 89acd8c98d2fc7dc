/*
 * What the harness page shows, read in Chromium (playwright-core) from the data attributes its
 * parts carry: whether the event history and the call-rate chart have rendered or failed, how many
 * rows and series they show, and where the insight regions are drawn.
 */
import type { Page } from 'playwright-core';
import { PanelSelectors } from '../src/components/selectors';
import { harnessTestIds } from './harness-constants';

type Box = { x: number; y: number; width: number; height: number };

export interface DrawnRegion {
  /** From the region's data attributes: the insights frame's title, time and timeEnd. */
  title: string;
  startMs: number;
  endMs: number;
  /** The region's and the plotting area's boxes on the page, in CSS pixels. */
  box: Box;
  plot: Box;
}

const testId = (id: string) => `[data-testid="${id}"]`;

/**
 * Waits until the part with test id `id` is Done or Error; fails on Error with the part's message.
 * (`data-state` is Grafana's LoadingState; `data-error` the message the part shows.)
 */
async function waitForDone(page: Page, id: string, what: string, timeoutMs: number, extra = '') {
  const part = page.locator(`${testId(id)}${extra}:is([data-state="Done"], [data-state="Error"])`);
  try {
    await part.waitFor({ timeout: timeoutMs });
  } catch (error) {
    const state = await page
      .locator(testId(id))
      .getAttribute('data-state', { timeout: 1000 })
      .catch(() => null);
    throw new Error(`${what} did not render in ${timeoutMs} ms (state ${state ?? 'absent'})`, { cause: error });
  }
  if ((await part.getAttribute('data-state')) === 'Error') {
    throw new Error(`${what} failed: ${(await part.getAttribute('data-error')) ?? 'no message'}`);
  }
}

/** Waits for the event history's `events` query to render; fails if it failed. */
export async function waitForEventHistory(page: Page, timeoutMs: number) {
  await waitForDone(page, harnessTestIds.panel, 'the event history', timeoutMs, '[data-query="events"]');
}

/** Waits for the chart's call-rate and insights queries to render; fails if either failed. */
export async function waitForChart(page: Page, timeoutMs: number) {
  await waitForDone(page, harnessTestIds.chart, 'the call-rate chart', timeoutMs);
}

/** The event history's row count (none when the panel says the range has no events). */
export async function eventRowCount(page: Page): Promise<number> {
  const table = page.getByRole('table', { name: PanelSelectors.table });
  if ((await table.count()) === 0) {
    return 0;
  }
  return Number(await table.getAttribute('aria-rowcount')) - 1;
}

export async function chartSeriesCount(page: Page): Promise<number> {
  return Number(await page.getByTestId(harnessTestIds.chart).getAttribute('data-series'));
}

/** The insight regions drawn on the chart (none until the plot has drawn). */
export async function drawnRegions(page: Page): Promise<DrawnRegion[]> {
  const overlay = page.getByTestId(harnessTestIds.insightRegions);
  if ((await overlay.count()) === 0) {
    return [];
  }
  const plot = await overlay.boundingBox();
  if (plot === null) {
    throw new Error('the insight regions overlay is not laid out');
  }
  const regions: DrawnRegion[] = [];
  for (const region of await overlay.getByTestId(harnessTestIds.insightRegion).all()) {
    const box = await region.boundingBox();
    if (box === null) {
      throw new Error('an insight region is not laid out');
    }
    regions.push({
      title: (await region.getAttribute('data-title')) ?? '',
      startMs: Number(await region.getAttribute('data-start-ms')),
      endMs: Number(await region.getAttribute('data-end-ms')),
      box,
      plot,
    });
  }
  return regions;
}

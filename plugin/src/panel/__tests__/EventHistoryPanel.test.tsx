import { locationService } from '@grafana/runtime';
import { type AdHocFilterItem, PanelContextProvider } from '@grafana/ui';
import { applyFieldOverrides, createTheme, EventBusSrv } from '@grafana/data';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import React, { type ReactElement } from 'react';
import { PanelSelectors } from '../../components/selectors';
import { callRateFrames } from '../../datasource/call-rate-frames';
import { eventsFrame } from '../../datasource/events-frame';
import type { AuditRecord } from '../../shared/cloudtrail-record';
import { EventHistoryPanel } from '../EventHistoryPanel';
import { accessDenied, createUser, manyEvents, panelProps, twoQueries } from '../test-support/fixtures';
import type { Options } from '../types';

function table() {
  return screen.getByRole('table', { name: PanelSelectors.table });
}

/** The event rows in the DOM (the header row excluded), top to bottom. */
function eventRowElements(): HTMLElement[] {
  return within(table())
    .getAllByRole('row')
    .filter((row) => row.hasAttribute('data-index'));
}

function headers(): string[] {
  return within(table())
    .getAllByRole('columnheader')
    .map((header) => header.textContent ?? '')
    .filter((text) => text !== 'Record');
}

const JOHN_CREATES_MARY = 'John CreateUser User/Mary';
const MARY_DENIED = `Mary DeleteBucket Bucket/audit-logs failed: ${accessDenied.errorCode}`;
/** The insight's summary goes on with the insight's figures. */
const INSIGHT_TOGGLE = /^Record of Insight Start: ApiCallRateInsight on CreateUser: /;

/** An event's expand toggle, named after the event's summary line (the frame's body). */
function toggleOf(summary: string | RegExp): HTMLElement {
  const name = typeof summary === 'string' ? PanelSelectors.toggleRecord(summary) : summary;
  return screen.getByRole('button', { name });
}

/** The row of an event, found by its toggle. */
function rowOf(summary: string | RegExp): HTMLElement {
  return toggleOf(summary).closest<HTMLElement>('[role="row"]') as HTMLElement;
}

function renderPanel(options: Partial<Options> = {}, series = twoQueries()) {
  return render(<EventHistoryPanel {...panelProps(series, options)} />);
}

function withAdHocFilters(panel: ReactElement, onAddAdHocFilter: (item: AdHocFilterItem) => void) {
  return (
    <PanelContextProvider value={{ eventsScope: 'panel', eventBus: new EventBusSrv(), onAddAdHocFilter }}>
      {panel}
    </PanelContextProvider>
  );
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('EventHistoryPanel', () => {
  it("shows CloudTrail console's columns by default", () => {
    renderPanel();
    expect(headers()).toEqual(['Event time', 'User name', 'Event name', 'Resource type', 'Resource name']);
    const cells = within(rowOf(JOHN_CREATES_MARY))
      .getAllByRole('cell')
      .map((cell) => cell.textContent);
    expect(cells).toEqual(['', '2024-05-14 09:30:00', 'John', 'CreateUser', 'User', 'Mary']);
  });

  it('lists the events of all queries newest first', () => {
    renderPanel();
    const times = eventRowElements().map((row) => row.querySelector('time')?.getAttribute('datetime'));
    expect(times).toEqual([
      '2024-05-14T10:05:00.000Z',
      '2024-05-14T09:45:00.000Z',
      '2024-05-14T09:30:00.000Z',
      '2024-05-14T08:00:00.000Z',
    ]);
    expect(eventRowElements().map((row) => row.getAttribute('aria-rowindex'))).toEqual(['2', '3', '4', '5']);
  });

  it('shows the columns the options choose, in their order', () => {
    const { rerender } = renderPanel();
    const columns: Options['columns'] = ['eventName', 'errorCode', 'sourceIPAddress', 'awsRegion'];
    rerender(<EventHistoryPanel {...panelProps(twoQueries(), { columns })} />);
    expect(headers()).toEqual(['Event name', 'Error code', 'Source IP address', 'AWS region']);
    const cells = within(rowOf(MARY_DENIED))
      .getAllByRole('cell')
      .map((cell) => cell.textContent);
    expect(cells).toEqual(['', 'DeleteBucketAccessDenied', 'AccessDenied', '198.51.100.23', 'eu-west-1']);
  });

  it('falls back to the default columns when none are chosen', () => {
    renderPanel({ columns: [] });
    expect(headers()).toEqual(['Event time', 'User name', 'Event name', 'Resource type', 'Resource name']);
  });

  it('expands a row to its pretty-printed record, with a copy button', async () => {
    const user = userEvent.setup();
    renderPanel();
    const toggle = toggleOf(JOHN_CREATES_MARY);
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByTestId(PanelSelectors.recordJson)).not.toBeInTheDocument();

    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const json = screen.getByTestId(PanelSelectors.recordJson);
    expect(json.textContent).toBe(JSON.stringify(JSON.parse(JSON.stringify(createUser)), null, 2));
    expect(json.textContent).toContain('\n  "eventName": "CreateUser",\n');
    // Grafana copies with the Clipboard API in secure contexts only; jsdom does not say it is one.
    Object.defineProperty(window, 'isSecureContext', { configurable: true, value: true });
    try {
      await user.click(within(rowOf(JOHN_CREATES_MARY)).getByRole('button', { name: PanelSelectors.copyRecord }));
      await expect(navigator.clipboard.readText()).resolves.toBe(json.textContent);
    } finally {
      Reflect.deleteProperty(window, 'isSecureContext');
    }

    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(screen.queryByTestId(PanelSelectors.recordJson)).not.toBeInTheDocument();
  });

  it("offers the event's data links when expanded: the single-event view and its trace", async () => {
    const user = userEvent.setup();
    // Grafana gives panel fields getLinks when it applies field config: do the same.
    const traced = { ...createUser, crumbtrail: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' } } as AuditRecord;
    const frame = eventsFrame('A', [traced], {
      datasourceUid: 'crumbtrail',
      datasourceName: 'crumbtrail',
      traceDatasourceUid: 'tempo',
    });
    const series = applyFieldOverrides({
      data: [frame],
      fieldConfig: { defaults: {}, overrides: [] },
      replaceVariables: (value) => value,
      theme: createTheme(),
      timeZone: 'utc',
    });
    render(<EventHistoryPanel {...panelProps(series)} />);
    await user.click(toggleOf(JOHN_CREATES_MARY));
    const row = rowOf(JOHN_CREATES_MARY);
    expect(within(row).getByRole('link', { name: 'Show this event' })).toBeInTheDocument();
    expect(within(row).getByRole('link', { name: 'Open trace' })).toBeInTheDocument();
  });

  it('expands the focused row with Enter and collapses it with Space', async () => {
    const user = userEvent.setup();
    renderPanel();
    const row = rowOf(JOHN_CREATES_MARY);
    act(() => row.focus());
    expect(row).toHaveFocus();

    await user.keyboard('{Enter}');
    expect(toggleOf(JOHN_CREATES_MARY)).toHaveAttribute('aria-expanded', 'true');
    expect(row).toHaveAttribute('aria-expanded', 'true');
    expect(within(row).getByTestId(PanelSelectors.recordJson)).toBeInTheDocument();

    await user.keyboard(' ');
    expect(toggleOf(JOHN_CREATES_MARY)).toHaveAttribute('aria-expanded', 'false');
  });

  it('keeps one row in the tab order and moves between rows with arrow keys', async () => {
    const user = userEvent.setup();
    renderPanel();
    const rows = eventRowElements();
    expect(rows.map((row) => row.tabIndex)).toEqual([0, -1, -1, -1]);

    await user.tab();
    expect(rows[0]).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(rows[1]).toHaveFocus();
    expect(eventRowElements().map((row) => row.tabIndex)).toEqual([-1, 0, -1, -1]);
    await user.keyboard('{End}');
    expect(rows[3]).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(rows[2]).toHaveFocus();
  });

  it('adds an ad-hoc filter when a lookup value is clicked', async () => {
    const user = userEvent.setup();
    const onAddAdHocFilter = jest.fn();
    const partial = jest.spyOn(locationService, 'partial').mockImplementation(() => {});
    render(withAdHocFilters(<EventHistoryPanel {...panelProps(twoQueries())} />, onAddAdHocFilter));

    await user.click(screen.getByRole('button', { name: 'Filter by username = Mary' }));
    expect(onAddAdHocFilter).toHaveBeenCalledWith({ key: 'username', value: 'Mary', operator: '=' });
    await user.click(screen.getByRole('button', { name: 'Filter by resourceType = Bucket' }));
    expect(onAddAdHocFilter).toHaveBeenLastCalledWith({ key: 'resourceType', value: 'Bucket', operator: '=' });
    expect(partial).not.toHaveBeenCalled();
  });

  it('sets the variable named after the field without an ad-hoc filter handler', async () => {
    const user = userEvent.setup();
    const partial = jest.spyOn(locationService, 'partial').mockImplementation(() => {});
    renderPanel();

    await user.click(screen.getByRole('button', { name: 'Filter by eventName = DeleteBucket' }));
    expect(partial).toHaveBeenCalledWith({ 'var-eventName': 'DeleteBucket' }, true);
  });

  it('sets the variable when the option says so, even with an ad-hoc filter handler', async () => {
    const user = userEvent.setup();
    const onAddAdHocFilter = jest.fn();
    const partial = jest.spyOn(locationService, 'partial').mockImplementation(() => {});
    const props = panelProps(twoQueries(), { valueClick: 'variable' });
    render(withAdHocFilters(<EventHistoryPanel {...props} />, onAddAdHocFilter));

    await user.click(screen.getByRole('button', { name: 'Filter by username = Mary' }));
    expect(partial).toHaveBeenCalledWith({ 'var-username': 'Mary' }, true);
    expect(onAddAdHocFilter).not.toHaveBeenCalled();
  });

  it('offers no filter on the event time, user agent, region and event ID', () => {
    renderPanel({ columns: ['eventTime', 'userAgent', 'awsRegion', 'id', 'readOnly'] });
    const row = rowOf(JOHN_CREATES_MARY);
    const filters = within(row)
      .getAllByRole('button')
      .map((button) => button.getAttribute('aria-label'));
    expect(filters).toEqual([PanelSelectors.toggleRecord(JOHN_CREATES_MARY), 'Filter by readOnly = false']);
  });

  it('marks failed calls and insights differently, with the error code visible', () => {
    renderPanel();
    const failed = rowOf(MARY_DENIED);
    const insight = rowOf(INSIGHT_TOGGLE);
    const call = rowOf(JOHN_CREATES_MARY);
    expect(failed).toHaveAttribute('data-severity', 'error');
    expect(within(failed).getByText('AccessDenied')).toBeInTheDocument();
    expect(insight).toHaveAttribute('data-severity', 'insight');
    // The insight names the API it is about, from insightDetails.
    expect(within(insight).getByRole('button', { name: 'Filter by eventName = CreateUser' })).toBeInTheDocument();
    expect(within(insight).queryByText('AccessDenied')).not.toBeInTheDocument();
    expect(call).toHaveAttribute('data-severity', 'info');
    expect(within(call).queryByText('Insight')).not.toBeInTheDocument();
  });

  it('renders only a window of 10,000 rows and moves it on scroll', () => {
    renderPanel({}, [manyEvents(10_000)]);
    expect(table()).toHaveAttribute('aria-rowcount', '10001');
    const rendered = eventRowElements();
    expect(rendered.length).toBeGreaterThan(5);
    expect(rendered.length).toBeLessThan(50);
    expect(within(rendered[0]).getByText('user-0')).toBeInTheDocument();

    const scroller = table().parentElement as HTMLElement;
    Object.defineProperty(scroller, 'scrollTop', { configurable: true, value: 33 * 5_000 });
    fireEvent.scroll(scroller);
    const indexes = eventRowElements().map((row) => Number(row.getAttribute('data-index')));
    expect(indexes.length).toBeLessThan(50);
    expect(indexes).toContain(5_000);
    // The focused (tabbable) first row stays rendered so keyboard focus is never lost.
    expect(indexes).toContain(0);
    expect(screen.queryByText('user-2000')).not.toBeInTheDocument();
  });

  it('moves focus to the last of 10,000 rows with End', async () => {
    const user = userEvent.setup();
    renderPanel({}, [manyEvents(10_000)]);
    await user.tab();
    await user.keyboard('{End}');
    expect(document.activeElement).toHaveAttribute('data-index', '9999');
    expect(within(document.activeElement as HTMLElement).getByText('user-9999')).toBeInTheDocument();
  });

  it('says there are no events in the time range', () => {
    renderPanel({}, []);
    expect(screen.getByText('No events in this time range')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('names the query type that returns events when the queries return other frames', () => {
    const callRate = callRateFrames('A', { step: 60, groupBy: null, series: [{ points: [[0, 1]] }] });
    renderPanel({}, callRate);
    expect(screen.getByText('No events in this time range')).toBeInTheDocument();
    expect(screen.getByText(/Choose the query type/)).toHaveTextContent(
      'Choose the query type Events of the crumbtrail datasource'
    );
  });
});

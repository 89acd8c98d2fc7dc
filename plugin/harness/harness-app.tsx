/*
 * The browser harness page (no Grafana server can run here): the plugin's real query editor and
 * event-history panel, in Grafana's theme, wired to a real collector through the data-proxy
 * stand-in that also serves this page, so the page and /api/datasources/proxy/… share one origin
 * as in Grafana. Editing the query runs it, as in Grafana's panel editor; the panel shows the
 * frames. Above them, a call-rate chart with the insights as regions (call-rate-chart.tsx), as a
 * dashboard's overview graph. Built by build-harness.ts, driven in headless Chromium by
 * harness.test.ts (the story) and stack-screenshots.ts (any collector).
 *
 * URL parameters: theme=dark|light (grafana-boot-data.ts); from/to and collectorUrl
 * (harness-datasource.ts).
 */
// First: @grafana/runtime reads the boot data as it loads, @grafana/ui the public path.
import { themeMode } from './grafana-boot-data';
import { css } from '@emotion/css';
import {
  type AdHocVariableFilter,
  createTheme,
  EventBusSrv,
  type FieldConfigSource,
  type GrafanaTheme2,
  LoadingState,
  type PanelData,
} from '@grafana/data';
import { toDataQueryError } from '@grafana/runtime';
import {
  type AdHocFilterItem,
  Alert,
  GlobalStyles,
  PanelChrome,
  PanelContextProvider,
  ThemeContext,
  useStyles2,
} from '@grafana/ui';
import React, { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryEditor } from '../src/components/QueryEditor';
import { EventHistoryPanel } from '../src/panel/EventHistoryPanel';
import { DEFAULT_OPTIONS, type Options } from '../src/panel/types';
import { type AuditQuery, DEFAULT_QUERY } from '../src/types';
import { CallRateChart } from './call-rate-chart';
import { harnessTestIds } from './harness-constants';
import { datasource, range, request } from './harness-datasource';
import { type InsightsState, useInsights } from './insights';

const theme = createTheme({ colors: { mode: themeMode } });

const fieldConfig: FieldConfigSource = { defaults: {}, overrides: [] };
const PANEL = { width: 1200, height: 600 };
const CHART = { width: PANEL.width, height: 320 };

/** The insights of the time range, as text: what the chart's regions stand for. */
function InsightList({ insights }: { insights: InsightsState }) {
  const styles = useStyles2(getStyles);
  if (insights.state === 'error') {
    return <Alert title={`Insights: ${insights.message}`} severity="error" />;
  }
  return (
    <section className={styles.box} aria-label="Insights" data-testid={harnessTestIds.insights}>
      <h6 className={styles.heading}>Insights in the time range</h6>
      {insights.state === 'loading' ? (
        <p className={styles.muted}>Loading…</p>
      ) : insights.regions.length === 0 ? (
        <p className={styles.muted}>None</p>
      ) : (
        <ul className={styles.list}>
          {insights.regions.map((region, index) => (
            <li key={index}>
              <strong>{region.title}</strong> — {region.text}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Harness() {
  const styles = useStyles2(getStyles);
  const insights = useInsights();
  const [query, setQuery] = useState<AuditQuery>({ refId: 'A', ...DEFAULT_QUERY });
  const [adHoc, setAdHoc] = useState<AdHocVariableFilter[]>([]);
  const [data, setData] = useState<PanelData>({ state: LoadingState.NotStarted, series: [], timeRange: range });
  // The query editor calls onChange and then onRunQuery in one go: run what it changed to.
  const latest = useRef({ query, adHoc });
  const running = useRef('');

  const runQuery = useCallback(() => {
    const next = request([latest.current.query], latest.current.adHoc);
    running.current = next.requestId;
    setData((previous) => ({ ...previous, state: LoadingState.Loading, request: next }));
    // The newest request wins, as Grafana's query runner cancels the one before.
    datasource.query(next).then(
      (response) => {
        if (running.current === next.requestId) {
          setData({ state: LoadingState.Done, series: response.data, timeRange: range, request: next });
        }
      },
      (failure: unknown) => {
        if (running.current === next.requestId) {
          const error = toDataQueryError(failure);
          setData({ state: LoadingState.Error, series: [], timeRange: range, request: next, errors: [error], error });
        }
      }
    );
  }, []);

  useEffect(runQuery, [runQuery]);

  const onChange = useCallback((next: AuditQuery) => {
    latest.current = { ...latest.current, query: next };
    setQuery(next);
  }, []);

  const setAdHocFilters = useCallback(
    (filters: AdHocVariableFilter[]) => {
      latest.current = { ...latest.current, adHoc: filters };
      setAdHoc(filters);
      runQuery();
    },
    [runQuery]
  );

  // A dashboard with an ad-hoc filter variable: the panel's value clicks add to it.
  const eventBus = useMemo(() => new EventBusSrv(), []);
  const panelContext = useMemo(
    () => ({
      eventsScope: 'global',
      eventBus,
      onAddAdHocFilter: (item: AdHocFilterItem) =>
        setAdHocFilters([
          ...latest.current.adHoc.filter((filter) => filter.key !== item.key),
          { key: item.key, operator: item.operator, value: item.value },
        ]),
    }),
    [eventBus, setAdHocFilters]
  );

  // What the panel's data answers, for the test to wait on: the query and the ad-hoc filters it ran with.
  const ran = data.request?.targets[0] as AuditQuery | undefined;
  const ranText = ran === undefined ? '' : datasource.getQueryDisplayText(ran);
  const ranAdHoc = (data.request?.filters ?? []).map((filter) => `${filter.key}${filter.operator}${filter.value}`);
  const errorMessage = data.errors?.[0]?.message;

  // A dashboard's layout: the overview graph and what its regions stand for, then the table's
  // query and the table, all on one dashboard (one panel context, one event bus).
  return (
    <PanelContextProvider value={panelContext}>
      <main className={styles.page}>
        <CallRateChart insights={insights} width={CHART.width} height={CHART.height} />
        <InsightList insights={insights} />
        <section className={styles.box} aria-label="Query A" data-testid={harnessTestIds.editor}>
          <h6 className={styles.heading}>Query A · crumbtrail</h6>
          <QueryEditor
            query={query}
            datasource={datasource}
            range={range}
            data={data}
            onChange={onChange}
            onRunQuery={runQuery}
          />
        </section>
        <section className={styles.adHoc} aria-label="Ad-hoc filters" data-testid={harnessTestIds.adHoc}>
          Ad-hoc filters:{' '}
          {adHoc.length === 0
            ? 'none'
            : adHoc.map((filter) => `${filter.key} ${filter.operator} ${filter.value}`).join(', ')}
          {adHoc.length > 0 && (
            <button type="button" className={styles.linkButton} onClick={() => setAdHocFilters([])}>
              Clear
            </button>
          )}
        </section>
        {errorMessage !== undefined && <Alert title={`Query failed: ${errorMessage}`} severity="error" />}
        <div
          data-testid={harnessTestIds.panel}
          data-state={data.state}
          data-query={ranText}
          data-ad-hoc={ranAdHoc.join(' ')}
          data-error={errorMessage}
        >
          <PanelChrome
            title="Event history"
            width={PANEL.width}
            height={PANEL.height}
            loadingState={data.state}
            statusMessage={errorMessage}
          >
            {(width, height) => (
              <EventHistoryPanel
                id={1}
                data={data}
                timeRange={range}
                timeZone="utc"
                options={DEFAULT_OPTIONS satisfies Options}
                transparent={false}
                width={width}
                height={height}
                fieldConfig={fieldConfig}
                renderCounter={0}
                title="Event history"
                eventBus={eventBus}
                onOptionsChange={() => {}}
                onFieldConfigChange={() => {}}
                replaceVariables={(value) => value}
                onChangeTimeRange={() => {}}
              />
            )}
          </PanelChrome>
        </div>
      </main>
    </PanelContextProvider>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  page: css({
    display: 'flex',
    flexDirection: 'column',
    gap: theme.spacing(2),
    padding: theme.spacing(2),
    width: PANEL.width + 32,
  }),
  box: css({
    padding: theme.spacing(1, 2),
    background: theme.colors.background.primary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
  }),
  heading: css({
    margin: theme.spacing(0, 0, 1),
  }),
  list: css({
    margin: 0,
    paddingLeft: theme.spacing(2),
  }),
  muted: css({
    margin: 0,
    color: theme.colors.text.secondary,
  }),
  adHoc: css({
    color: theme.colors.text.secondary,
  }),
  linkButton: css({
    marginLeft: theme.spacing(1),
    background: 'none',
    border: 'none',
    padding: 0,
    color: theme.colors.text.link,
    cursor: 'pointer',
  }),
});

const container = document.getElementById('root');
if (container === null) {
  throw new Error('the harness page has no #root element');
}
document.documentElement.dataset.theme = themeMode;
createRoot(container).render(
  <ThemeContext.Provider value={theme}>
    <GlobalStyles />
    <Harness />
  </ThemeContext.Provider>
);

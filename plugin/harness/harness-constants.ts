/* What the harness page (browser) and its server and test (Node) agree on. */
export const HARNESS = {
  /** The datasource instance's uid: its data-proxy route is /api/datasources/proxy/uid/<uid>/collector/… */
  datasourceUid: 'crumbtrail-harness',
  /** Grafana's public path; @grafana/ui's icons are served under <publicPath>build/img/icons/. */
  publicPath: '/public/',
  /** The time range when the page URL names none: the audit story's, 2026-03-02 08:00–10:30 UTC. */
  defaultFromMs: Date.parse('2026-03-02T08:00:00.000Z'),
  defaultToMs: Date.parse('2026-03-02T10:30:00.000Z'),
} as const;

/** data-testid values of the harness page's own parts (the plugin's have accessible names). */
export const harnessTestIds = {
  editor: 'harness-query-editor',
  panel: 'harness-panel',
  adHoc: 'harness-ad-hoc-filters',
  insights: 'harness-insights',
  chart: 'harness-call-rate-chart',
  /** The overlay over the chart's plotting area, and each insight's region in it. */
  insightRegions: 'harness-insight-regions',
  insightRegion: 'harness-insight-region',
} as const;

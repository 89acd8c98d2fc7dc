/* Accessible names shared by the editors, the panel and their tests (jest and the browser). */
export const Selectors = {
  queryType: 'Query type',
  addFilter: 'Add filter',
  filterValues: (field: string) => `Values of ${field}`,
  removeFilter: (field: string) => `Remove ${field} filter`,
  freeText: 'Free text',
  maxResults: 'Max results',
  groupBy: 'Group by',
  maxSeries: 'Max series',
  insightType: 'Insight type',
  insightState: 'State',
  collectorUrl: 'Collector URL',
  apiToken: 'API token',
  traceDatasource: 'Trace datasource',
  variableField: 'Values of',
} as const;

/* Accessible names of the event-history panel (src/panel), for its tests and e2e tests. */
export const PanelSelectors = {
  table: 'Event history',
  /** The row's expand toggle; its state is aria-expanded, so the name does not change with it. */
  toggleRecord: (summary: string) => `Record of ${summary}`,
  filterBy: (field: string, value: string) => `Filter by ${field} = ${value}`,
  recordJson: 'Event record JSON',
  copyRecord: 'Copy JSON',
  downloadCsv: 'Download events as CSV',
  downloadJson: 'Download events as JSON',
  cancelDownload: 'Cancel download',
  downloadStatus: 'Download status',
} as const;

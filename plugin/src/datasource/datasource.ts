/*
 * The crumbtrail datasource: event-history lookups, call-rate series and Insights from the
 * collector's query API, with variables, ad-hoc filters, annotations and Logs-panel filters.
 */
import {
  type AdHocVariableFilter,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  DataSourceApi,
  type DataSourceGetTagValuesOptions,
  type DataSourceInstanceSettings,
  type DataSourceWithQueryModificationSupport,
  type DataSourceWithToggleableQueryFiltersSupport,
  type MetricFindValue,
  type QueryFilterOptions,
  type QueryFixAction,
  type ScopedVars,
  type TestDataSourceResponse,
  type TimeRange,
  type ToggleFilterAction,
} from '@grafana/data';
import { type BackendSrv, getBackendSrv, getTemplateSrv, type TemplateSrv } from '@grafana/runtime';
import type { AuditRecord, InsightSummary } from '../shared/cloudtrail-record';
import {
  type AuditDataSourceOptions,
  type AuditQuery,
  DEFAULT_MAX_RESULTS,
  DEFAULT_MAX_SERIES,
  DEFAULT_QUERY,
  isLookupField,
  LOOKUP_FIELD_LABELS,
  LOOKUP_FIELDS,
  type LookupField,
  type LookupFilters,
  QueryType,
} from '../types';
import { callRateFrames, type CallRateResponse, stepSeconds } from './call-rate-frames';
import { CollectorClient, CollectorError, filterParams, type QueryParams, timeParams } from './collector-client';
import { type EventExport, type ExportOptions, fetchAllEvents } from './event-export';
import { eventsFrame } from './events-frame';
import { COLLECTOR_PAGE_SIZE, MAX_EVENTS_PER_QUERY } from './limits';
import { queryProblems } from '../query-validation';
import { insightsFrame } from './insights-frame';
import { applyAdHocFilters, interpolateFilters } from './template-variables';
import { AuditVariableSupport } from './variable-support';

interface EventsPage {
  events: AuditRecord[];
  nextToken?: string;
}

interface ValuesResponse {
  values: Array<{ value: string; count: number }>;
}

interface InsightsResponse {
  insights: InsightSummary[];
  truncated: boolean;
}

export class CrumbtrailDataSource
  extends DataSourceApi<AuditQuery, AuditDataSourceOptions>
  implements DataSourceWithQueryModificationSupport<AuditQuery>, DataSourceWithToggleableQueryFiltersSupport<AuditQuery>
{
  private readonly client: CollectorClient;
  private readonly collectorUrl: string | undefined;
  private readonly traceDatasourceUid: string | undefined;

  constructor(
    instanceSettings: DataSourceInstanceSettings<AuditDataSourceOptions>,
    backendSrv: BackendSrv = getBackendSrv(),
    private readonly templateSrv: TemplateSrv = getTemplateSrv()
  ) {
    super(instanceSettings);
    this.client = new CollectorClient(backendSrv, instanceSettings.url ?? '');
    this.collectorUrl = instanceSettings.jsonData.collectorUrl;
    this.traceDatasourceUid = instanceSettings.jsonData.traceDatasourceUid;
    // Standard annotation support: the query editor edits annotation queries too, and the
    // insights frame's time/timeEnd/title/text/tags fields become Start→End regions.
    this.annotations = {};
    this.variables = new AuditVariableSupport(this);
  }

  getDefaultQuery(): Partial<AuditQuery> {
    return DEFAULT_QUERY;
  }

  filterQuery(query: AuditQuery): boolean {
    return query.hide !== true;
  }

  /** The query with every `$variable` expanded and the dashboard's ad-hoc filters applied. */
  applyTemplateVariables(query: AuditQuery, scopedVars: ScopedVars, adHocFilters?: AdHocVariableFilter[]): AuditQuery {
    const filters = applyAdHocFilters(interpolateFilters(this.templateSrv, query.filters, scopedVars), adHocFilters);
    const text = query.text === undefined ? undefined : this.templateSrv.replace(query.text, scopedVars);
    return { ...query, filters, ...(text === undefined ? {} : { text }) };
  }

  interpolateVariablesInQueries(queries: AuditQuery[], scopedVars: ScopedVars, filters?: AdHocVariableFilter[]) {
    return queries.map((query) => this.applyTemplateVariables(query, scopedVars, filters));
  }

  async query(request: DataQueryRequest<AuditQuery>): Promise<DataQueryResponse> {
    const targets = request.targets.filter((target) => this.filterQuery(target));
    // Checked as saved, before interpolation drops what it does not know (a misspelt filter field
    // must fail, not widen the lookup). Grafana may add properties of its own: those are allowed.
    for (const target of targets) {
      const problems = queryProblems(target, { allowUnknownProperties: true });
      if (problems.length > 0) {
        throw new Error(`query ${target.refId}: ${problems.join('; ')}`);
      }
    }
    const results = await Promise.all(
      targets.map((target) =>
        this.runQuery(this.applyTemplateVariables(target, request.scopedVars, request.filters), request)
      )
    );
    return { data: results.flat() };
  }

  private async runQuery(query: AuditQuery, request: DataQueryRequest<AuditQuery>): Promise<DataFrame[]> {
    const fromMs = request.range.from.valueOf();
    const toMs = request.range.to.valueOf();
    switch (query.queryType ?? QueryType.Events) {
      case QueryType.Events:
        return [await this.queryEvents(query, fromMs, toMs, request.requestId)];
      case QueryType.CallRate:
        return this.queryCallRate(query, fromMs, toMs, request.intervalMs, request.requestId);
      case QueryType.Insights:
        return [await this.queryInsights(query, fromMs, toMs, request.requestId)];
      default:
        throw new Error(`unknown query type "${String(query.queryType)}"`);
    }
  }

  /**
   * Every event an events query matches in the time range (not only its maxResults), for the
   * event-history panel's "Download events": variables and ad-hoc filters expanded as for query().
   */
  async exportEvents(
    query: AuditQuery,
    range: TimeRange,
    scopedVars: ScopedVars = {},
    adHocFilters?: AdHocVariableFilter[],
    options: ExportOptions = {}
  ): Promise<EventExport> {
    const problems = queryProblems(query, { allowUnknownProperties: true });
    if (problems.length > 0) {
      throw new Error(`query ${query.refId}: ${problems.join('; ')}`);
    }
    const expanded = this.applyTemplateVariables(query, scopedVars, adHocFilters);
    const params = [
      ...timeParams(range.from.valueOf(), range.to.valueOf()),
      ...filterParams(expanded.filters ?? {}, expanded.text),
    ];
    return fetchAllEvents(this.client, params, options);
  }

  private async queryEvents(query: AuditQuery, fromMs: number, toMs: number, requestId: string): Promise<DataFrame> {
    const wanted = Math.min(Math.max(1, query.maxResults ?? DEFAULT_MAX_RESULTS), MAX_EVENTS_PER_QUERY);
    const base = [...timeParams(fromMs, toMs), ...filterParams(query.filters ?? {}, query.text)];
    const records: AuditRecord[] = [];
    let nextToken: string | undefined;
    do {
      const pageSize = Math.min(COLLECTOR_PAGE_SIZE, wanted - records.length);
      const params: QueryParams = [...base, ['maxResults', String(pageSize)]];
      if (nextToken !== undefined) {
        params.push(['nextToken', nextToken]);
      }
      const page = await this.client.get<EventsPage>('/api/v1/events', params, `${requestId}-${query.refId}`);
      records.push(...page.events);
      nextToken = page.nextToken;
    } while (nextToken !== undefined && records.length < wanted);
    return eventsFrame(query.refId, records, {
      datasourceUid: this.uid,
      datasourceName: this.name,
      ...(this.traceDatasourceUid === undefined ? {} : { traceDatasourceUid: this.traceDatasourceUid }),
    });
  }

  private async queryCallRate(
    query: AuditQuery,
    fromMs: number,
    toMs: number,
    intervalMs: number,
    requestId: string
  ): Promise<DataFrame[]> {
    const maxSeries = query.maxSeries ?? DEFAULT_MAX_SERIES;
    const series = query.groupBy === undefined ? 1 : maxSeries;
    const params: QueryParams = [
      ...timeParams(fromMs, toMs),
      ...filterParams(query.filters ?? {}, query.text),
      ['step', String(stepSeconds(intervalMs, toMs - fromMs, series))],
      ['maxSeries', String(maxSeries)],
    ];
    if (query.groupBy !== undefined) {
      params.push(['groupBy', query.groupBy]);
    }
    const response = await this.client.get<CallRateResponse>(
      '/api/v1/stats/calls',
      params,
      `${requestId}-${query.refId}`
    );
    return callRateFrames(query.refId, response, query.groupBy);
  }

  private async queryInsights(query: AuditQuery, fromMs: number, toMs: number, requestId: string): Promise<DataFrame> {
    const params: QueryParams = [...timeParams(fromMs, toMs)];
    // The insights API narrows by the API only; other lookup filters do not apply to insights.
    for (const field of ['eventName', 'eventSource'] as const) {
      for (const value of query.filters?.[field] ?? []) {
        params.push([field, value]);
      }
    }
    if (query.insightType !== undefined) {
      params.push(['insightType', query.insightType]);
    }
    if (query.insightState !== undefined) {
      params.push(['state', query.insightState]);
    }
    if (query.maxResults !== undefined) {
      params.push(['maxResults', String(Math.min(query.maxResults, COLLECTOR_PAGE_SIZE))]);
    }
    const response = await this.client.get<InsightsResponse>('/api/v1/insights', params, `${requestId}-${query.refId}`);
    return insightsFrame(query.refId, response.insights, toMs);
  }

  /** Distinct values of a lookup field, busiest first: editor suggestions, variables, ad-hoc values. */
  async fieldValues(field: LookupField, filters: LookupFilters, range?: TimeRange, limit = 100): Promise<string[]> {
    const params: QueryParams = [...filterParams(filters, undefined), ['limit', String(limit)]];
    if (range !== undefined) {
      params.push(...timeParams(range.from.valueOf(), range.to.valueOf()));
    }
    const response = await this.client.get<ValuesResponse>(`/api/v1/values/${field}`, params);
    return response.values.map((entry) => entry.value);
  }

  /** A variable-query value may itself hold variables (chained variables). */
  interpolateFilters(filters: LookupFilters | undefined, scopedVars: ScopedVars = {}): LookupFilters {
    return interpolateFilters(this.templateSrv, filters, scopedVars);
  }

  async getTagKeys(): Promise<MetricFindValue[]> {
    return LOOKUP_FIELDS.filter((field) => field !== 'eventId').map((field) => ({
      text: field,
      value: field,
      label: LOOKUP_FIELD_LABELS[field],
    }));
  }

  async getTagValues(options: DataSourceGetTagValuesOptions<AuditQuery>): Promise<MetricFindValue[]> {
    if (!isLookupField(options.key)) {
      return [];
    }
    // Other "=" filters narrow the suggestions, so chained ad-hoc filters only offer what exists.
    const others = applyAdHocFilters(
      {},
      options.filters.filter(
        (filter) => filter.key !== options.key && filter.operator === '=' && isLookupField(filter.key)
      )
    );
    const values = await this.fieldValues(options.key, others, options.timeRange);
    return values.map((value) => ({ text: value, value }));
  }

  // Logs panel and Explore: "filter for value" on a label of an event.
  getSupportedQueryModifications(): string[] {
    return ['ADD_FILTER', 'ADD_STRING_FILTER'];
  }

  modifyQuery(query: AuditQuery, action: QueryFixAction): AuditQuery {
    const key = action.options?.key;
    const value = action.options?.value;
    if (action.type === 'ADD_FILTER' && key !== undefined && value !== undefined && isLookupField(key)) {
      return { ...query, filters: { ...query.filters, [key]: [value] } };
    }
    if (action.type === 'ADD_STRING_FILTER' && value !== undefined && value !== '') {
      return { ...query, text: value };
    }
    return query;
  }

  toggleQueryFilter(query: AuditQuery, filter: ToggleFilterAction): AuditQuery {
    const { key, value } = filter.options;
    if (key === undefined || value === undefined || !isLookupField(key)) {
      return query;
    }
    const current = query.filters?.[key] ?? [];
    const remaining = current.filter((existing) => existing !== value);
    const filters: LookupFilters = { ...query.filters };
    if (filter.type === 'FILTER_FOR' && remaining.length === current.length) {
      filters[key] = [value];
    } else if (remaining.length > 0) {
      filters[key] = remaining;
    } else {
      delete filters[key];
    }
    return { ...query, filters };
  }

  queryHasFilter(query: AuditQuery, filter: QueryFilterOptions): boolean {
    const { key, value } = filter;
    return key !== undefined && isLookupField(key) && (query.filters?.[key] ?? []).includes(value ?? '');
  }

  getQueryDisplayText(query: AuditQuery): string {
    const filters = Object.entries(query.filters ?? {})
      .filter(([, values]) => values !== undefined && values.length > 0)
      .map(([field, values]) => `${field}=${(values ?? []).join('|')}`);
    const text = query.text ? [`"${query.text}"`] : [];
    return [query.queryType ?? QueryType.Events, ...filters, ...text].join(' ');
  }

  /** Save & test: a real lookup, so the URL, the route and the token are all checked. */
  async testDatasource(): Promise<TestDataSourceResponse> {
    if (this.collectorUrl === undefined || this.collectorUrl.trim() === '') {
      return { status: 'error', message: 'Set the collector URL (the query API, e.g. http://localhost:8790).' };
    }
    try {
      const page = await this.client.get<EventsPage>('/api/v1/events', [['maxResults', '1']]);
      if (!Array.isArray(page.events)) {
        return {
          status: 'error',
          message: `${this.collectorUrl} answered, but not as a crumbtrail collector: check the URL points at its query API.`,
        };
      }
      return { status: 'success', message: `Connected to the crumbtrail collector at ${this.collectorUrl}.` };
    } catch (error) {
      return { status: 'error', message: explainTestFailure(error, this.collectorUrl) };
    }
  }
}

function explainTestFailure(error: unknown, collectorUrl: string): string {
  if (!(error instanceof CollectorError)) {
    return `Could not query the collector: ${error instanceof Error ? error.message : String(error)}`;
  }
  switch (error.status) {
    case 401:
    case 403:
      return 'The collector refused the API token: set the token it was started with (--api-token / CRUMBTRAIL_API_TOKEN).';
    case 404:
      return `${collectorUrl} has no crumbtrail query API (404): use the collector's API address (port 8790 by default), not its OTLP port.`;
    case 502:
    case 503:
    case 504:
      return `Grafana cannot reach ${collectorUrl} (HTTP ${error.status}): is the collector running, and is the URL right as seen from the Grafana server?`;
    default:
      return error.message;
  }
}

/*
 * Talks to the collector's query API through Grafana's data proxy: `${instanceUrl}/collector/…`
 * (the `collector` route in plugin.json), where Grafana's server adds the API token. The browser
 * never sees the token.
 */
import { lastValueFrom } from 'rxjs';
import { type BackendSrv, type FetchError, isFetchError } from '@grafana/runtime';
import type { LookupFilters } from '../types';

/** Repeated parameters for multi-value filters: eventName=A&eventName=B. */
export type QueryParams = Array<[string, string]>;

export function filterParams(filters: LookupFilters, text: string | undefined): QueryParams {
  const params: QueryParams = [];
  for (const [field, values] of Object.entries(filters)) {
    for (const value of values ?? []) {
      params.push([field, value]);
    }
  }
  if (text !== undefined && text.trim().length > 0) {
    params.push(['q', text.trim()]);
  }
  return params;
}

export function timeParams(fromMs: number, toMs: number): QueryParams {
  return [
    ['startTime', String(Math.floor(fromMs))],
    ['endTime', String(Math.ceil(toMs))],
  ];
}

interface CollectorErrorBody {
  error?: string;
  message?: string;
}

/** A collector answer that was not 2xx, with the collector's own message. */
export class CollectorError extends Error {
  override readonly name = 'CollectorError';
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

function describeFailure(error: FetchError): CollectorError {
  const body = error.data as CollectorErrorBody | string | undefined;
  const collectorMessage = typeof body === 'object' && body !== null ? body.message : undefined;
  if (collectorMessage !== undefined) {
    return new CollectorError(error.status, `crumbtrail collector: ${collectorMessage}`);
  }
  if (error.status === 502 || error.status === 504) {
    return new CollectorError(
      error.status,
      'cannot reach the crumbtrail collector from Grafana: check the collector URL and that the collector is running'
    );
  }
  const detail = error.statusText || (typeof body === 'string' ? body.slice(0, 200) : '');
  return new CollectorError(
    error.status,
    `crumbtrail collector answered HTTP ${error.status}${detail ? `: ${detail}` : ''}`
  );
}

export class CollectorClient {
  constructor(
    private readonly backendSrv: BackendSrv,
    /** The datasource instance's proxy URL, e.g. /api/datasources/proxy/uid/abc. */
    private readonly instanceUrl: string
  ) {}

  async get<T>(path: string, params: QueryParams = [], requestId?: string): Promise<T> {
    const search = new URLSearchParams(params).toString();
    try {
      const response = await lastValueFrom(
        this.backendSrv.fetch<T>({
          url: `${this.instanceUrl}/collector${path}${search ? `?${search}` : ''}`,
          method: 'GET',
          requestId,
          // Errors become query errors in the panel; Grafana's own toast would say it twice.
          showErrorAlert: false,
        })
      );
      return response.data;
    } catch (error) {
      if (isFetchError(error)) {
        throw describeFailure(error);
      }
      throw error;
    }
  }
}

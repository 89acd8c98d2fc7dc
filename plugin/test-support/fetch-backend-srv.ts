/*
 * Grafana's BackendSrv, as far as the datasource uses it (`fetch`), over the real Fetch API. No
 * Grafana server can run here, so this is the one boundary the plugin's tests stand in for: the
 * requests still go over HTTP, through a data-proxy stand-in (grafana-data-proxy.ts), to a real
 * collector. Like Grafana's, it parses JSON bodies and fails with a FetchError-shaped object
 * ({ status, statusText, data, config }) on non-2xx answers.
 */
import { Observable } from 'rxjs';
import type { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function send<T>(baseUrl: string, options: BackendSrvRequest): Promise<FetchResponse<T>> {
  const url = new URL(options.url, baseUrl).toString();
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: options.headers,
    signal: options.abortSignal,
  });
  const data = await parseBody(response);
  if (!response.ok) {
    const error: FetchError = { status: response.status, statusText: response.statusText, data, config: options };
    throw error;
  }
  return {
    data: data as T,
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    headers: response.headers,
    redirected: response.redirected,
    type: response.type,
    url: response.url,
    config: options,
  };
}

function unused(name: string): never {
  throw new Error(`BackendSrv.${name} is not used by the crumbtrail datasource`);
}

/** `baseUrl` plays Grafana's origin: relative URLs such as /api/datasources/proxy/… resolve against it. */
export function fetchBackendSrv(baseUrl: string): BackendSrv {
  return {
    fetch<T>(options: BackendSrvRequest) {
      return new Observable<FetchResponse<T>>((subscriber) => {
        send<T>(baseUrl, options).then(
          (response) => {
            subscriber.next(response);
            subscriber.complete();
          },
          (error: unknown) => subscriber.error(error)
        );
      });
    },
    get: () => unused('get'),
    delete: () => unused('delete'),
    post: () => unused('post'),
    patch: () => unused('patch'),
    put: () => unused('put'),
    request: () => unused('request'),
    datasourceRequest: () => unused('datasourceRequest'),
    chunked: () => unused('chunked'),
  };
}

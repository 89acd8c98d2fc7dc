/*
 * A stand-in for Grafana's data proxy (no Grafana server can run here): it serves
 * /api/datasources/proxy/uid/<uid>/collector/* by forwarding to the collector with the route's
 * Authorization header, as the `routes` entry in plugin.json makes Grafana do, so the browser
 * and the datasource never hold the token. An unreachable collector answers 502, like Grafana.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DataProxyOptions {
  /** The datasource instance's uid. */
  uid: string;
  collectorUrl: string;
  apiToken?: string;
  /** Anything else this origin should serve (the harness page), or undefined for 404. */
  fallback?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

export interface DataProxy {
  /** Grafana's origin, e.g. http://127.0.0.1:40123 */
  origin: string;
  /** The datasource's `instanceSettings.url`. */
  instanceUrl: string;
  close(): Promise<void>;
}

async function forward(target: string, token: string | undefined, request: IncomingMessage, response: ServerResponse) {
  try {
    const upstream = await fetch(target, {
      method: request.method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    response.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
    });
    response.end(body);
  } catch {
    response.writeHead(502, { 'content-type': 'text/plain' });
    response.end('Bad Gateway');
  }
}

export async function startDataProxy(options: DataProxyOptions): Promise<DataProxy> {
  const prefix = `/api/datasources/proxy/uid/${options.uid}/collector`;
  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    if (url.startsWith(`${prefix}/`)) {
      void forward(`${options.collectorUrl}${url.slice(prefix.length)}`, options.apiToken, request, response);
      return;
    }
    if (options.fallback?.(request, response) === true) {
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('Not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    instanceUrl: `/api/datasources/proxy/uid/${options.uid}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

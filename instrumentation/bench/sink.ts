/*
 * Stands in for the collector: an OTLP/HTTP endpoint that reads each export request and answers
 * 200 with an empty ExportTraceServiceResponse, so the servers' exporters do their full work
 * (serialise, send, read the answer) while the benchmark measures only the servers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Sink {
  url: string;
  /** Export requests and body bytes received. */
  stats(): { requests: number; bytes: number };
  close(): Promise<void>;
}

export async function startSink(): Promise<Sink> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': 0 });
      response.end();
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => ({ requests, bytes }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

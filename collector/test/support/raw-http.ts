/*
 * HTTP as an attacker sends it: the path exactly as written (fetch would normalise dot segments
 * and percent-encoding), bodies that never end, and bare sockets.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One request with the path sent byte for byte as given. */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path,
        headers: options.headers,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

/** A socket, connected (or rejected with the connection error). */
export function openSocket(baseUrl: string): Promise<Socket> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves when the socket is closed (by either side), with what the server sent before. */
export function socketClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('error', () => undefined);
    if (socket.destroyed) resolve(received);
    socket.once('close', () => {
      resolve(received);
    });
  });
}

/**
 * Starts an OTLP/JSON export whose body never ends: the headers and a first chunk are sent and
 * the socket then stays silent. Resolves with what the server answered once it closes.
 */
export async function stalledExport(otlpUrl: string): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = await openSocket(otlpUrl);
  const closed = socketClosed(socket);
  const url = new URL(otlpUrl);
  socket.write(
    `POST /v1/traces HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
      'Transfer-Encoding: chunked\r\n\r\n5\r\n{"res\r\n',
  );
  return { socket, closed };
}

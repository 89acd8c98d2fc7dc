/*
 * The HTTP server both ports run on, with the limits fastify leaves off by default (it disables
 * Node's request timeout): a request must arrive within a deadline, a silent connection is
 * closed, and each port accepts a bounded number of connections — so a thousand slow or stalled
 * clients on the OTLP port cannot hold the process, and cannot lock anyone out of the query API,
 * which has its own connection budget.
 */
import { createServer } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { HttpLimits } from '../config.js';

/** How often Node checks requests against their deadlines: well within the shortest deadline. */
function checkingIntervalMs(limits: HttpLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** A fastify `serverFactory` building a node:http server with these limits. */
export function limitedServerFactory(limits: HttpLimits): (handler: RequestListener) => Server {
  return (handler) => {
    const server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        // Shorter than the idle timeout, so a keep-alive connection is closed politely first.
        keepAliveTimeout: Math.min(5_000, limits.idleTimeoutMs),
        connectionsCheckingInterval: checkingIntervalMs(limits),
      },
      handler,
    );
    // No 'timeout' listener: Node destroys a socket silent for this long.
    server.setTimeout(limits.idleTimeoutMs);
    server.maxConnections = limits.maxConnections;
    return server;
  };
}

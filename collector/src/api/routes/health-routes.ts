/*
 * GET /healthz (the process answers), GET /readyz (the store can serve reads and commit writes),
 * GET /metrics (Prometheus text format). The probes need no token: they reveal nothing but
 * whether the collector is up. /metrics lists every API (event source and name) with its call
 * and error rates, so it takes --metrics-token when one is set (see the API server).
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { EventStore } from '../../store/event-store.js';

export interface Readiness {
  isShuttingDown: () => boolean;
  /** Why writes cannot commit (checked by retrying a failed commit), or undefined when they can. */
  writesFailing: () => Promise<string | undefined>;
}

export function registerHealthRoutes(
  app: FastifyInstance,
  store: EventStore,
  registry: Registry,
  readiness: Readiness,
): void {
  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (readiness.isShuttingDown()) return reply.code(503).send({ status: 'shutting down' });
    try {
      await store.ping();
    } catch (error) {
      return reply.code(503).send({ status: 'store unavailable', message: (error as Error).message });
    }
    // After a failed commit (disk full, I/O error), ready again only once that commit succeeds.
    const failure = await readiness.writesFailing();
    if (failure !== undefined) {
      return reply.code(503).send({ status: 'store cannot commit writes', message: failure });
    }
    return { status: 'ready' };
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

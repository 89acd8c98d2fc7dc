/*
 * GET /healthz (the process answers), GET /readyz (the store answers too), GET /metrics
 * (Prometheus text format). None needs the API token: probes and scrapers rarely carry one, and
 * none of them reveals audit data.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { EventStore } from '../../store/event-store.js';

export function registerHealthRoutes(
  app: FastifyInstance,
  store: EventStore,
  registry: Registry,
  isShuttingDown: () => boolean,
): void {
  app.get('/healthz', () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (isShuttingDown()) return reply.code(503).send({ status: 'shutting down' });
    try {
      await store.ping();
      return { status: 'ready' };
    } catch (error) {
      return reply.code(503).send({ status: 'store unavailable', message: (error as Error).message });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/*
 * The query API (JSON over HTTP): event lookup, one event, distinct values, call-rate series,
 * insights, health and metrics. /api/* requires the bearer token when one is configured.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { CollectorMetrics } from '../metrics/collector-metrics.js';
import { bearerTokenMatches } from '../security/bearer-token.js';
import type { EventStore } from '../store/event-store.js';
import { QueryTimeoutError } from '../store/event-store.js';
import { ApiError } from './api-error.js';
import type { PagingTokens } from './paging-token.js';
import { registerCallStatsRoute } from './routes/call-stats-route.js';
import { registerEventRoutes } from './routes/events-routes.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerInsightsRoute } from './routes/insights-route.js';
import { registerValuesRoute } from './routes/values-route.js';

export interface ApiServerOptions {
  store: EventStore;
  tokens: PagingTokens;
  metrics: CollectorMetrics;
  logger: FastifyBaseLogger;
  apiToken: string | undefined;
  isShuttingDown: () => boolean;
  /** How long an insight can last (the insights route looks back that far before its range). */
  maxInsightMinutes: number;
  now: () => number;
}

export function buildApiServer(options: ApiServerOptions): FastifyInstance {
  // Typed as the default instance so route helpers need not carry pino's logger type.
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger.child({ component: 'query-api' }),
    // Per-request lines would drown the log; latency and status are in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    if (!bearerTokenMatches(request.headers.authorization, options.apiToken)) {
      reply.header('www-authenticate', 'Bearer realm="crumbtrail"');
      await reply
        .code(401)
        .send({ error: 'Unauthorized', message: 'missing or wrong API token (Authorization: Bearer …)' });
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    options.metrics.apiRequestSeconds.observe(
      { route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error: FastifyError | ApiError | QueryTimeoutError, request, reply) => {
    if (error instanceof ApiError) {
      return reply
        .code(error.statusCode)
        .send({ error: error.statusCode === 404 ? 'NotFound' : 'BadRequest', message: error.message });
    }
    if (error instanceof QueryTimeoutError) {
      reply.header('retry-after', '5');
      return reply.code(503).send({
        error: 'QueryTimeout',
        message: `${error.message}: narrow the time range or add attribute filters`,
      });
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: 'BadRequest', message: error.message });
    }
    request.log.error({ err: error }, 'query failed');
    return reply
      .code(500)
      .send({ error: 'InternalError', message: 'the query failed; see the collector log' });
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  registerEventRoutes(app, options.store, options.tokens);
  registerValuesRoute(app, options.store);
  registerCallStatsRoute(app, options.store);
  registerInsightsRoute(app, options.store, {
    maxInsightMinutes: options.maxInsightMinutes,
    now: options.now,
  });
  registerHealthRoutes(app, options.store, options.metrics.registry, options.isShuttingDown);
  return app;
}

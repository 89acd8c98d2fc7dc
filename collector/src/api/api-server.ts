/*
 * The query API (JSON over HTTP): event lookup, one event, distinct values, call-rate series,
 * insights, health and metrics.
 *
 * Authorisation is deny-by-default and decided on the route the router matched, never on the raw
 * URL text: `/%61pi/v1/events` is routed to /api/v1/events, so a prefix test on request.url would
 * let it through. Only the probes are public; /metrics needs its own token when one is set; every
 * other request, matched or not, needs the API token when one is configured.
 */
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { HttpLimits } from '../config.js';
import { limitedServerFactory } from '../http/limited-server.js';
import type { CollectorMetrics } from '../metrics/collector-metrics.js';
import { bearerTokenMatches } from '../security/bearer-token.js';
import type { EventStore } from '../store/event-store.js';
import { EngineUnavailableError, QueryTimeoutError } from '../store/event-store.js';
import type { CloudTrailApiOptions } from '../cloudtrail-api/cloudtrail-api-routes.js';
import { isSigV4Route, registerCloudTrailApi } from '../cloudtrail-api/cloudtrail-api-routes.js';
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
  /** Bearer token required on /metrics when set (it lists every API and its call rates). */
  metricsToken: string | undefined;
  isShuttingDown: () => boolean;
  /** Why store writes cannot commit, if they cannot (readiness). */
  writesFailing: () => Promise<string | undefined>;
  http: HttpLimits;
  /** How long an insight can last (the insights route looks back that far before its range). */
  maxInsightMinutes: number;
  now: () => number;
  /** CloudTrail's own API on POST /, when enabled (it authenticates by SigV4, not the API token). */
  cloudTrail?: Omit<CloudTrailApiOptions, 'store' | 'tokens' | 'now'>;
}

/** Probes answer without a token: they reveal nothing but whether the collector is up. */
const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz']);
const METRICS_ROUTE = '/metrics';

export function buildApiServer(options: ApiServerOptions): FastifyInstance {
  // Typed as the default instance so route helpers need not carry pino's logger type.
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger.child({ component: 'query-api' }),
    // Per-request lines would drown the log; latency and status are in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: limitedServerFactory(options.http),
  });

  app.addHook('onRequest', async (request, reply) => {
    // The matched route's template (undefined when nothing matched: that needs the token too).
    const route = request.routeOptions.url;
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
    // CloudTrail's API and the trail's S3 subset check their callers' SigV4 signatures themselves.
    if (
      options.cloudTrail !== undefined &&
      route !== undefined &&
      isSigV4Route(options.cloudTrail, route, request.method)
    )
      return;
    const isMetrics = route === METRICS_ROUTE;
    const expected = isMetrics ? options.metricsToken : options.apiToken;
    if (!bearerTokenMatches(request.headers.authorization, expected)) {
      reply.header('www-authenticate', 'Bearer realm="crumbtrail"');
      await reply.code(401).send({
        error: 'Unauthorized',
        message: `missing or wrong ${isMetrics ? 'metrics' : 'API'} token (Authorization: Bearer …)`,
      });
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    options.metrics.apiRequestSeconds.observe(
      { route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error: FastifyError | ApiError | QueryTimeoutError, request, reply) => {
    if (error instanceof EngineUnavailableError) {
      request.log.error({ err: error }, 'store unavailable');
      reply.header('retry-after', '5');
      return reply.code(503).send({ error: 'StoreUnavailable', message: `${error.message}; retry later` });
    }
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
  if (options.cloudTrail !== undefined) {
    registerCloudTrailApi(app, {
      ...options.cloudTrail,
      store: options.store,
      tokens: options.tokens,
      now: options.now,
    });
  }
  registerHealthRoutes(app, options.store, options.metrics.registry, {
    isShuttingDown: options.isShuttingDown,
    writesFailing: options.writesFailing,
  });
  return app;
}

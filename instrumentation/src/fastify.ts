/*
 * Fastify 5: `app.register(auditPlugin, config)`, and per-route options in the route's config:
 *   app.post('/users', { config: { audit: { eventName: 'CreateUser', resources: … } } }, handler)
 * Every request is recorded when its reply is sent (onSend), before the HTTP server span ends, with
 * the caller resolved then: after authentication hooks ran, and for the calls they refused too.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import {
  beginHttpCall,
  callOf,
  finishHttpCall,
  resolveHttpConfig,
  requestParametersOf,
  setRouteOptions,
  whenCallerKnown,
} from './http-call.js';
import type { AuditHttpConfig, AuditRouteOptions } from './types.js';

export type FastifyAuditConfig = AuditHttpConfig<FastifyRequest, FastifyReply>;
export type FastifyRouteOptions = AuditRouteOptions<FastifyRequest, FastifyReply>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** crumbtrail audit options of this route. */
    audit?: AuditRouteOptions<FastifyRequest, FastifyReply>;
  }
}

function requestParameters(request: FastifyRequest): unknown {
  return requestParametersOf(request.body, request.query, request.params);
}

const plugin: FastifyPluginCallback<FastifyAuditConfig> = (app, config, done) => {
  const resolved = resolveHttpConfig(config);

  // Callback-style hooks: an async hook costs fastify a promise per hook per request, and each
  // promise runs the async_hooks promise hooks once a context manager is active.
  app.addHook('onRequest', (request, reply, hookDone) => {
    if (config.ignore?.(request) === true) {
      hookDone();
      return;
    }
    const state = beginHttpCall(request.raw, reply.raw, resolved, request);
    const route = request.routeOptions.config.audit;
    if (route !== undefined) setRouteOptions(state, route);
    state.routeTemplate = request.routeOptions.url;
    hookDone();
  });

  app.addHook('preSerialization', (request, _reply, payload, hookDone) => {
    const state = callOf(request.raw);
    if (state !== undefined) state.responseBody = payload;
    hookDone(null, payload);
  });

  app.addHook('onError', (request, _reply, error, hookDone) => {
    const state = callOf(request.raw);
    if (state !== undefined) state.error = error;
    hookDone();
  });

  app.addHook('onSend', (request, reply, payload, hookDone) => {
    const state = callOf<FastifyRequest, FastifyReply>(request.raw);
    if (state === undefined) {
      hookDone(null, payload);
      return;
    }
    const statusCode = reply.statusCode;
    const pending = whenCallerKnown(state, resolved, request, statusCode, (identity) => {
      finishHttpCall(state, resolved, request, reply, statusCode, identity, () => requestParameters(request));
    });
    if (pending === undefined) hookDone(null, payload);
    else
      void pending.then(() => {
        hookDone(null, payload);
      });
  });

  done();
};

// What fastify-plugin does: the hooks apply to every route of the app, not only an encapsulated
// child context.
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(plugin as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'crumbtrail-audit';

export const auditPlugin = plugin;

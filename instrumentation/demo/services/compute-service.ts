/*
 * A compute-like service on Fastify 5, put on the audit trail with @crumbtrail/instrumentation:
 * register `auditPlugin` once, with how to tell who is calling, and give each route its audit
 * options in `config.audit`. Errors thrown by a handler (or by schema validation) give the event
 * its errorCode and errorMessage through the plugin's onError hook.
 *
 *   node --import tsx instrumentation/demo/services/compute-service.ts --port 8082 --otlp http://127.0.0.1:4318
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ATTR_CLOUD_ACCOUNT_ID, ATTR_CLOUD_REGION } from '@crumbtrail/instrumentation';
import { auditPlugin } from '@crumbtrail/instrumentation/fastify';
import { startAuditTrail } from '@crumbtrail/instrumentation/sdk';
import type { AuditResource } from '@crumbtrail/instrumentation';
import {
  ACCOUNT_ID,
  DEMO_SERVICE_VERSION,
  EVENT_SOURCES,
  REGION,
  instanceArn,
} from '../directory/account.js';
import { INITIAL_INSTANCES } from '../directory/initial-state.js';
import { notFound } from '../directory/service-errors.js';
import { TRUSTED_PROXIES, auditIdentity, authorize, isConsoleRequest } from './caller-auth.js';
import { errorAnswer, stringField, successfulResponseBody } from './route-helpers.js';
import type { ServiceListener } from './service-runtime.js';
import { serveUntilStopped, serviceProcessOptions } from './service-runtime.js';

interface Instance {
  instanceId: string;
  instanceType: string;
  imageId: string;
  owner: string;
}

interface RunInstancesBody {
  imageId: string;
  instanceType: string;
}

function instanceResources(instanceId: string | undefined): AuditResource[] {
  return instanceId === undefined
    ? []
    : [{ type: 'Instance', name: instanceId, arn: instanceArn(instanceId) }];
}

export async function createComputeApp(): Promise<FastifyInstance> {
  const instances = new Map<string, Instance>(
    INITIAL_INSTANCES.map((instance) => [instance.instanceId, instance]),
  );
  // The instance a RunInstances call launched: its id is known only once the handler ran, and the
  // route's `resources` is called when the reply is sent, so it can name it.
  const launched = new WeakMap<FastifyRequest, string>();

  const app = Fastify();
  await app.register(auditPlugin, {
    eventSource: EVENT_SOURCES.compute,
    identity: auditIdentity,
    isConsoleRequest,
    trustProxy: TRUSTED_PROXIES,
  });
  app.setErrorHandler((error, _request, reply) => {
    const answer = errorAnswer(error);
    return reply.status(answer.status).send(answer.body);
  });

  app.post<{ Body: RunInstancesBody }>(
    '/instances',
    {
      schema: {
        body: {
          type: 'object',
          required: ['imageId', 'instanceType'],
          properties: {
            imageId: { type: 'string', minLength: 1 },
            instanceType: { type: 'string', minLength: 1 },
          },
        },
      },
      config: {
        audit: {
          eventName: 'RunInstances',
          resources: (request) => instanceResources(launched.get(request)),
          requestParameters: (request) => ({
            imageId: stringField(request.body, 'imageId'),
            instanceType: stringField(request.body, 'instanceType'),
          }),
          // The launched instance, as CloudTrail records it for RunInstances.
          responseElements: successfulResponseBody,
        },
      },
    },
    (request, reply) => {
      const caller = authorize(request, 'compute:RunInstances', instanceArn('*'));
      const { imageId, instanceType } = request.body;
      const instanceId = `i-0${randomBytes(8).toString('hex')}`;
      instances.set(instanceId, { instanceId, instanceType, imageId, owner: caller.userName });
      launched.set(request, instanceId);
      return reply.status(201).send({ instanceId, instanceType, imageId, state: 'pending' });
    },
  );

  app.delete<{ Params: { instanceId: string } }>(
    '/instances/:instanceId',
    {
      config: {
        audit: {
          eventName: 'TerminateInstances',
          resources: (request) => instanceResources((request.params as { instanceId?: string }).instanceId),
          requestParameters: (request) => ({
            instanceId: (request.params as { instanceId?: string }).instanceId,
          }),
        },
      },
    },
    (request, reply) => {
      const { instanceId } = request.params;
      authorize(request, 'compute:TerminateInstances', instanceArn(instanceId));
      if (!instances.delete(instanceId)) throw notFound('Instance', instanceId);
      return reply.send({ instanceId, previousState: 'running', currentState: 'shutting-down' });
    },
  );

  // A read: readOnly comes from the method.
  app.get('/instances', { config: { audit: { eventName: 'DescribeInstances' } } }, (request, reply) => {
    authorize(request, 'compute:DescribeInstances', instanceArn('*'));
    return reply.send({
      instances: [...instances.values()].map(({ instanceId, instanceType, imageId }) => ({
        instanceId,
        instanceType,
        imageId,
        state: 'running',
      })),
    });
  });

  return app;
}

function fastifyListener(app: FastifyInstance): ServiceListener {
  return {
    listen: async (port, host) => {
      await app.listen({ port, host });
      return (app.server.address() as AddressInfo).port;
    },
    close: () => app.close(),
  };
}

const options = serviceProcessOptions();
// Before serving: it registers the OpenTelemetry SDK the audit plugin records with.
const trail = startAuditTrail({
  serviceName: 'compute',
  serviceVersion: DEMO_SERVICE_VERSION,
  endpoint: options.otlp,
  resourceAttributes: { [ATTR_CLOUD_REGION]: REGION, [ATTR_CLOUD_ACCOUNT_ID]: ACCOUNT_ID },
});
await serveUntilStopped('compute', fastifyListener(await createComputeApp()), trail, options);

/*
 * A storage-like service on plain node:http, put on the audit trail with @crumbtrail/instrumentation:
 * each route's listener is wrapped in `auditHandler({ eventName, … })`, with the options every route
 * shares spread in. Without a framework there is no error hook: a handler that answers a failure
 * itself (403, 404) says so through the `responseHook`, which names the event's error precisely.
 *
 *   node --import tsx instrumentation/demo/services/storage-service.ts --port 8083 --otlp http://127.0.0.1:4318
 */
import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  ATTR_CLOUD_ACCOUNT_ID,
  ATTR_CLOUD_REGION,
  ATTR_CRUMBTRAIL_ERROR_CODE,
  ATTR_CRUMBTRAIL_ERROR_MESSAGE,
} from '@crumbtrail/instrumentation';
import type { AuditResource } from '@crumbtrail/instrumentation';
import { auditHandler } from '@crumbtrail/instrumentation/http';
import type { NodeHttpAuditOptions } from '@crumbtrail/instrumentation/http';
import { startAuditTrail } from '@crumbtrail/instrumentation/sdk';
import {
  ACCOUNT_ID,
  DEMO_SERVICE_VERSION,
  EVENT_SOURCES,
  REGION,
  bucketArn,
  objectArn,
} from '../directory/account.js';
import { INITIAL_OBJECTS } from '../directory/initial-state.js';
import { ServiceError, notFound } from '../directory/service-errors.js';
import { TRUSTED_PROXIES, auditIdentity, authorize, isConsoleRequest } from './caller-auth.js';
import { errorAnswer } from './route-helpers.js';
import { nodeServerListener, serveUntilStopped, serviceProcessOptions } from './service-runtime.js';

const OBJECT_ROUTE = '/buckets/:bucket/objects/:key';
const OBJECT_PATH = /^\/buckets\/([^/]+)\/objects\/(.+)$/;
const MAX_OBJECT_BYTES = 1024 * 1024;

interface ObjectAddress {
  bucket: string;
  key: string;
}

function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://storage.invalid').pathname;
}

function objectAddress(request: IncomingMessage): ObjectAddress | undefined {
  const match = OBJECT_PATH.exec(pathOf(request));
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { bucket: decodeURIComponent(match[1]), key: decodeURIComponent(match[2]) };
}

function objectResources(request: IncomingMessage): AuditResource[] {
  const address = objectAddress(request);
  if (address === undefined) return [];
  const { bucket, key } = address;
  return [
    { type: 'Bucket', name: bucket, arn: bucketArn(bucket) },
    { type: 'Object', name: key, arn: objectArn(bucket, key) },
  ];
}

function objectParameters(request: IncomingMessage): unknown {
  const address = objectAddress(request);
  return address === undefined ? undefined : { bucketName: address.bucket, key: address.key };
}

/** Failures a handler answered itself, for the responseHook to put on the event. */
const answeredFailures = new WeakMap<ServerResponse, ServiceError>();

const recordAnsweredFailure: NodeHttpAuditOptions['responseHook'] = (span, _request, response) => {
  const failure = answeredFailures.get(response);
  if (failure === undefined) return;
  // Without this the event would carry the status's name ("Forbidden") and no message.
  span.setAttribute(ATTR_CRUMBTRAIL_ERROR_CODE, failure.code);
  span.setAttribute(ATTR_CRUMBTRAIL_ERROR_MESSAGE, failure.message);
};

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** Answers a thrown ServiceError; anything else is left to auditHandler (a 500 with the error recorded). */
function answeringFailures(handler: Handler): Handler {
  return async (request, response) => {
    try {
      await handler(request, response);
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      answeredFailures.set(response, error);
      const answer = errorAnswer(error);
      sendJson(response, answer.status, answer.body);
    }
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_OBJECT_BYTES) throw new ServiceError('EntityTooLarge', 413, 'The object is too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function createStorageServer(): ReturnType<typeof createServer> {
  const buckets = new Map<string, Map<string, Buffer>>(
    Object.entries(INITIAL_OBJECTS).map(([bucket, keys]) => [
      bucket,
      new Map(keys.map((key) => [key, Buffer.from(`${bucket}/${key}\n`)])),
    ]),
  );
  const bucketOf = (name: string): Map<string, Buffer> => {
    const bucket = buckets.get(name);
    if (bucket === undefined) throw notFound('Bucket', name);
    return bucket;
  };
  /** The addressed object's bucket, once the caller may perform `action` on the object. */
  const authorizedObject = (
    request: IncomingMessage,
    action: string,
  ): ObjectAddress & { objects: Map<string, Buffer> } => {
    const address = objectAddress(request) as ObjectAddress; // the route matched OBJECT_PATH
    authorize(request, action, objectArn(address.bucket, address.key));
    return { ...address, objects: bucketOf(address.bucket) };
  };

  // What every route shares; each route adds its event name and what it records.
  const shared: NodeHttpAuditOptions = {
    eventSource: EVENT_SOURCES.storage,
    identity: auditIdentity,
    isConsoleRequest,
    trustProxy: TRUSTED_PROXIES,
    responseHook: recordAnsweredFailure,
  };
  // Object calls are data events, as in CloudTrail; writes record which object they changed.
  const objectCall = {
    ...shared,
    route: OBJECT_ROUTE,
    eventCategory: 'Data',
    resources: objectResources,
  } as const;

  const routes: { method: string; path: RegExp; listener: RequestListener }[] = [
    {
      method: 'GET',
      path: /^\/buckets$/,
      listener: auditHandler(
        { ...shared, eventName: 'ListBuckets', route: '/buckets' },
        answeringFailures((request, response) => {
          authorize(request, 'storage:ListBuckets', bucketArn('*'));
          sendJson(response, 200, { buckets: [...buckets.keys()].map((name) => ({ name })) });
        }),
      ),
    },
    {
      method: 'PUT',
      path: OBJECT_PATH,
      listener: auditHandler(
        { ...objectCall, eventName: 'PutObject', requestParameters: objectParameters },
        answeringFailures(async (request, response) => {
          const { key, objects } = authorizedObject(request, 'storage:PutObject');
          objects.set(key, await readBody(request));
          sendJson(response, 200, {});
        }),
      ),
    },
    {
      method: 'GET',
      path: OBJECT_PATH,
      listener: auditHandler(
        { ...objectCall, eventName: 'GetObject' },
        answeringFailures((request, response) => {
          const { bucket, key, objects } = authorizedObject(request, 'storage:GetObject');
          const content = objects.get(key);
          if (content === undefined) throw notFound('Object', `${bucket}/${key}`);
          response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(content);
        }),
      ),
    },
    {
      method: 'DELETE',
      path: OBJECT_PATH,
      listener: auditHandler(
        { ...objectCall, eventName: 'DeleteObject', requestParameters: objectParameters },
        answeringFailures((request, response) => {
          const { bucket, key, objects } = authorizedObject(request, 'storage:DeleteObject');
          if (!objects.delete(key)) throw notFound('Object', `${bucket}/${key}`);
          response.writeHead(204).end();
        }),
      ),
    },
  ];

  return createServer((request, response) => {
    const path = pathOf(request);
    const route = routes.find(
      (candidate) => candidate.method === request.method && candidate.path.test(path),
    );
    if (route !== undefined) {
      route.listener(request, response);
      return;
    }
    // Not an API of this service: answered, and not audited.
    sendJson(response, 404, { code: 'UnknownOperation', message: `${request.method ?? ''} ${path}` });
  });
}

const options = serviceProcessOptions();
// Before serving: it registers the OpenTelemetry SDK the handlers record with.
const trail = startAuditTrail({
  serviceName: 'storage',
  serviceVersion: DEMO_SERVICE_VERSION,
  endpoint: options.otlp,
  resourceAttributes: { [ATTR_CLOUD_REGION]: REGION, [ATTR_CLOUD_ACCOUNT_ID]: ACCOUNT_ID },
});
await serveUntilStopped('storage', nodeServerListener(createStorageServer()), trail, options);

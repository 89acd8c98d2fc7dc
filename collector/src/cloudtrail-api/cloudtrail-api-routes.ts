/*
 * CloudTrail's own API (AWS JSON 1.1: `POST /` with `X-Amz-Target`), on the query API port, so
 * that the AWS CLI, the AWS SDKs and the scripts built on them work against crumbtrail by changing
 * only the endpoint. Requests are authenticated by SigV4 against `--aws-credentials-file`, or not
 * at all when the API was explicitly opened (`--cloudtrail-api-open`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PagingTokens } from '../api/paging-token.js';
import type { EventStore } from '../store/event-store.js';
import { EngineUnavailableError, QueryTimeoutError } from '../store/event-store.js';
import { AwsApiError } from './aws-error.js';
import type { TrailSettings } from './built-in-trail.js';
import { answerTrailOperation, isTrailOperation } from './built-in-trail.js';
import type { AwsCredential } from './credentials.js';
import { listPublicKeys } from './list-public-keys.js';
import { lookupEvents } from './lookup-events.js';
import { CLOUDTRAIL_OPERATIONS } from './operations.js';
import { registerS3ReadApi, s3Routes } from './s3-read-api.js';
import { signedRequestOf, verifySignature } from './sigv4-verifier.js';
import type { SigningKeyring } from '../trail/signing-keys.js';
import type { TrailFolder } from '../trail/trail-folder.js';

export const CLOUDTRAIL_API_ROUTE = '/';

/** botocore sends the long form, the JavaScript SDK v3 the short one. */
const TARGET_PREFIXES = ['com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.', 'CloudTrail_20131101.'];
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** CloudTrail's requests are small: a LookupEvents request is well under 32 KB. */
const MAX_REQUEST_BYTES = 256 * 1024;

export type CloudTrailAuthentication =
  { kind: 'sigv4'; credentials: ReadonlyMap<string, AwsCredential> } | { kind: 'open' };

export interface CloudTrailApiOptions {
  store: EventStore;
  tokens: PagingTokens;
  trail: TrailSettings;
  authentication: CloudTrailAuthentication;
  now: () => number;
  /** The delivered trail (--trail-dir): its keys for ListPublicKeys, its folder for the S3 subset. */
  archive?: { folder: TrailFolder; keyring: SigningKeyring };
}

/** Routes that check SigV4 themselves instead of the API token: POST / and the S3 subset's GETs. */
export function isSigV4Route(
  options: Pick<CloudTrailApiOptions, 'trail' | 'archive'>,
  route: string,
  method: string,
): boolean {
  if (route === CLOUDTRAIL_API_ROUTE) return method === 'POST';
  // HEAD: Fastify answers it from the GET route (`aws s3 cp` asks HeadObject first).
  return (
    options.archive !== undefined &&
    (method === 'GET' || method === 'HEAD') &&
    s3Routes(options.trail.bucket).includes(route)
  );
}

function operationOf(target: string | string[] | undefined): string {
  const text = Array.isArray(target) ? target[0] : target;
  const prefix = TARGET_PREFIXES.find((candidate) => text?.startsWith(candidate) === true);
  const operation = prefix === undefined || text === undefined ? undefined : text.slice(prefix.length);
  if (operation === undefined || !CLOUDTRAIL_OPERATIONS.includes(operation)) {
    throw new AwsApiError(
      'UnknownOperationException',
      400,
      `Unknown or unsupported operation ${JSON.stringify(text ?? null)}: crumbtrail serves ${CLOUDTRAIL_OPERATIONS.join(', ')}.`,
    );
  }
  return operation;
}

function requestObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsApiError('SerializationException', 400, 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AwsApiError('SerializationException', 400, 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

function sendError(reply: FastifyReply, error: AwsApiError): FastifyReply {
  return reply
    .code(error.statusCode)
    .type(CONTENT_TYPE)
    .header('x-amzn-requestid', randomUUID())
    .send(JSON.stringify({ __type: error.code, message: error.message }));
}

export function registerCloudTrailApi(app: FastifyInstance, options: CloudTrailApiOptions): void {
  const { authentication } = options;
  if (options.archive !== undefined) {
    registerS3ReadApi(app, {
      folder: options.archive.folder,
      bucket: options.trail.bucket,
      region: options.trail.region,
      authentication,
      now: options.now,
    });
  }

  async function authenticate(request: FastifyRequest, body: Buffer): Promise<AwsCredential | undefined> {
    if (authentication.kind === 'open') return undefined;
    return verifySignature(signedRequestOf(request, body), {
      service: 'cloudtrail',
      credentials: authentication.credentials,
      now: options.now,
    });
  }

  async function answer(operation: string, request: Record<string, unknown>): Promise<unknown> {
    if (operation === 'LookupEvents') return lookupEvents(request, options.store, options.tokens);
    if (operation === 'ListPublicKeys')
      return listPublicKeys(request, options.archive?.keyring, options.now());
    if (isTrailOperation(operation)) return answerTrailOperation(operation, request, options.trail);
    throw new AwsApiError('UnknownOperationException', 400, `Unknown operation ${operation}.`);
  }

  void app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      CONTENT_TYPE,
      { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BYTES },
      (_request, body, done) => {
        done(null, body);
      },
    );
    scope.setErrorHandler((error: FastifyError | AwsApiError, request, reply) => {
      if (error instanceof AwsApiError) return sendError(reply, error);
      if (error instanceof EngineUnavailableError || error instanceof QueryTimeoutError) {
        // Transient: the clients retry ServiceUnavailable, as they should here.
        return sendError(
          reply,
          new AwsApiError('ServiceUnavailableException', 503, `${error.message}; retry later`),
        );
      }
      if (error.statusCode !== undefined && error.statusCode < 500) {
        return sendError(
          reply,
          new AwsApiError(
            'SerializationException',
            error.statusCode,
            `${error.message} (send ${CONTENT_TYPE})`,
          ),
        );
      }
      request.log.error({ err: error }, 'CloudTrail API request failed');
      return sendError(
        reply,
        new AwsApiError('InternalFailure', 500, 'The request failed; see the collector log.'),
      );
    });

    scope.post(CLOUDTRAIL_API_ROUTE, async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const credential = await authenticate(request, body);
      const operation = operationOf(request.headers['x-amz-target']);
      if (credential?.operations !== undefined && !credential.operations.has(operation)) {
        throw new AwsApiError(
          'AccessDeniedException',
          400,
          `User: ${credential.accessKeyId} is not authorized to perform: cloudtrail:${operation}`,
        );
      }
      const result = await answer(operation, requestObject(body));
      return reply
        .code(200)
        .type(CONTENT_TYPE)
        .header('x-amzn-requestid', randomUUID())
        .send(JSON.stringify(result));
    });
    done();
  });
}

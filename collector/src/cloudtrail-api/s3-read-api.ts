/*
 * A read-only, path-style subset of S3 over the trail folder, on the query API port, so that
 * `aws cloudtrail validate-logs` (with AWS_ENDPOINT_URL_S3) and other S3 readers consume the
 * trail unmodified: GetBucketLocation (`GET /<bucket>?location`), ListObjects v1 (`GET /<bucket>`
 * with prefix, marker, max-keys, encoding-type) and GetObject (`GET /<bucket>/<key>`, with the
 * object's x-amz-meta-* headers, where a digest carries its signature). Requests are SigV4-signed
 * for service `s3` with the CloudTrail API's credentials (or unsigned when that API was opened).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TrailFolder } from '../trail/trail-folder.js';
import { AwsApiError } from './aws-error.js';
import type { CloudTrailAuthentication } from './cloudtrail-api-routes.js';
import { signedRequestOf, verifySignature } from './sigv4-verifier.js';

/** IAM's names for what the S3 subset serves, as a credential's `operations` may list them. */
export const S3_OPERATIONS = ['s3:GetBucketLocation', 's3:ListBucket', 's3:GetObject'] as const;
const MAX_KEYS = 1000;
const XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n';
const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface S3ReadApiOptions {
  folder: TrailFolder;
  bucket: string;
  region: string;
  authentication: CloudTrailAuthentication;
  now: () => number;
}

/** The route templates the S3 subset answers (they authenticate by SigV4, not the API token). */
export function s3Routes(bucket: string): string[] {
  return [`/${bucket}`, `/${bucket}/*`];
}

/** S3 answers authentication failures with its own codes, mostly 403. */
const S3_AUTH_CODES: Record<string, [string, number]> = {
  InvalidSignatureException: ['SignatureDoesNotMatch', 403],
  UnrecognizedClientException: ['InvalidAccessKeyId', 403],
  IncompleteSignatureException: ['AuthorizationHeaderMalformed', 400],
  MissingAuthenticationTokenException: ['AccessDenied', 403],
  ExpiredTokenException: ['ExpiredToken', 400],
};

/** S3's request ids are 16 upper-case hex characters. */
function requestId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

function element(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function sendXml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .type('application/xml')
    .header('x-amz-request-id', requestId())
    .send(XML_HEADER + body);
}

function sendS3Error(
  reply: FastifyReply,
  code: string,
  status: number,
  message: string,
  resource: string,
): FastifyReply {
  return sendXml(
    reply,
    status,
    `<Error>${element('Code', code)}${element('Message', message)}${element('Resource', resource)}</Error>`,
  );
}

function single(value: unknown): string | undefined {
  if (Array.isArray(value)) return single(value[0]);
  return typeof value === 'string' ? value : undefined;
}

/** S3's `encoding-type=url`: keys percent-encoded, slashes kept. */
function urlEncodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}

export function registerS3ReadApi(app: FastifyInstance, options: S3ReadApiOptions): void {
  const { bucket, folder } = options;

  async function authorise(
    request: FastifyRequest,
    operation: (typeof S3_OPERATIONS)[number],
  ): Promise<void> {
    if (options.authentication.kind === 'open') return;
    const credential = await verifySignature(signedRequestOf(request, Buffer.alloc(0)), {
      service: 's3',
      credentials: options.authentication.credentials,
      now: options.now,
    });
    if (credential.operations !== undefined && !credential.operations.has(operation)) {
      throw new AwsApiError(
        'AccessDenied',
        403,
        `User: ${credential.accessKeyId} is not authorized to perform: ${operation}`,
      );
    }
  }

  async function listObjects(query: Record<string, unknown>): Promise<string> {
    const prefix = single(query.prefix) ?? '';
    const marker = single(query.marker) ?? '';
    const encodingType = single(query['encoding-type']);
    if (encodingType !== undefined && encodingType !== 'url') {
      throw new AwsApiError('InvalidArgument', 400, 'Invalid Encoding Method specified in Request');
    }
    const maxKeysText = single(query['max-keys']);
    const maxKeys = maxKeysText === undefined ? MAX_KEYS : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new AwsApiError(
        'InvalidArgument',
        400,
        'Provided max-keys not an integer or within integer range',
      );
    }
    const { objects, truncated } = await folder.list(prefix, marker, Math.min(maxKeys, MAX_KEYS));
    const encode = encodingType === 'url' ? urlEncodeKey : (key: string): string => key;
    const contents = objects
      .map(
        (object) =>
          `<Contents>${element('Key', encode(object.key))}${element('LastModified', new Date(object.lastModifiedMs).toISOString())}` +
          `${element('ETag', `"${object.etag}"`)}${element('Size', object.size)}${element('StorageClass', 'STANDARD')}</Contents>`,
      )
      .join('');
    return (
      `<ListBucketResult xmlns="${S3_NAMESPACE}">${element('Name', bucket)}${element('Prefix', encode(prefix))}` +
      `${element('Marker', encode(marker))}${element('MaxKeys', maxKeys)}` +
      `${encodingType === undefined ? '' : element('EncodingType', encodingType)}${element('IsTruncated', truncated)}` +
      `${contents}</ListBucketResult>`
    );
  }

  void app.register((scope, _options, done) => {
    scope.setErrorHandler((error: Error, request, reply) => {
      if (error instanceof AwsApiError) {
        const [code, status] = S3_AUTH_CODES[error.code] ?? [error.code, error.statusCode];
        return sendS3Error(reply, code, status, error.message, request.url);
      }
      request.log.error({ err: error }, 'S3 read API request failed');
      return sendS3Error(
        reply,
        'InternalError',
        500,
        'We encountered an internal error. Please try again.',
        request.url,
      );
    });

    scope.get(`/${bucket}`, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      if ('location' in query) {
        await authorise(request, 's3:GetBucketLocation');
        // us-east-1 is written as an empty constraint, as S3 does.
        const region = options.region === 'us-east-1' ? '' : escapeXml(options.region);
        return sendXml(
          reply,
          200,
          `<LocationConstraint xmlns="${S3_NAMESPACE}">${region}</LocationConstraint>`,
        );
      }
      await authorise(request, 's3:ListBucket');
      return sendXml(reply, 200, await listObjects(query));
    });

    scope.get(`/${bucket}/*`, async (request, reply) => {
      await authorise(request, 's3:GetObject');
      // From the URL as sent: the router's decoded parameter would decode a key's '%' twice.
      const url = request.raw.url ?? '';
      const queryAt = url.indexOf('?');
      const raw = (queryAt < 0 ? url : url.slice(0, queryAt)).slice(bucket.length + 2);
      let key: string;
      try {
        key = decodeURIComponent(raw);
      } catch {
        key = '';
      }
      const object = key === '' ? undefined : await folder.get(key);
      if (object === undefined) {
        return sendS3Error(reply, 'NoSuchKey', 404, 'The specified key does not exist.', `/${bucket}/${raw}`);
      }
      for (const [name, value] of Object.entries(object.metadata)) reply.header(`x-amz-meta-${name}`, value);
      return reply
        .code(200)
        .type('application/octet-stream')
        .header('etag', `"${object.etag}"`)
        .header('last-modified', new Date(object.lastModifiedMs).toUTCString())
        .header('x-amz-request-id', requestId())
        .send(object.body);
    });
    done();
  });
}

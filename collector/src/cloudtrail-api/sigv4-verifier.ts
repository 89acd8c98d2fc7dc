/*
 * Server-side AWS Signature Version 4 verification. The request is signed again, with the secret
 * of the access key it names, by @smithy/signature-v4 (the AWS SDK's own signer, which derives the
 * CLI's and the SDK's signatures exactly when given only the headers they signed, their date and
 * their scope); the two signatures are compared in constant time. Everything the signature does
 * not cover is checked here: the scope's date and service, the clock skew, the session token, the
 * payload hash header against the body, and the credential's expiry.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsApiError } from './aws-error.js';
import type { AwsCredential } from './credentials.js';

export interface SignedRequest {
  method: string;
  /** The path as sent (before any decoding) and the query string without '?'. */
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** AWS refuses signatures more than 15 minutes away from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const signatureMismatch = (): AwsApiError =>
  new AwsApiError(
    'InvalidSignatureException',
    400,
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
  );

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(text: string | undefined): Date {
  const match = text === undefined ? null : AMZ_DATE.exec(text);
  if (match === null) {
    throw new AwsApiError(
      'IncompleteSignatureException',
      400,
      'Authorization header requires an X-Amz-Date header of the form yyyyMMddTHHmmssZ.',
    );
  }
  const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second));
}

function queryOf(query: string): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    const existing = result[key];
    result[key] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return result;
}

/** A request's method, raw path and query as sent, headers and body: what SigV4 signs. */
export function signedRequestOf(
  request: { method: string; headers: IncomingHttpHeaders; raw: { url?: string } },
  body: Buffer,
): SignedRequest {
  const url = request.raw.url ?? '/';
  const queryAt = url.indexOf('?');
  return {
    method: request.method,
    path: queryAt < 0 ? url : url.slice(0, queryAt),
    query: queryAt < 0 ? '' : url.slice(queryAt + 1),
    headers: request.headers,
    body,
  };
}

export interface VerifierOptions {
  service: string;
  credentials: ReadonlyMap<string, AwsCredential>;
  now: () => number;
}

/** The credential that signed the request; AwsApiError with AWS's code when it is not validly signed. */
export async function verifySignature(
  request: SignedRequest,
  options: VerifierOptions,
): Promise<AwsCredential> {
  const authorization = headerText(request.headers, 'authorization');
  if (authorization === undefined) {
    throw new AwsApiError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
  }
  const parsed = AUTHORIZATION.exec(authorization.trim());
  if (parsed === null) {
    throw new AwsApiError(
      'IncompleteSignatureException',
      400,
      'Authorization header requires AWS4-HMAC-SHA256 with Credential, SignedHeaders and Signature parameters.',
    );
  }
  const [
    ,
    accessKeyId = '',
    scopeDate = '',
    region = '',
    service = '',
    signedHeaderList = '',
    signature = '',
  ] = parsed;
  const amzDateText = headerText(request.headers, 'x-amz-date');
  const signingDate = parseAmzDate(amzDateText);
  if (scopeDate !== amzDateText?.slice(0, 8)) {
    throw new AwsApiError(
      'InvalidSignatureException',
      400,
      `Credential should be scoped to a valid date: '${amzDateText?.slice(0, 8)}'.`,
    );
  }
  if (service !== options.service) {
    throw new AwsApiError(
      'InvalidSignatureException',
      400,
      `Credential should be scoped to correct service: '${options.service}'.`,
    );
  }
  const skew = signingDate.getTime() - options.now();
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
    const bound = new Date(options.now() + Math.sign(skew) * MAX_CLOCK_SKEW_MS).toISOString();
    throw new AwsApiError(
      'InvalidSignatureException',
      400,
      skew < 0
        ? `Signature expired: ${amzDateText} is now earlier than ${bound} (the signature is valid for 15 minutes).`
        : `Signature not yet current: ${amzDateText} is still later than ${bound}.`,
    );
  }

  const credential = options.credentials.get(accessKeyId);
  if (credential === undefined) {
    throw new AwsApiError(
      'UnrecognizedClientException',
      400,
      'The security token included in the request is invalid.',
    );
  }
  const sessionToken = headerText(request.headers, 'x-amz-security-token');
  if (
    (credential.sessionToken === undefined) !== (sessionToken === undefined) ||
    (credential.sessionToken !== undefined && !sameText(credential.sessionToken, sessionToken ?? ''))
  ) {
    throw new AwsApiError(
      'UnrecognizedClientException',
      400,
      'The security token included in the request is invalid.',
    );
  }
  if (credential.expiresAtMs !== undefined && options.now() >= credential.expiresAtMs) {
    throw new AwsApiError(
      'ExpiredTokenException',
      400,
      'The security token included in the request is expired.',
    );
  }

  const signedNames = signedHeaderList.split(';');
  if (
    !signedNames.includes('host') ||
    !signedNames.includes('x-amz-date') ||
    (sessionToken !== undefined && !signedNames.includes('x-amz-security-token'))
  ) {
    throw new AwsApiError(
      'IncompleteSignatureException',
      400,
      'SignedHeaders must include host and x-amz-date (and x-amz-security-token with a session token).',
    );
  }
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    const value = headerText(request.headers, name);
    if (value === undefined) throw signatureMismatch();
    headers[name] = value;
  }
  // The payload hash a client declares is signed: it must also be the body's.
  const declaredHash = headers['x-amz-content-sha256'];
  if (
    declaredHash !== undefined &&
    declaredHash !== createHash('sha256').update(request.body).digest('hex')
  ) {
    throw new AwsApiError(
      'InvalidSignatureException',
      400,
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }

  const signer = new SignatureV4({
    credentials: {
      accessKeyId,
      secretAccessKey: credential.secretAccessKey,
      ...(credential.sessionToken === undefined ? {} : { sessionToken: credential.sessionToken }),
    },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: service !== 's3',
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: request.path,
      query: queryOf(request.query),
      headers,
      body: request.body,
    },
    { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(signedNames) },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
  const expectedHeaders = /SignedHeaders=([^,]+),/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
  if (!sameText(expected, signature) || expectedHeaders !== signedHeaderList) throw signatureMismatch();
  return credential;
}

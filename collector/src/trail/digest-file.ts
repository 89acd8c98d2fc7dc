/*
 * CloudTrail digest files: what one says, the exact string its signature covers, and how it is
 * signed and checked (SHA256withRSA, RSA PKCS#1 v1.5, the signature as hex in the object's
 * x-amz-meta-signature). The string to sign is four lines: the digest's end time as written, its
 * bucket/key, the hex SHA-256 of the uncompressed digest, and the previous digest's signature (or
 * `null` at the start of the chain).
 */
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const SIGNATURE_ALGORITHM = 'SHA256withRSA';
export const HASH_ALGORITHM = 'SHA-256';

export interface DigestLogFile {
  s3Bucket: string;
  s3Object: string;
  hashValue: string;
  hashAlgorithm: string;
  newestEventTime: string;
  oldestEventTime: string;
  /**
   * crumbtrail's own: the commit sequence numbers this file holds (after, through], so that
   * `crumbtrail validate-logs --db` can compare the database with the archive file by file.
   */
  crumbtrailCommitRange?: { after: number; through: number };
}

export interface DigestDocument {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: string;
  newestEventTime: string | null;
  oldestEventTime: string | null;
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: string | null;
  previousDigestSignature: string | null;
  logFiles: DigestLogFile[];
  /** crumbtrail's own: what happened since the previous digest that a reader should know. */
  crumbtrailNotes?: string[];
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestStringToSign(
  digest: Pick<
    DigestDocument,
    'digestEndTime' | 'digestS3Bucket' | 'digestS3Object' | 'previousDigestSignature'
  >,
  uncompressedDigest: Buffer,
): string {
  return [
    digest.digestEndTime,
    `${digest.digestS3Bucket}/${digest.digestS3Object}`,
    sha256Hex(uncompressedDigest),
    digest.previousDigestSignature ?? 'null',
  ].join('\n');
}

/** The hex signature of an uncompressed digest. */
export function signDigest(digest: DigestDocument, uncompressed: Buffer, privateKey: KeyObject): string {
  return sign('sha256', Buffer.from(digestStringToSign(digest, uncompressed)), privateKey).toString('hex');
}

/** Whether a hex signature over an uncompressed digest verifies with a base64 PKCS#1 DER public key. */
export function verifyDigestSignature(
  digest: DigestDocument,
  uncompressed: Buffer,
  signatureHex: string,
  publicKeyBase64: string,
): boolean {
  if (!/^(?:[0-9a-f]{2})+$/i.test(signatureHex)) return false;
  const publicKey = createPublicKey({
    key: Buffer.from(publicKeyBase64, 'base64'),
    format: 'der',
    type: 'pkcs1',
  });
  return verify(
    'sha256',
    Buffer.from(digestStringToSign(digest, uncompressed)),
    publicKey,
    Buffer.from(signatureHex, 'hex'),
  );
}

const REQUIRED_FIELDS = [
  'digestPublicKeyFingerprint',
  'digestS3Bucket',
  'digestS3Object',
  'previousDigestSignature',
  'digestEndTime',
  'digestStartTime',
] as const;

/** The digest a JSON text holds, or undefined when it lacks what the AWS CLI requires. */
export function parseDigest(text: string): DigestDocument | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  if (!REQUIRED_FIELDS.every((field) => field in parsed)) return undefined;
  const digest = parsed as DigestDocument;
  if (!Array.isArray(digest.logFiles)) digest.logFiles = [];
  return digest;
}

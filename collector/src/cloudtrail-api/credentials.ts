/*
 * The credentials the CloudTrail-compatible API accepts (`--aws-credentials-file`), as JSON:
 *
 *   { "credentials": [
 *       { "accessKeyId": "AKIA…", "secretAccessKey": "…", "operations": ["LookupEvents"] },
 *       { "accessKeyId": "ASIA…", "secretAccessKey": "…", "sessionToken": "…",
 *         "expiresAt": "2027-01-01T00:00:00Z" } ] }
 *
 * `operations` (default: every operation) is what the key may call; a credential with a
 * `sessionToken` is only accepted with that token (X-Amz-Security-Token), until `expiresAt`.
 */
import { readFileSync } from 'node:fs';

export interface AwsCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Epoch ms after which the credential is refused (ExpiredTokenException). */
  expiresAtMs?: number;
  /** Operations this key may call; undefined: all. */
  operations?: ReadonlySet<string>;
}

export class CredentialsFileError extends Error {
  override readonly name = 'CredentialsFileError';
}

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

function field(
  entry: Record<string, unknown>,
  name: string,
  where: string,
  required: boolean,
): string | undefined {
  const value = entry[name];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length === 0)
    throw new CredentialsFileError(`${where}.${name} must be a non-empty string`);
  return value;
}

export function parseCredentials(
  text: string,
  knownOperations: readonly string[],
): Map<string, AwsCredential> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CredentialsFileError(`not JSON: ${(error as Error).message}`);
  }
  const list = (parsed as { credentials?: unknown } | null)?.credentials;
  if (!Array.isArray(list) || list.length === 0)
    throw new CredentialsFileError('expected {"credentials": [ { "accessKeyId", "secretAccessKey" }, … ]}');
  const byKey = new Map<string, AwsCredential>();
  list.forEach((raw: unknown, index) => {
    const where = `credentials[${index}]`;
    if (typeof raw !== 'object' || raw === null) throw new CredentialsFileError(`${where} must be an object`);
    const entry = raw as Record<string, unknown>;
    const accessKeyId = field(entry, 'accessKeyId', where, true) ?? '';
    if (!ACCESS_KEY_ID.test(accessKeyId))
      throw new CredentialsFileError(`${where}.accessKeyId must be 16–128 upper-case letters and digits`);
    if (byKey.has(accessKeyId))
      throw new CredentialsFileError(`${where}.accessKeyId ${accessKeyId} is listed twice`);
    const credential: AwsCredential = {
      accessKeyId,
      secretAccessKey: field(entry, 'secretAccessKey', where, true) ?? '',
    };
    const sessionToken = field(entry, 'sessionToken', where, false);
    if (sessionToken !== undefined) credential.sessionToken = sessionToken;
    const expiresAt = field(entry, 'expiresAt', where, false);
    if (expiresAt !== undefined) {
      const ms = Date.parse(expiresAt);
      if (!Number.isFinite(ms)) throw new CredentialsFileError(`${where}.expiresAt must be an ISO 8601 time`);
      credential.expiresAtMs = ms;
    }
    if (entry.operations !== undefined) {
      const operations = entry.operations;
      if (!Array.isArray(operations) || operations.some((op) => !knownOperations.includes(op as string)))
        throw new CredentialsFileError(
          `${where}.operations must list operations of: ${knownOperations.join(', ')}`,
        );
      credential.operations = new Set(operations as string[]);
    }
    byKey.set(accessKeyId, credential);
  });
  return byKey;
}

export function loadCredentials(
  path: string,
  knownOperations: readonly string[],
): Map<string, AwsCredential> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CredentialsFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseCredentials(text, knownOperations);
  } catch (error) {
    throw new CredentialsFileError(`${path}: ${(error as Error).message}`);
  }
}

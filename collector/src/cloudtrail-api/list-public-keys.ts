/*
 * ListPublicKeys: the public keys the trail's digests are signed with, for the time range asked
 * (every key valid at some moment of it), or the current key when no range is given, as
 * CloudTrail answers it. `aws cloudtrail validate-logs` calls it for its range plus two hours.
 */
import type { SigningKeyring } from '../trail/signing-keys.js';
import { invalidParameter } from './aws-error.js';

/** botocore and the SDK send timestamps as epoch seconds; ISO text is accepted too. */
function timeOf(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw invalidParameter('InvalidTimeRangeException', `${name} must be a timestamp.`);
  }
  return ms;
}

export async function listPublicKeys(
  request: Record<string, unknown>,
  keyring: SigningKeyring | undefined,
  now: number,
): Promise<Record<string, unknown>> {
  const startMs = timeOf(request.StartTime, 'StartTime') ?? now;
  const endMs = timeOf(request.EndTime, 'EndTime') ?? now;
  if (startMs > endMs) {
    throw invalidParameter('InvalidTimeRangeException', 'StartTime must be earlier than EndTime.');
  }
  const keys = keyring === undefined ? [] : await keyring.publicKeys(startMs, endMs);
  return {
    PublicKeyList: keys.map((entry) => ({
      // A blob on the wire is base64, and CloudTrail's key inside it is base64 DER again: the AWS
      // CLI decodes the blob, then base64-decodes the key it holds.
      Value: entry.value,
      ValidityStartTime: entry.validityStartMs / 1000,
      ValidityEndTime: keyring === undefined ? 0 : keyring.plannedEndMs(entry) / 1000,
      Fingerprint: entry.fingerprint,
    })),
  };
}

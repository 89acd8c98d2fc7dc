/*
 * `crumbtrail validate-logs`: the checks `aws cloudtrail validate-logs` makes, on the trail folder
 * itself and with the same messages, plus one CloudTrail cannot make: that the database agrees
 * with the archive. Digests are walked newest first along their previous-digest links; each must
 * be where it says it was written, name a known public key and carry a valid signature; each log
 * file it lists must hash to the value it recorded. With a database, every event of every valid
 * log file must be stored byte for byte (unless retention has since deleted it), and the database
 * must hold no event in a log file's commit range that the file does not.
 */
import { gunzipSync } from 'node:zlib';
import type { EventStore } from '../store/event-store.js';
import type { DigestDocument, DigestLogFile } from './digest-file.js';
import { parseDigest, sha256Hex, verifyDigestSignature } from './digest-file.js';
import type { PublicKeyEntry } from './signing-keys.js';
import type { TrailFolder } from './trail-folder.js';
import type { TrailIdentity } from './trail-layout.js';
import {
  digestFileKey,
  digestFilePrefix,
  digestKeyPattern,
  digestKeyTimeMs,
  digestTime,
} from './trail-layout.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const DB_PAGE = 5000;

export interface ValidationOptions {
  trail: TrailIdentity;
  startMs: number;
  endMs: number;
  publicKeys: readonly PublicKeyEntry[];
  /** Compare the database with the archive. */
  store?: EventStore;
  retentionDays: number;
  now: number;
  verbose: boolean;
  /** Where the lines go: AWS prints results on stdout and INVALID lines on stderr. */
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface ValidationSummary {
  validDigests: number;
  invalidDigests: number;
  validLogs: number;
  invalidLogs: number;
  validEvents: number;
  invalidEvents: number;
  expiredEvents: number;
}

class DigestInvalid extends Error {}
class ObjectMissing extends Error {}

export async function validateTrail(
  folder: TrailFolder,
  options: ValidationOptions,
): Promise<ValidationSummary> {
  const { trail } = options;
  const bucket = trail.bucket;
  const summary: ValidationSummary = {
    validDigests: 0,
    invalidDigests: 0,
    validLogs: 0,
    invalidLogs: 0,
    validEvents: 0,
    invalidEvents: 0,
    expiredEvents: 0,
  };
  // An object, not a let: the status closure changes it (and the checker must see that).
  const spacing = { lastWasBlank: true };
  const status = (message: string, isError = false): void => {
    if (isError) {
      options.err(spacing.lastWasBlank ? `${message}\n\n` : `\n${message}\n\n`);
      spacing.lastWasBlank = true;
    } else if (options.verbose) {
      spacing.lastWasBlank = false;
      options.out(`${message}\n`);
    }
  };
  const arn = `arn:aws:cloudtrail:${trail.region}:${trail.accountId}:trail/${trail.trailName}`;
  options.out(
    `Validating log files for trail ${arn} between ${digestTime(options.startMs)} and ${digestTime(options.endMs)}\n\n`,
  );

  // The digest keys in range, oldest first, as the AWS CLI lists them.
  const marker = digestFileKey(trail, options.startMs - 60_000);
  const pattern = digestKeyPattern(trail);
  const listed: string[] = [];
  for (let page = await folder.list(digestFilePrefix(trail), marker, 1000); ;) {
    listed.push(...page.objects.map((object) => object.key));
    const last = page.objects[page.objects.length - 1];
    if (!page.truncated || last === undefined) break;
    page = await folder.list(digestFilePrefix(trail), last.key, 1000);
  }
  const startKeyTime = Math.floor(options.startMs / 1000) * 1000;
  const endKeyTime = options.endMs + HOUR_MS;
  const digests = listed.filter((key) => {
    const time = pattern.test(key) ? digestKeyTimeMs(key) : undefined;
    return time !== undefined && time >= startKeyTime && time <= endKeyTime;
  });
  const keys = new Map(options.publicKeys.map((entry) => [entry.fingerprint, entry]));
  const keysInRange = options.publicKeys.filter(
    (entry) =>
      entry.validityStartMs <= options.endMs + 2 * HOUR_MS &&
      (entry.validityEndMs ?? Number.POSITIVE_INFINITY) >= options.startMs,
  );
  if (keysInRange.length === 0 && digests.length > 0) {
    throw new Error(
      `No public keys found between ${digestTime(options.startMs)} and ${digestTime(options.endMs + 2 * HOUR_MS)}`,
    );
  }

  const nextOlder = (before: string | undefined): string | undefined => {
    const beforeTime = before === undefined ? Number.POSITIVE_INFINITY : (digestKeyTimeMs(before) ?? 0);
    while (digests.length > 0) {
      const candidate = digests.pop();
      if (candidate !== undefined && (digestKeyTimeMs(candidate) ?? 0) < beforeTime) return candidate;
    }
    return undefined;
  };

  let foundStartMs: number | undefined;
  let foundEndMs: number | undefined;
  let key = nextOlder(undefined);
  let lastStartMs = key === undefined ? 0 : (digestKeyTimeMs(key) ?? 0);
  const visited = new Set<string>();
  while (key !== undefined && options.startMs <= lastStartMs) {
    visited.add(key);
    try {
      const digest = await loadDigest(folder, bucket, key, keys, trail.region);
      lastStartMs = Date.parse(digest.digestStartTime);
      summary.validDigests++;
      foundStartMs = Math.min(
        foundStartMs ?? Number.POSITIVE_INFINITY,
        Math.max(lastStartMs, options.startMs),
      );
      foundEndMs = Math.max(foundEndMs ?? 0, Math.min(Date.parse(digest.digestEndTime), options.endMs));
      status(`Digest file\ts3://${bucket}/${key}\tvalid`);
      for (const log of digest.logFiles) {
        const records = await checkLogFile(folder, log, summary, status);
        if (records !== undefined && options.store !== undefined) {
          await checkDatabase(options.store, log, records, options, summary, status);
        }
      }
      if (digest.previousDigestS3Bucket === null || digest.previousDigestS3Object === null) {
        key = nextOlder(key);
        if (key !== undefined) {
          status(
            `No log files were delivered by CloudTrail between ${digestTime(digestKeyTimeMs(key) ?? 0)} and ${digestTime(lastStartMs)}`,
            true,
          );
        }
      } else if (visited.has(digest.previousDigestS3Object)) {
        // A link back to a validated digest would walk the chain forever.
        summary.validDigests--;
        summary.invalidDigests++;
        status(
          `Digest file\ts3://${bucket}/${key}\tINVALID: its previous digest link loops back to ${digest.previousDigestS3Object}`,
          true,
        );
        key = nextOlder(key);
      } else {
        key = digest.previousDigestS3Object;
      }
    } catch (error) {
      if (error instanceof ObjectMissing) {
        summary.invalidDigests++;
        status(`Digest file\ts3://${bucket}/${key}\tINVALID: not found`, true);
      } else if (error instanceof DigestInvalid) {
        summary.invalidDigests++;
        status(error.message, true);
      } else {
        throw error;
      }
      key = nextOlder(key);
    }
  }

  if (!spacing.lastWasBlank) options.out('\n');
  options.out(`Results requested for ${digestTime(options.startMs)} to ${digestTime(options.endMs)}\n`);
  if (summary.validDigests + summary.invalidDigests === 0) {
    options.out('No digests found\n');
    return summary;
  }
  if (foundStartMs === undefined || foundEndMs === undefined)
    options.out('No valid digests found in range\n');
  else options.out(`Results found for ${digestTime(foundStartMs)} to ${digestTime(foundEndMs)}:\n`);
  const ratio = (valid: number, invalid: number, name: string): void => {
    const total = valid + invalid;
    if (total === 0) return;
    options.out(`\n${valid}/${total} ${name} valid`);
    if (invalid > 0) options.out(`, ${invalid}/${total} ${name} INVALID`);
  };
  ratio(summary.validDigests, summary.invalidDigests, 'digest files');
  ratio(summary.validLogs, summary.invalidLogs, 'log files');
  if (options.store !== undefined) {
    ratio(summary.validEvents, summary.invalidEvents, 'database events');
    if (summary.expiredEvents > 0) {
      options.out(
        `\n${summary.expiredEvents} archived events are past retention and no longer in the database`,
      );
    }
  }
  options.out('\n');
  return summary;
}

async function loadDigest(
  folder: TrailFolder,
  bucket: string,
  key: string,
  keys: ReadonlyMap<string, PublicKeyEntry>,
  region: string,
): Promise<DigestDocument> {
  const object = await folder.get(key);
  if (object === undefined) throw new ObjectMissing();
  const where = `Digest file\ts3://${bucket}/${key}\tINVALID:`;
  let uncompressed: Buffer;
  try {
    uncompressed = gunzipSync(object.body);
  } catch {
    throw new DigestInvalid(`${where} invalid format`);
  }
  const signature = object.metadata.signature;
  if (signature === undefined || object.metadata['signature-algorithm'] === undefined) {
    throw new DigestInvalid(`${where} signature verification failed`);
  }
  const digest = parseDigest(uncompressed.toString('utf8'));
  if (digest === undefined) throw new DigestInvalid(`${where} invalid format`);
  if (digest.digestS3Bucket !== bucket || digest.digestS3Object !== key) {
    throw new DigestInvalid(`${where} has been moved from its original location`);
  }
  const publicKey = keys.get(digest.digestPublicKeyFingerprint);
  if (publicKey === undefined) {
    throw new DigestInvalid(
      `${where} public key not found in region ${region} for fingerprint ${digest.digestPublicKeyFingerprint}`,
    );
  }
  let verified: boolean;
  try {
    verified = verifyDigestSignature(digest, uncompressed, signature, publicKey.value);
  } catch {
    throw new DigestInvalid(
      `${where} Unable to load PKCS #1 key with fingerprint ${digest.digestPublicKeyFingerprint}`,
    );
  }
  if (!verified) throw new DigestInvalid(`${where} signature verification failed`);
  return digest;
}

/** Checks a log file's hash; its records when it is valid. */
async function checkLogFile(
  folder: TrailFolder,
  log: DigestLogFile,
  summary: ValidationSummary,
  status: (message: string, isError?: boolean) => void,
): Promise<unknown[] | undefined> {
  const where = `Log file\ts3://${log.s3Bucket}/${log.s3Object}`;
  const object = await folder.get(log.s3Object);
  if (object === undefined) {
    summary.invalidLogs++;
    status(`${where}\tINVALID: not found`, true);
    return undefined;
  }
  let text: Buffer;
  try {
    // A member appended after the first is decompressed too (its bytes then fail the hash), and
    // trailing bytes that are not gzip are refused: either way an appended record is INVALID.
    text = gunzipSync(object.body);
  } catch {
    summary.invalidLogs++;
    status(`${where}\tINVALID: invalid format`, true);
    return undefined;
  }
  if (sha256Hex(text) !== log.hashValue) {
    summary.invalidLogs++;
    status(`${where}\tINVALID: hash value doesn't match`, true);
    return undefined;
  }
  summary.validLogs++;
  status(`${where}\tvalid`);
  try {
    const records = (JSON.parse(text.toString('utf8')) as { Records?: unknown }).Records;
    return Array.isArray(records) ? (records as unknown[]) : [];
  } catch {
    return [];
  }
}

function eventIdOf(record: unknown): string | undefined {
  const id = (record as { eventID?: unknown } | null)?.eventID;
  return typeof id === 'string' ? id : undefined;
}

/** Compares one valid log file with the database rows of its commit range. */
async function checkDatabase(
  store: EventStore,
  log: DigestLogFile,
  archived: readonly unknown[],
  options: ValidationOptions,
  summary: ValidationSummary,
  status: (message: string, isError?: boolean) => void,
): Promise<void> {
  const range = log.crumbtrailCommitRange;
  if (range === undefined) return;
  const where = `log file s3://${log.s3Bucket}/${log.s3Object}`;
  const stored = new Map<string, string>();
  for (let after = range.after; ;) {
    const rows = await store.committedRecords(after, DB_PAGE, range.through);
    for (const row of rows) stored.set(row.eventId, row.record);
    const last = rows[rows.length - 1];
    if (last === undefined || rows.length < DB_PAGE) break;
    after = last.seq;
  }
  const retentionCutoffMs = options.now - options.retentionDays * DAY_MS;
  let matched = 0;
  for (const record of archived) {
    const id = eventIdOf(record) ?? '(no eventID)';
    const text = stored.get(id);
    stored.delete(id);
    if (text === undefined) {
      const eventTimeMs = Date.parse(String((record as { eventTime?: unknown }).eventTime));
      if (eventTimeMs < retentionCutoffMs) {
        summary.expiredEvents++;
        continue;
      }
      summary.invalidEvents++;
      status(`Event\t${id}\tINVALID: not in the database, but in ${where}`, true);
    } else if (text !== JSON.stringify(record)) {
      summary.invalidEvents++;
      status(`Event\t${id}\tINVALID: the database's record differs from its copy in ${where}`, true);
    } else {
      summary.validEvents++;
      matched++;
    }
  }
  for (const id of stored.keys()) {
    summary.invalidEvents++;
    status(`Event\t${id}\tINVALID: in the database, but not in ${where}, which holds its commits`, true);
  }
  status(`Database\t${where}\t${matched} events match`);
}

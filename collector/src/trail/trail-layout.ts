/*
 * Where a trail's files go and what they are called: CloudTrail's S3 key layout, so that
 * `aws cloudtrail validate-logs` and other S3 readers find crumbtrail's files where they look for
 * CloudTrail's.
 *
 *   AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 chars>.json.gz
 *   AWSLogs/<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<home region>_YYYYMMDDTHHMMSSZ.json.gz
 */
import { randomInt } from 'node:crypto';

export interface TrailIdentity {
  accountId: string;
  /** The trail's home region; crumbtrail delivers every event under it. */
  region: string;
  trailName: string;
  /** The S3 bucket name the trail is served as (DescribeTrails' S3BucketName). */
  bucket: string;
}

const UNIQUE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function dayPath(ms: number): string {
  const date = new Date(ms);
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
}

/** YYYYMMDDTHHMMSSZ, as in digest file names. */
function compactSeconds(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The time format of digest files: 2015-08-17T15:01:31Z (no fraction). */
export function digestTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** CloudTrail's 16 meaningless characters that keep log file names apart. */
export function uniqueString(): string {
  let text = '';
  for (let i = 0; i < 16; i++) text += UNIQUE_ALPHABET[randomInt(UNIQUE_ALPHABET.length)] ?? 'A';
  return text;
}

export function logFilePrefix(trail: TrailIdentity): string {
  return `AWSLogs/${trail.accountId}/CloudTrail/${trail.region}/`;
}

export function digestFilePrefix(trail: TrailIdentity): string {
  return `AWSLogs/${trail.accountId}/CloudTrail-Digest/${trail.region}/`;
}

export function logFileKey(trail: TrailIdentity, deliveredMs: number, unique: string): string {
  const minute = compactSeconds(deliveredMs).slice(0, 13) + 'Z';
  return `${logFilePrefix(trail)}${dayPath(deliveredMs)}/${trail.accountId}_CloudTrail_${trail.region}_${minute}_${unique}.json.gz`;
}

export function digestFileKey(trail: TrailIdentity, endMs: number): string {
  return `${digestFilePrefix(trail)}${dayPath(endMs)}/${trail.accountId}_CloudTrail-Digest_${trail.region}_${trail.trailName}_${trail.region}_${compactSeconds(endMs)}.json.gz`;
}

/** The digest's end time from its key (`key[-24:-8]`, as the AWS CLI reads it), epoch ms. */
export function digestKeyTimeMs(key: string): number | undefined {
  const match = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.json\.gz$/.exec(key);
  if (match === null) return undefined;
  const [year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0] = match.slice(1).map(Number);
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** Matches the trail's own digest keys, as the AWS CLI filters a listing. */
export function digestKeyPattern(trail: TrailIdentity): RegExp {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const account = escape(trail.accountId);
  const region = escape(trail.region);
  return new RegExp(
    `^AWSLogs/${account}/CloudTrail\\-Digest/${region}/\\d+/\\d+/\\d+/${account}_CloudTrail\\-Digest_${region}_${escape(trail.trailName)}_${region}_.+\\.json\\.gz$`,
  );
}

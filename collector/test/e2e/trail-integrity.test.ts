/*
 * Tamper evidence, end to end. A real collector delivers a trail across a clean restart, a kill -9
 * and a crash in the middle of a log file; then the real `aws cloudtrail validate-logs` (AWS CLI
 * v1, reaching the collector's S3 subset through AWS_ENDPOINT_URL_S3) and `crumbtrail
 * validate-logs` must pass the clean trail, and must each report every tampering, naming the file
 * or the event. Debian's AWS CLI v2 (2.9) is not used here: it ignores AWS_ENDPOINT_URL_S3 and
 * would look for the bucket on AWS itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { parseDigest, signDigest } from '../../src/trail/digest-file.js';
import type { DigestDocument } from '../../src/trail/digest-file.js';
import { publicKeyEntryOf } from '../../src/trail/signing-keys.js';
import { TrailFolder } from '../../src/trail/trail-folder.js';
import type { AwsCli, CliResult, Credentials } from '../support/aws-clients.js';
import { awsClis, runAwsCli } from '../support/aws-clients.js';
import { killedOnExit, stopChild } from '../support/child-processes.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { startCollectorProcess } from '../support/collector-process.js';
import { auditJsonSpan, exportRequestJson, freshSpanId, postJsonExport } from '../support/otlp-json.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/crumbtrail`;
const AUDITOR: Credentials = { accessKeyId: 'AKIACRUMBTRAILAUDIT1', secretAccessKey: 'auditor/secret+0123' };
const CRUMBTRAIL_BIN = resolve(import.meta.dirname, '../../bin/crumbtrail.js');
const BATCH = 10;
/** Events are timed a few minutes back: well inside retention and the validation range. */
const EVENT_TIME_MS = Date.now() - 5 * 60_000;
/** Everything the runs below delivered, with a margin for a loaded machine. */
const START_TIME = new Date(Date.now() - 30 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface TrailCopy {
  root: string;
  db: string;
  trailDir: string;
  folder: TrailFolder;
}

function copyAt(root: string): TrailCopy {
  const trailDir = join(root, 'trail');
  return { root, db: join(root, 'events.db'), trailDir, folder: new TrailFolder(trailDir) };
}

function collectorArgs(
  copy: TrailCopy,
  credentialsPath: string,
  intervalSeconds: number,
  digestSeconds = intervalSeconds,
): string[] {
  return [
    '--trail-dir',
    copy.trailDir,
    '--trail-delivery-seconds',
    String(intervalSeconds),
    '--trail-digest-seconds',
    String(digestSeconds),
    '--aws-credentials-file',
    credentialsPath,
    '--aws-region',
    REGION,
    '--aws-account-id',
    ACCOUNT,
    '--no-insights',
  ];
}

/** Every object key of the trail folder (what S3 would list), sorted. */
function objectKeys(copy: TrailCopy): string[] {
  const top = join(copy.trailDir, 'AWSLogs');
  if (!existsSync(top)) return [];
  return readdirSync(top, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.includes('.tmp-'))
    .map((entry) => relative(copy.trailDir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

const isDigestKey = (key: string): boolean => key.includes('/CloudTrail-Digest/');
const logKeysOf = (copy: TrailCopy): string[] => objectKeys(copy).filter((key) => !isDigestKey(key));

function readDigest(copy: TrailCopy, key: string): DigestDocument {
  const digest = parseDigest(gunzipSync(readFileSync(join(copy.trailDir, key))).toString('utf8'));
  assert.ok(digest !== undefined, `${key} is a digest`);
  return digest;
}

/** The digests oldest first, as the chain orders them. */
function digests(copy: TrailCopy): { key: string; digest: DigestDocument }[] {
  return objectKeys(copy)
    .filter(isDigestKey)
    .map((key) => ({ key, digest: readDigest(copy, key) }));
}

function readLogRecords(copy: TrailCopy, key: string): { eventID: string; eventName: string }[] {
  return (
    JSON.parse(gunzipSync(readFileSync(join(copy.trailDir, key))).toString('utf8')) as {
      Records: { eventID: string; eventName: string }[];
    }
  ).Records;
}

async function exportBatch(collector: CollectorProcess, label: string): Promise<void> {
  const spans = Array.from({ length: BATCH }, (_, i) =>
    auditJsonSpan(freshSpanId(), EVENT_TIME_MS + i * 1000, `Call${label}${i}`),
  );
  const answer = await postJsonExport(collector.otlpUrl, exportRequestJson(spans));
  assert.equal(answer.status, 200, 'the export is acknowledged');
}

/** Polls (no timing assumption: a deadline only against hanging) until check() holds. */
async function eventually(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
}

async function runCrumbtrail(args: string[]): Promise<CliResult> {
  const child = killedOnExit(
    spawn(process.execPath, [CRUMBTRAIL_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<number | null>((resolveClose) => child.once('close', resolveClose));
  const timer = setTimeout(() => void stopChild(child, 1000), 120_000);
  try {
    return { code: await closed, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function crumbtrailValidate(copy: TrailCopy): Promise<CliResult> {
  return runCrumbtrail([
    'validate-logs',
    '--trail-arn',
    TRAIL_ARN,
    '--start-time',
    START_TIME,
    '--trail-dir',
    copy.trailDir,
    '--db',
    copy.db,
    '--verbose',
  ]);
}

describe('tamper-evident trail', () => {
  let root: string;
  let credentialsPath: string;
  let pristine: TrailCopy;
  let cliV1: AwsCli;
  let caseNumber = 0;

  before(async () => {
    cliV1 = awsClis().find((cli) => cli.name === 'v1') ?? assert.fail('AWS CLI v1 is needed');
    root = mkdtempSync(join(tmpdir(), 'crumbtrail-trail-'));
    credentialsPath = join(root, 'credentials.json');
    writeFileSync(credentialsPath, JSON.stringify({ credentials: [AUDITOR] }), { mode: 0o600 });
    pristine = copyAt(join(root, 'pristine'));
    mkdirSync(pristine.root);
    const args = collectorArgs(pristine, credentialsPath, 1);

    // Run 1 ends cleanly: its last digest closes the period.
    const digestCount = (): number => objectKeys(pristine).filter(isDigestKey).length;
    const first = await startCollectorProcess({ dbPath: pristine.db, args });
    await exportBatch(first, 'A');
    // A digest of its own before the one the stop writes: the chain has links within a run too.
    await eventually('a digest in run 1', () => digestCount() >= 1);
    assert.equal(await first.stop(), 0);

    // Run 2 is killed once its events are in a log file, before any shutdown. It writes no
    // digest (hourly), and with nothing new to deliver its ticks leave the state alone: once the
    // state has no step under way, the kill cannot land inside one (the simulation below must
    // not overwrite a real intent).
    const statePath = join(pristine.trailDir, '.crumbtrail', 'trail-state.json');
    const readState = (): Record<string, unknown> =>
      JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>;
    const second = await startCollectorProcess({
      dbPath: pristine.db,
      args: collectorArgs(pristine, credentialsPath, 1, 3600),
    });
    const filesBefore = logKeysOf(pristine).length;
    await exportBatch(second, 'B');
    await eventually(
      'batch B delivered, no step under way',
      () => logKeysOf(pristine).length > filesBefore && readState().pending === null,
    );
    await second.crash();

    // As if the kill had come in the middle of a log file: its intent recorded, its temporary
    // file half written, its key never renamed into place.
    const state = readState();
    const halfKey = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2000/01/01/${ACCOUNT}_CloudTrail_${REGION}_20000101T0000Z_HALFWRITTENFILE0.json.gz`;
    state.pending = {
      kind: 'log',
      key: halfKey,
      throughSeq: 10_000,
      entry: { s3Bucket: 'crumbtrail', s3Object: halfKey, hashValue: '0', hashAlgorithm: 'SHA-256' },
    };
    writeFileSync(statePath, JSON.stringify(state));
    mkdirSync(dirname(join(pristine.trailDir, halfKey)), { recursive: true });
    writeFileSync(
      `${join(pristine.trailDir, halfKey)}.tmp-0123456789ab`,
      gzipSync('{"Records":[{"ev').subarray(0, 10),
    );

    // Run 3 recovers, takes more events and stops cleanly.
    const third = await startCollectorProcess({ dbPath: pristine.db, args });
    const digestsBefore = digestCount();
    await exportBatch(third, 'C');
    await eventually('a digest in run 3', () => digestCount() > digestsBefore);
    assert.equal(await third.stop(), 0);
  });

  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  /** A copy of the pristine trail, database and keys, changed by `tamper`. */
  function tamperedCopy(tamper: (copy: TrailCopy) => void): TrailCopy {
    const copy = copyAt(join(root, `case-${++caseNumber}`));
    cpSync(pristine.root, copy.root, { recursive: true });
    tamper(copy);
    return copy;
  }

  /** The real AWS CLI's verdict on a copy, served by a collector that delivers nothing meanwhile. */
  async function awsValidate(copy: TrailCopy): Promise<CliResult> {
    const collector = await startCollectorProcess({
      dbPath: copy.db,
      args: collectorArgs(copy, credentialsPath, 3600),
    });
    try {
      return await runAwsCli(
        cliV1,
        [
          'cloudtrail',
          'validate-logs',
          '--region',
          REGION,
          '--endpoint-url',
          collector.apiUrl,
          '--trail-arn',
          TRAIL_ARN,
          '--start-time',
          START_TIME,
          '--verbose',
        ],
        AUDITOR,
        { AWS_ENDPOINT_URL_S3: collector.apiUrl },
      );
    } finally {
      // Killed, not stopped: a clean stop would deliver a digest into the copy.
      await collector.crash();
    }
  }

  const logKeys = logKeysOf;

  it('chains every digest to the one before across a clean restart, a kill -9 and a half-written file', () => {
    const chain = digests(pristine);
    assert.ok(chain.length >= 4, `a digest during runs 1 and 3, and one at each stop (got ${chain.length})`);
    assert.equal(chain[0]?.digest.previousDigestSignature, null, 'one chain start');
    for (let i = 1; i < chain.length; i++) {
      const { digest } = chain[i] ?? assert.fail();
      const previous = chain[i - 1] ?? assert.fail();
      assert.equal(
        digest.previousDigestS3Object,
        previous.key,
        `${chain[i]?.key} follows the digest before it`,
      );
      assert.equal(digest.digestStartTime, previous.digest.digestEndTime, 'no gap between digests');
    }
    const referenced = chain.map(({ digest }) => digest.previousDigestS3Object).filter((key) => key !== null);
    assert.equal(new Set(referenced).size, referenced.length, 'no digest has two successors (no fork)');

    // Every acknowledged event is in exactly one digested log file.
    const digested = chain.flatMap(({ digest }) => digest.logFiles.map((file) => file.s3Object));
    assert.deepEqual([...digested].sort(), logKeys(pristine), 'every log file is in a digest, once');
    const names = digested.flatMap((key) => readLogRecords(pristine, key).map((record) => record.eventName));
    const expected = ['A', 'B', 'C'].flatMap((label) =>
      Array.from({ length: BATCH }, (_, i) => `Call${label}${i}`),
    );
    assert.deepEqual([...names].sort(), expected.sort());

    const notes = chain.flatMap(({ digest }) => digest.crumbtrailNotes ?? []).join('\n');
    assert.match(notes, /stopped without shutting down/);
    assert.match(notes, /HALFWRITTENFILE0\.json\.gz\) was never completed/);
    assert.match(notes, /partly written file\(s\) of the stopped run were removed/);
  });

  it('passes the real aws cloudtrail validate-logs and crumbtrail validate-logs on the clean trail', async () => {
    const copy = tamperedCopy(() => undefined);
    const logs = logKeys(copy).length;
    const digestCount = objectKeys(copy).length - logs;
    const aws = await awsValidate(copy);
    assert.equal(aws.code, 0, aws.stderr + aws.stdout);
    assert.match(aws.stdout, new RegExp(`${digestCount}/${digestCount} digest files valid\\n`));
    assert.match(aws.stdout, new RegExp(`${logs}/${logs} log files valid\\n`));
    assert.doesNotMatch(aws.stdout + aws.stderr, /INVALID|No log files were delivered/);

    const ours = await crumbtrailValidate(copy);
    assert.equal(ours.code, 0, ours.stderr + ours.stdout);
    assert.match(ours.stdout, new RegExp(`${digestCount}/${digestCount} digest files valid\\n`));
    assert.match(ours.stdout, new RegExp(`${logs}/${logs} log files valid\\n`));
    assert.match(ours.stdout, new RegExp(`${3 * BATCH}/${3 * BATCH} database events valid`));
    assert.equal(ours.stderr, '');
  });

  /** Both validators fail the copy, each naming what changed. */
  async function assertBothReport(copy: TrailCopy, expected: RegExp[]): Promise<void> {
    const aws = await awsValidate(copy);
    const ours = await crumbtrailValidate(copy);
    for (const [who, result] of [
      ['aws cloudtrail validate-logs', aws],
      ['crumbtrail validate-logs', ours],
    ] as const) {
      assert.equal(result.code, 1, `${who} fails: ${result.stdout}${result.stderr}`);
      for (const pattern of expected) assert.match(result.stderr, pattern, `${who} reports ${pattern}`);
    }
  }

  const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** The oldest digest's first log file: every walk of the chain reaches it. */
  const firstLogWithRecords = (copy: TrailCopy): string =>
    digests(copy).find(({ digest }) => digest.logFiles.length > 0)?.digest.logFiles[0]?.s3Object ??
    assert.fail('a digested log file');
  /** A digest that a later digest points back to. */
  const middleDigest = (copy: TrailCopy): string => digests(copy).at(-2)?.key ?? assert.fail('two digests');

  it('reports an edited record in a log file', async () => {
    let key = '';
    const copy = tamperedCopy((target) => {
      key = firstLogWithRecords(target);
      const path = join(target.trailDir, key);
      const text = gunzipSync(readFileSync(path)).toString('utf8');
      writeFileSync(path, gzipSync(text.replace(/"eventName":"Call([A-C])0"/, '"eventName":"Innocent$1"')));
    });
    await assertBothReport(copy, [
      new RegExp(`Log file\\ts3://crumbtrail/${escaped(key)}\\tINVALID: hash value doesn't match`),
    ]);
  });

  /** Deletes the object `choose` picks; both validators must report it as not found. */
  async function assertDeletionReported(
    kind: 'Log file' | 'Digest file',
    choose: (copy: TrailCopy) => string,
  ) {
    let key = '';
    const copy = tamperedCopy((target) => {
      key = choose(target);
      rmSync(join(target.trailDir, key));
    });
    await assertBothReport(copy, [
      new RegExp(`${kind}\\ts3://crumbtrail/${escaped(key)}\\tINVALID: not found`),
    ]);
  }

  it('reports a deleted log file', async () => {
    await assertDeletionReported('Log file', firstLogWithRecords);
  });

  it('reports a deleted digest', async () => {
    await assertDeletionReported('Digest file', middleDigest);
  });

  it('reports an edited digest', async () => {
    let key = '';
    const copy = tamperedCopy((target) => {
      key =
        digests(target).find(({ digest }) => digest.logFiles.length > 0)?.key ??
        assert.fail('a digest with logs');
      const path = join(target.trailDir, key);
      const digest = readDigest(target, key);
      // Hiding a log file from the chain.
      digest.logFiles = digest.logFiles.slice(1);
      writeFileSync(path, gzipSync(JSON.stringify(digest)));
    });
    await assertBothReport(copy, [
      new RegExp(`Digest file\\ts3://crumbtrail/${escaped(key)}\\tINVALID: signature verification failed`),
    ]);
  });

  it('reports a digest re-signed with a foreign key', async () => {
    let key = '';
    let fingerprint = '';
    const copy = tamperedCopy((target) => {
      key = middleDigest(target);
      const digest = readDigest(target, key);
      digest.logFiles = [];
      const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 });
      fingerprint = publicKeyEntryOf(foreign.publicKey, Date.now()).fingerprint;
      digest.digestPublicKeyFingerprint = fingerprint;
      const text = Buffer.from(JSON.stringify(digest));
      const signature = signDigest(digest, text, foreign.privateKey);
      // Written as an S3 PUT with the forger's signature metadata would store it.
      const path = join(target.trailDir, key);
      writeFileSync(path, gzipSync(text));
      const metadataPath = join(target.trailDir, '.crumbtrail', 'metadata', `${key}.json`);
      writeFileSync(
        metadataPath,
        JSON.stringify({ etag: 'x', metadata: { signature, 'signature-algorithm': 'SHA256withRSA' } }),
      );
    });
    await assertBothReport(copy, [
      new RegExp(
        `Digest file\\ts3://crumbtrail/${escaped(key)}\\tINVALID: public key not found in region ${REGION} for fingerprint ${fingerprint}`,
      ),
    ]);
  });

  it('reports moved files', async () => {
    let digestKey = '';
    let movedDigestKey = '';
    let logKey = '';
    const copy = tamperedCopy((target) => {
      digestKey = middleDigest(target);
      // Still the trail's name pattern, dated the same, but not where it was written.
      movedDigestKey = digestKey.replace(`_crumbtrail_${REGION}_`, `_crumbtrail_${REGION}_moved_`);
      assert.ok(!objectKeys(target).includes(movedDigestKey));
      const moves: [string, string][] = [[digestKey, movedDigestKey]];
      logKey = firstLogWithRecords(target);
      moves.push([logKey, logKey.replace('/CloudTrail/', '/CloudTrail/moved/')]);
      for (const [from, to] of moves) {
        // An S3 move keeps the object's metadata with it.
        for (const base of [target.trailDir, join(target.trailDir, '.crumbtrail', 'metadata')]) {
          const suffix = base === target.trailDir ? '' : '.json';
          mkdirSync(dirname(join(base, to + suffix)), { recursive: true });
          renameSync(join(base, from + suffix), join(base, to + suffix));
        }
      }
    });
    await assertBothReport(copy, [
      new RegExp(
        `Digest file\\ts3://crumbtrail/${escaped(movedDigestKey)}\\tINVALID: has been moved from its original location`,
      ),
      new RegExp(`Log file\\ts3://crumbtrail/${escaped(logKey)}\\tINVALID: not found`),
    ]);
  });

  /** Changes the database behind the archive's back; the AWS CLI cannot see it, crumbtrail must. */
  async function assertDatabaseTamperReported(
    change: (db: Database.Database) => string,
    expected: string,
  ): Promise<void> {
    let eventId = '';
    const copy = tamperedCopy((target) => {
      const db = new Database(target.db);
      try {
        eventId = change(db);
      } finally {
        db.close();
      }
    });
    const aws = await awsValidate(copy);
    assert.equal(aws.code, 0, `the archive itself is intact: ${aws.stderr}`);
    const ours = await crumbtrailValidate(copy);
    assert.equal(ours.code, 1, ours.stdout + ours.stderr);
    assert.match(ours.stderr, new RegExp(`Event\\t${escaped(eventId)}\\tINVALID: ${expected}`));
    assert.match(
      ours.stdout,
      new RegExp(
        `${3 * BATCH - 1}/${3 * BATCH} database events valid, 1/${3 * BATCH} database events INVALID`,
      ),
    );
  }

  const eventIdOf = (db: Database.Database, name: string): string =>
    db.prepare(`SELECT event_id FROM events WHERE event_name = ?`).pluck().get(name) as string;

  it('reports a row edited in the SQLite database', async () => {
    await assertDatabaseTamperReported((db) => {
      const id = eventIdOf(db, 'CallB3');
      db.prepare(
        `UPDATE events SET record = replace(record, '"CallB3"', '"Innocent"') WHERE event_id = ?`,
      ).run(id);
      return id;
    }, "the database's record differs from its copy in log file s3://crumbtrail/");
  });

  it('reports a row deleted from the SQLite database', async () => {
    await assertDatabaseTamperReported((db) => {
      const id = eventIdOf(db, 'CallC7');
      db.prepare('DELETE FROM events WHERE event_id = ?').run(id);
      return id;
    }, 'not in the database, but in log file s3://crumbtrail/');
  });

  describe('served to S3 readers and the CloudTrail API', () => {
    const TOKEN = 'query-api-token-0123456789';
    const NO_OBJECTS: Credentials = { accessKeyId: 'AKIACRUMBTRAILLIST01', secretAccessKey: 'list-only' };
    let served: TrailCopy;
    let collector: CollectorProcess;
    const s3Env = (): Record<string, string> => ({ AWS_ENDPOINT_URL_S3: collector.apiUrl });
    const aws = (args: string[], credentials: Credentials = AUDITOR): Promise<CliResult> =>
      runAwsCli(cliV1, ['--region', REGION, ...args], credentials, s3Env());

    before(async () => {
      served = tamperedCopy(() => undefined);
      const limitedPath = join(served.root, 'limited-credentials.json');
      writeFileSync(
        limitedPath,
        JSON.stringify({
          credentials: [AUDITOR, { ...NO_OBJECTS, operations: ['s3:ListBucket', 's3:GetBucketLocation'] }],
        }),
        { mode: 0o600 },
      );
      const args = collectorArgs(served, limitedPath, 3600);
      collector = await startCollectorProcess({ dbPath: served.db, args: [...args, '--api-token', TOKEN] });
    });
    after(async () => {
      await collector.crash();
    });

    it('lists exactly the trail objects to aws s3 ls, never the private files', async () => {
      const result = await aws(['s3', 'ls', 's3://crumbtrail/', '--recursive']);
      assert.equal(result.code, 0, result.stderr);
      const listed = result.stdout
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/).at(-1));
      assert.deepEqual(listed, objectKeys(served));
      assert.doesNotMatch(result.stdout, /\.crumbtrail|trail-state|tmp-/);
    });

    it('pages ListObjects by marker and max-keys, and url-encodes keys on request', async () => {
      const prefix = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/`;
      const first = await aws([
        's3api',
        'list-objects',
        '--bucket',
        'crumbtrail',
        '--prefix',
        prefix,
        '--max-keys',
        '2',
        '--no-paginate',
      ]);
      assert.equal(first.code, 0, first.stderr);
      const page = JSON.parse(first.stdout) as { Contents: { Key: string }[]; IsTruncated: boolean };
      const digestKeys = objectKeys(served).filter(isDigestKey);
      assert.deepEqual(
        page.Contents.map((object) => object.Key),
        digestKeys.slice(0, 2),
      );
      assert.equal(page.IsTruncated, true);
      const next = await aws([
        's3api',
        'list-objects',
        '--bucket',
        'crumbtrail',
        '--prefix',
        prefix,
        '--marker',
        digestKeys[1] ?? '',
        '--max-keys',
        '1',
        '--no-paginate',
        '--encoding-type',
        'url',
      ]);
      const nextPage = JSON.parse(next.stdout) as { Contents: { Key: string }[]; EncodingType: string };
      assert.deepEqual(
        nextPage.Contents.map((object) => object.Key),
        [digestKeys[2]],
      );
      assert.equal(nextPage.EncodingType, 'url');
    });

    it('serves a digest with its signature metadata, and a log file byte for byte', async () => {
      const digestKey = objectKeys(served).find(isDigestKey) ?? assert.fail();
      const out = join(served.root, 'digest-download.gz');
      const got = await aws(['s3api', 'get-object', '--bucket', 'crumbtrail', '--key', digestKey, out]);
      assert.equal(got.code, 0, got.stderr);
      const head = JSON.parse(got.stdout) as { Metadata: Record<string, string> };
      assert.match(head.Metadata.signature ?? '', /^[0-9a-f]{512}$/);
      assert.equal(head.Metadata['signature-algorithm'], 'SHA256withRSA');
      assert.deepEqual(readFileSync(out), readFileSync(join(served.trailDir, digestKey)));

      const logKey = logKeys(served)[0] ?? assert.fail();
      const copied = await aws(['s3', 'cp', `s3://crumbtrail/${logKey}`, join(served.root, 'log.gz')]);
      assert.equal(copied.code, 0, copied.stderr);
      assert.deepEqual(
        readFileSync(join(served.root, 'log.gz')),
        readFileSync(join(served.trailDir, logKey)),
      );
    });

    it('answers NoSuchKey for private files, traversal and missing keys', async () => {
      for (const key of [
        '.crumbtrail/trail-state.json',
        `.crumbtrail/metadata/${objectKeys(served)[0] ?? ''}.json`,
        'AWSLogs/../.crumbtrail/trail-state.json',
        'AWSLogs/%2e%2e/.crumbtrail/trail-state.json',
        'AWSLogs/no-such-object.json.gz',
      ]) {
        const result = await aws([
          's3api',
          'get-object',
          '--bucket',
          'crumbtrail',
          '--key',
          key,
          join(served.root, 'x'),
        ]);
        assert.notEqual(result.code, 0, key);
        assert.match(result.stderr, /NoSuchKey/, key);
      }
      const raw = await fetch(`${collector.apiUrl}/crumbtrail/AWSLogs/%2e%2e/.crumbtrail/trail-state.json`);
      assert.equal(raw.status, 403, 'unsigned: refused before any lookup');
    });

    it('refuses unsigned, wrongly signed and unauthorised requests with S3 error codes', async () => {
      const unsigned = await fetch(`${collector.apiUrl}/crumbtrail?location`);
      assert.equal(unsigned.status, 403);
      assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);
      // The query API token is not a way in either: the S3 subset takes SigV4 only.
      const withToken = await fetch(`${collector.apiUrl}/crumbtrail?location`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(withToken.status, 400);
      assert.match(await withToken.text(), /<Code>AuthorizationHeaderMalformed<\/Code>/);

      const wrongSecret = await aws(['s3', 'ls', 's3://crumbtrail/'], {
        ...AUDITOR,
        secretAccessKey: 'wrong',
      });
      assert.notEqual(wrongSecret.code, 0);
      assert.match(wrongSecret.stderr, /SignatureDoesNotMatch/);
      const unknownKey = await aws(['s3', 'ls', 's3://crumbtrail/'], {
        accessKeyId: 'AKIANOSUCHKEY0000000',
        secretAccessKey: 'x',
      });
      assert.match(unknownKey.stderr, /InvalidAccessKeyId/);

      const listOnly = await aws(['s3', 'ls', 's3://crumbtrail/', '--recursive'], NO_OBJECTS);
      assert.equal(listOnly.code, 0, listOnly.stderr);
      const forbidden = await aws(
        [
          's3api',
          'get-object',
          '--bucket',
          'crumbtrail',
          '--key',
          logKeys(served)[0] ?? '',
          join(served.root, 'y'),
        ],
        NO_OBJECTS,
      );
      assert.notEqual(forbidden.code, 0);
      assert.match(forbidden.stderr, /AccessDenied/);
    });

    it('describes the trail with log file validation on, and lists its public key with its validity', async () => {
      for (const cli of awsClis()) {
        const described = await runAwsCli(
          cli,
          ['--region', REGION, '--endpoint-url', collector.apiUrl, 'cloudtrail', 'describe-trails'],
          AUDITOR,
        );
        assert.equal(described.code, 0, described.stderr);
        const trail = (JSON.parse(described.stdout) as { trailList: Record<string, unknown>[] }).trailList[0];
        assert.equal(trail?.LogFileValidationEnabled, true, cli.name);
        assert.equal(trail.S3BucketName, 'crumbtrail');

        const listed = await runAwsCli(
          cli,
          [
            '--region',
            REGION,
            '--endpoint-url',
            collector.apiUrl,
            'cloudtrail',
            'list-public-keys',
            '--start-time',
            START_TIME,
          ],
          AUDITOR,
        );
        assert.equal(listed.code, 0, listed.stderr);
        const keys = (
          JSON.parse(listed.stdout) as {
            PublicKeyList: { Fingerprint: string; ValidityStartTime: string; ValidityEndTime: string }[];
          }
        ).PublicKeyList;
        const fingerprints = new Set(digests(served).map(({ digest }) => digest.digestPublicKeyFingerprint));
        assert.deepEqual(
          keys.map((key) => key.Fingerprint),
          [...fingerprints],
          cli.name,
        );
        const [key] = keys;
        assert.ok(key !== undefined && new Date(key.ValidityStartTime) < new Date(key.ValidityEndTime));
      }
    });
  });
});

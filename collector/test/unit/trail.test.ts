/*
 * The trail's parts on a fixed clock: CloudTrail's key layout as the AWS CLI parses it, the signing
 * keyring (file permissions, rotation, a key whose record was lost), and delivery + validation
 * across a key rotation, with a real SQLite store and a real folder.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { TrailMetrics } from '../../src/metrics/trail-metrics.js';
import { SqliteEventStore } from '../../src/store/sqlite/sqlite-event-store.js';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DigestDocument } from '../../src/trail/digest-file.js';
import { digestStringToSign, parseDigest, signDigest } from '../../src/trail/digest-file.js';
import {
  SigningKeyError,
  SigningKeyring,
  publicKeysPathOf,
  readPublicKeys,
} from '../../src/trail/signing-keys.js';
import { TrailDelivery } from '../../src/trail/trail-delivery.js';
import { TrailFolder, isServableKey } from '../../src/trail/trail-folder.js';
import type { TrailIdentity } from '../../src/trail/trail-layout.js';
import {
  digestFileKey,
  digestKeyPattern,
  digestKeyTimeMs,
  digestTime,
  logFileKey,
} from '../../src/trail/trail-layout.js';
import type { ValidationSummary } from '../../src/trail/trail-validator.js';
import { validateTrail } from '../../src/trail/trail-validator.js';
import { storedEvent, tempDir } from './builders.js';

const IDENTITY: TrailIdentity = {
  accountId: '123456789012',
  region: 'eu-west-1',
  trailName: 'crumbtrail',
  bucket: 'crumbtrail',
};
const T0 = Date.UTC(2026, 0, 8, 5, 21, 42, 250);
const HOUR_MS = 3_600_000;
const temp = tempDir('crumbtrail-trail-');
after(() => {
  temp.remove();
});

describe('trail key layout', () => {
  it('names log files and digests as CloudTrail does, and as the AWS CLI reads them', () => {
    assert.equal(
      logFileKey(IDENTITY, T0, 'AbCdEfGhIjKlMnOp'),
      'AWSLogs/123456789012/CloudTrail/eu-west-1/2026/01/08/123456789012_CloudTrail_eu-west-1_20260108T0521Z_AbCdEfGhIjKlMnOp.json.gz',
    );
    const digestKey = digestFileKey(IDENTITY, T0);
    assert.equal(
      digestKey,
      'AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2026/01/08/123456789012_CloudTrail-Digest_eu-west-1_crumbtrail_eu-west-1_20260108T052142Z.json.gz',
    );
    // The AWS CLI takes the date from key[-24:-8].
    assert.equal(digestKey.slice(-24, -8), '20260108T052142Z');
    assert.equal(digestKeyTimeMs(digestKey), Math.floor(T0 / 1000) * 1000);
    assert.ok(digestKeyPattern(IDENTITY).test(digestKey));
    assert.ok(!digestKeyPattern({ ...IDENTITY, trailName: 'other' }).test(digestKey));
  });

  it('serves only keys of the trail namespace', () => {
    assert.ok(isServableKey('AWSLogs/1/CloudTrail/x.json.gz'));
    for (const key of [
      '',
      '.crumbtrail/trail-state.json',
      'AWSLogs/../x',
      'AWSLogs//x',
      'a/./b',
      'AWSLogs/x.json.gz.tmp-12ab',
      'a\\b',
      'a\u0000b',
    ]) {
      assert.ok(!isServableKey(key), JSON.stringify(key));
    }
  });

  it('signs the four lines CloudTrail signs', () => {
    const text = digestStringToSign(
      {
        digestEndTime: '2026-01-08T05:21:42Z',
        digestS3Bucket: 'b',
        digestS3Object: 'k',
        previousDigestSignature: null,
      },
      Buffer.from('{}'),
    );
    assert.equal(
      text,
      '2026-01-08T05:21:42Z\nb/k\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\nnull',
    );
  });
});

describe('signing keyring', () => {
  it('makes a private key readable by its owner only, and refuses one others can read', async () => {
    const path = join(temp.dir, 'perm', 'key.pem');
    const keyring = new SigningKeyring({ privateKeyPath: path, rotationMs: HOUR_MS, now: () => T0 });
    await keyring.signingKey();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    chmodSync(path, 0o644);
    await assert.rejects(
      new SigningKeyring({ privateKeyPath: path, rotationMs: HOUR_MS, now: () => T0 }).signingKey(),
      (error: unknown) =>
        error instanceof SigningKeyError && /can be read by others.*chmod 600/.test(error.message),
    );
  });

  it('rotates on schedule, ending the old key where the new one starts', async () => {
    let now = T0;
    const path = join(temp.dir, 'rotate', 'key.pem');
    const keyring = new SigningKeyring({ privateKeyPath: path, rotationMs: HOUR_MS, now: () => now });
    const first = await keyring.signingKey();
    now += HOUR_MS - 1;
    assert.equal((await keyring.signingKey()).fingerprint, first.fingerprint, 'not yet due');
    now += 1;
    const second = await keyring.signingKey();
    assert.notEqual(second.fingerprint, first.fingerprint);
    const keys = await readPublicKeys(publicKeysPathOf(path));
    assert.deepEqual(
      keys.map((key) => [key.fingerprint, key.validityStartMs, key.validityEndMs]),
      [
        [first.fingerprint, T0, T0 + HOUR_MS],
        [second.fingerprint, T0 + HOUR_MS, undefined],
      ],
    );
    assert.deepEqual(
      (await keyring.publicKeys(T0, T0 + 10)).map((key) => key.fingerprint),
      [first.fingerprint],
      'a range before the rotation sees the old key only',
    );
  });

  it('records a key whose public half was never written (a crash between the two files)', async () => {
    const path = join(temp.dir, 'lost', 'key.pem');
    const made = await new SigningKeyring({
      privateKeyPath: path,
      rotationMs: HOUR_MS,
      now: () => T0,
    }).signingKey();
    writeFileSync(publicKeysPathOf(path), JSON.stringify({ keys: [] }));
    const reloaded = await new SigningKeyring({
      privateKeyPath: path,
      rotationMs: HOUR_MS,
      now: () => T0,
    }).signingKey();
    assert.equal(reloaded.fingerprint, made.fingerprint);
    const keys = JSON.parse(readFileSync(publicKeysPathOf(path), 'utf8')) as {
      keys: { fingerprint: string }[];
    };
    assert.deepEqual(
      keys.keys.map((key) => key.fingerprint),
      [made.fingerprint],
    );
  });
});

describe('delivery and validation across a key rotation', () => {
  it('validates digests signed by a retired key, and reports them without its public key', async () => {
    let now = T0;
    const dir = join(temp.dir, 'rotation-trail');
    const store = new SqliteEventStore({ path: join(dir, 'events.db'), threads: false });
    const keyPath = join(dir, 'key.pem');
    const keyring = new SigningKeyring({ privateKeyPath: keyPath, rotationMs: HOUR_MS, now: () => now });
    const folder = new TrailFolder(join(dir, 'trail'));
    /** Hourly delivery of at most 3 records per file, on the test's clock, reporting to `registry`. */
    const deliveryReportingTo = (registry: Registry): TrailDelivery =>
      new TrailDelivery(
        store,
        folder,
        keyring,
        {
          identity: IDENTITY,
          deliveryIntervalMs: HOUR_MS,
          digestIntervalMs: HOUR_MS,
          maxRecordsPerFile: 3,
          maxBytesPerFile: 1 << 20,
          observer: new TrailMetrics(registry),
          now: () => now,
        },
        pino({ level: 'silent' }),
      );
    const registry = new Registry();
    const delivery = deliveryReportingTo(registry);
    await delivery.start();
    try {
      for (let hour = 0; hour < 3; hour++) {
        await store.insert(
          Array.from({ length: 4 }, (_, i) =>
            storedEvent({ timeMs: now - 60_000 + i, eventName: `Hour${hour}Call${i}` }),
          ),
        );
        await delivery.flush();
        now += HOUR_MS + 1000;
      }
    } finally {
      await delivery.stop();
    }
    const metric = async (name: string): Promise<number | undefined> =>
      (await registry.getSingleMetric(name)?.get())?.values[0]?.value;
    assert.equal(await metric('crumbtrail_trail_log_files_total'), 6);
    assert.equal(await metric('crumbtrail_trail_events_delivered_total'), 12);
    assert.equal(await metric('crumbtrail_trail_digests_total'), 4);
    assert.equal(await metric('crumbtrail_trail_last_digest_timestamp_seconds'), Math.floor(now / 1000));
    const keys = await readPublicKeys(publicKeysPathOf(keyPath));
    assert.equal(keys.length, 4, 'a key per hour: one per flush, and one more for the digest at stop');

    const run = async (publicKeys: typeof keys): Promise<{ summary: ValidationSummary; errors: string }> => {
      let errors = '';
      const summary = await validateTrail(folder, {
        trail: IDENTITY,
        startMs: T0 - 60_000,
        endMs: now,
        publicKeys,
        store,
        retentionDays: 36_500,
        now,
        verbose: false,
        out: () => undefined,
        err: (text) => (errors += text),
      });
      return { summary, errors };
    };
    const all = await run(keys);
    assert.equal(all.errors, '');
    // 12 events, at most 3 per file: 2 files per hour, and 4 digests (3 flushes and the stop).
    assert.deepEqual(
      [
        all.summary.validDigests,
        all.summary.invalidDigests,
        all.summary.validLogs,
        all.summary.validEvents,
        all.summary.invalidEvents,
      ],
      [4, 0, 6, 12, 0],
    );
    const newestOnly = await run(keys.slice(-1));
    assert.equal(newestOnly.summary.invalidDigests, 3);
    assert.match(
      newestOnly.errors,
      new RegExp(`public key not found in region eu-west-1 for fingerprint ${keys[0]?.fingerprint ?? ''}`),
    );
    // A restart reports the chain's last digest at once: it must not look like a stalled trail.
    const restartRegistry = new Registry();
    const restarted = deliveryReportingTo(restartRegistry);
    await restarted.start();
    const lastDigestSeconds = (
      await restartRegistry.getSingleMetric('crumbtrail_trail_last_digest_timestamp_seconds')?.get()
    )?.values[0]?.value;
    assert.equal(lastDigestSeconds, Math.floor(now / 1000));
    await restarted.stop();
    // That stop's digest came at the same (fixed) clock: it still gets a later key of its own.
    const final = await run(await readPublicKeys(publicKeysPathOf(keyPath)));
    assert.equal(final.errors, '');
    assert.equal(final.summary.validDigests, 5);

    // A digest whose link points back into the chain (only the key's holder could sign one) ends
    // the walk with an INVALID line instead of looping forever.
    const loopKey = digestFileKey(IDENTITY, now + 60_000);
    const signing = await keyring.signingKey();
    const looping: DigestDocument = {
      ...(parseDigest(
        gunzipSync((await folder.get(digestFileKey(IDENTITY, T0)))?.body ?? Buffer.alloc(0)).toString(),
      ) ?? assert.fail('the first digest')),
      digestEndTime: digestTime(now + 60_000),
      digestS3Object: loopKey,
      digestPublicKeyFingerprint: signing.fingerprint,
      previousDigestS3Object: loopKey,
      previousDigestS3Bucket: IDENTITY.bucket,
    };
    const loopText = Buffer.from(JSON.stringify(looping));
    await folder.put(loopKey, gzipSync(loopText), {
      signature: signDigest(looping, loopText, signing.privateKey),
      'signature-algorithm': 'SHA256withRSA',
    });
    const looped = await run(await readPublicKeys(publicKeysPathOf(keyPath)));
    assert.match(looped.errors, /INVALID: its previous digest link loops back to/);
    assert.equal(looped.summary.invalidDigests, 1);
    await store.close();
  });
});

describe('a delivery backlog', () => {
  it('goes out a bounded number of files per step, in commit order, none twice', async () => {
    const dir = join(temp.dir, 'backlog');
    const store = new SqliteEventStore({ path: join(dir, 'events.db'), threads: false });
    await store.insert(
      Array.from({ length: 7 }, (_, i) => storedEvent({ timeMs: T0 + i, eventName: `Backlog${i}` })),
    );
    const folder = new TrailFolder(join(dir, 'trail'));
    let now = T0 + HOUR_MS;
    const delivery = new TrailDelivery(
      store,
      folder,
      new SigningKeyring({
        privateKeyPath: join(dir, 'key.pem'),
        rotationMs: 1000 * HOUR_MS,
        now: () => now,
      }),
      {
        identity: IDENTITY,
        deliveryIntervalMs: HOUR_MS,
        digestIntervalMs: HOUR_MS,
        maxRecordsPerFile: 2,
        maxBytesPerFile: 1 << 20,
        maxFilesPerStep: 2,
        now: () => now,
      },
      pino({ level: 'silent' }),
    );
    await delivery.start();
    const delivered = async (): Promise<string[]> => {
      const { objects } = await folder.list('AWSLogs/123456789012/CloudTrail/', '', 1000);
      const names: string[] = [];
      for (const object of objects) {
        const body = (await folder.get(object.key))?.body ?? Buffer.alloc(0);
        const { Records } = JSON.parse(gunzipSync(body).toString()) as { Records: { eventName: string }[] };
        names.push(...Records.map((record) => record.eventName));
      }
      return names.sort();
    };
    await delivery.flush();
    assert.deepEqual(await delivered(), ['Backlog0', 'Backlog1', 'Backlog2', 'Backlog3'], 'two files of two');
    now += 1000;
    await delivery.flush();
    now += 1000;
    await delivery.stop();
    assert.deepEqual(
      await delivered(),
      Array.from({ length: 7 }, (_, i) => `Backlog${i}`),
    );
    await store.close();
  });
});

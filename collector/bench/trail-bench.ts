/*
 * Trail delivery and validation throughput. Delivery (records read in commit order, written as
 * gzip log files with their intents and a signed digest, every file fsynced) is compared with its
 * floor measured in the same run: reading the same records and gzipping and hashing the same
 * bytes, with no file written. Validation with --db (every log file hashed and every event
 * compared with its database row) is reported per event, beside the delivery rate.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { pino } from 'pino';
import { SqliteEventStore } from '../src/store/sqlite/sqlite-event-store.js';
import { SigningKeyring, publicKeysPathOf, readPublicKeys } from '../src/trail/signing-keys.js';
import { TrailDelivery } from '../src/trail/trail-delivery.js';
import { TrailFolder } from '../src/trail/trail-folder.js';
import type { TrailIdentity } from '../src/trail/trail-layout.js';
import { validateTrail } from '../src/trail/trail-validator.js';

const gzipAsync = promisify(gzip);
const IDENTITY: TrailIdentity = {
  accountId: '000000000000',
  region: 'us-east-1',
  trailName: 'crumbtrail',
  bucket: 'crumbtrail',
};
const RECORDS_PER_FILE = 5000;

export interface TrailFigures {
  deliveredPerSecond: number;
  floorPerSecond: number;
  validatedPerSecond: number;
  archiveBytesPerEvent: number;
  logFiles: number;
}

function folderBytes(root: string): { bytes: number; logFiles: number } {
  let bytes = 0;
  let logFiles = 0;
  for (const entry of readdirSync(join(root, 'AWSLogs'), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
    if (entry.parentPath.includes('/CloudTrail/')) logFiles++;
  }
  return { bytes, logFiles };
}

/** Delivers and validates every event of the SQLite file at `dbPath` (filled by fillStore). */
export async function measureTrail(dbPath: string, events: number): Promise<TrailFigures> {
  const store = new SqliteEventStore({ path: dbPath });
  const trailDir = join(dirname(dbPath), 'trail');
  const keyPath = join(dirname(dbPath), 'trail-signing-key.pem');
  try {
    let started = performance.now();
    for (let after = 0; ;) {
      const rows = await store.committedRecords(after, RECORDS_PER_FILE);
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      const text = `{"Records":[${rows.map((row) => row.record).join(',')}]}`;
      createHash('sha256').update(text).digest('hex');
      await gzipAsync(text);
      after = last.seq;
    }
    const floorSeconds = (performance.now() - started) / 1000;

    const keyring = new SigningKeyring({ privateKeyPath: keyPath, rotationMs: 86_400_000, now: Date.now });
    const delivery = new TrailDelivery(
      store,
      new TrailFolder(trailDir),
      keyring,
      {
        identity: IDENTITY,
        deliveryIntervalMs: 3_600_000,
        digestIntervalMs: 3_600_000,
        maxRecordsPerFile: RECORDS_PER_FILE,
        maxBytesPerFile: 16 * 1024 * 1024,
        now: Date.now,
      },
      pino({ level: 'silent' }),
    );
    await delivery.start();
    started = performance.now();
    await delivery.flush();
    const deliverySeconds = (performance.now() - started) / 1000;
    await delivery.stop();

    started = performance.now();
    const summary = await validateTrail(new TrailFolder(trailDir), {
      trail: IDENTITY,
      startMs: Date.now() - 3_600_000,
      endMs: Date.now(),
      publicKeys: await readPublicKeys(publicKeysPathOf(keyPath)),
      store,
      retentionDays: 36_500,
      now: Date.now(),
      verbose: false,
      out: () => undefined,
      err: (text) => {
        throw new Error(`the benchmark's trail did not validate: ${text}`);
      },
    });
    const validationSeconds = (performance.now() - started) / 1000;
    if (summary.validEvents !== events) {
      throw new Error(`validated ${summary.validEvents} events of ${events}`);
    }
    const { bytes, logFiles } = folderBytes(trailDir);
    return {
      deliveredPerSecond: events / deliverySeconds,
      floorPerSecond: events / floorSeconds,
      validatedPerSecond: events / validationSeconds,
      archiveBytesPerEvent: bytes / events,
      logFiles,
    };
  } finally {
    await store.close();
  }
}

/*
 * Trail delivery: every delivery interval, the records committed since the last log file go into
 * new CloudTrail log files (`{"Records":[…]}`, single-member gzip) in commit order; every digest
 * interval a signed digest lists the log files delivered since the previous digest and chains to
 * it. Each step is written as an intent in the trail state before its files, and the state moves
 * on only once the files are durable, so a crash anywhere is finished or undone at the next start
 * and said in the next digest's crumbtrailNotes.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from 'pino';
import type { CommittedRecord, EventStore } from '../store/event-store.js';
import type { DigestDocument, DigestLogFile } from './digest-file.js';
import { HASH_ALGORITHM, SIGNATURE_ALGORITHM, sha256Hex, signDigest } from './digest-file.js';
import type { SigningKeyring } from './signing-keys.js';
import type { TrailFolder } from './trail-folder.js';
import type { TrailIdentity } from './trail-layout.js';
import { digestFileKey, digestTime, logFileKey, uniqueString } from './trail-layout.js';
import type { PendingDigest, PendingLogFile, TrailState } from './trail-state.js';
import { freshState, readState, saveState } from './trail-state.js';

const gzipAsync = promisify(gzip);

export const STATE_FILE = 'trail-state.json';
/** About a million events per step at most (5,000 per file). */
const MAX_FILES_PER_STEP = 200;

/** Told what delivery did (the collector's metrics). */
export interface TrailObserver {
  logFileDelivered(events: number): void;
  digestWritten(endMs: number): void;
  /** At start: the chain's newest digest so far (a restart must not look like a stalled trail). */
  chainResumed(lastDigestEndMs: number): void;
  deliveryFailed(): void;
}

const UNOBSERVED: TrailObserver = {
  logFileDelivered: () => undefined,
  digestWritten: () => undefined,
  chainResumed: () => undefined,
  deliveryFailed: () => undefined,
};

export interface TrailDeliveryOptions {
  identity: TrailIdentity;
  deliveryIntervalMs: number;
  digestIntervalMs: number;
  /** A log file holds at most this many records, and about this many bytes of them. */
  maxRecordsPerFile: number;
  maxBytesPerFile: number;
  /** Files one step delivers at most (default 200). */
  maxFilesPerStep?: number;
  now: () => number;
  observer?: TrailObserver;
}

/** The records of one log file: up to the count limit, and stopping once the bytes limit is met. */
function fileSlice(rows: readonly CommittedRecord[], maxBytes: number): CommittedRecord[] {
  let bytes = 0;
  let end = 0;
  while (end < rows.length && (end === 0 || bytes < maxBytes)) {
    bytes += rows[end]?.record.length ?? 0;
    end++;
  }
  return rows.slice(0, end);
}

export class TrailDelivery {
  private state: TrailState | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Steps run one at a time: a timer tick never overlaps stop(). */
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly observer: TrailObserver;

  constructor(
    private readonly store: EventStore,
    private readonly folder: TrailFolder,
    private readonly keyring: SigningKeyring,
    private readonly options: TrailDeliveryOptions,
    private readonly log: Logger,
  ) {
    this.observer = options.observer ?? UNOBSERVED;
  }

  private get statePath(): string {
    return this.folder.privatePath(STATE_FILE);
  }

  private async save(): Promise<void> {
    if (this.state !== undefined) await saveState(this.statePath, this.state, this.options.now());
  }

  private serialised(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Recovers from the previous run, then delivers on a timer. */
  async start(): Promise<void> {
    await this.serialised(() => this.recover());
    await this.keyring.signingKey();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.serialised(() => this.tick()).then(
        () => {
          this.schedule();
        },
        (error: unknown) => {
          this.observer.deliveryFailed();
          this.log.error({ err: error }, 'trail delivery failed; it is retried at the next interval');
          this.schedule();
        },
      );
    }, this.options.deliveryIntervalMs);
  }

  private async tick(): Promise<void> {
    await this.deliverLogFiles();
    const state = this.requireState();
    const lastEndMs = state.lastDigest?.endMs ?? state.chainStartMs;
    if (this.options.now() - lastEndMs >= this.options.digestIntervalMs) await this.writeDigest();
  }

  /** Delivers what was committed and closes the digest period, so the next run chains on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.serialised(async () => {
      if (this.state === undefined) return;
      await this.deliverLogFiles();
      await this.writeDigest();
      this.requireState().running = false;
      await this.save();
    });
  }

  /** Delivers now (tests, and the admin who wants the archive current before copying it). */
  flush(): Promise<void> {
    return this.serialised(async () => {
      await this.deliverLogFiles();
      await this.writeDigest();
    });
  }

  private requireState(): TrailState {
    if (this.state === undefined) throw new Error('the trail has not started');
    return this.state;
  }

  private async recover(): Promise<void> {
    const now = this.options.now();
    const leftovers = await this.folder.removeLeftovers();
    const state = (await readState(this.statePath)) ?? freshState(now);
    this.state = state;
    if (state.running) {
      state.notes.push(
        `The collector stopped without shutting down (a crash or kill) after ${digestTime(state.savedMs)}; ` +
          `delivery resumed at ${digestTime(now)} after commit ${state.deliveredThroughSeq}, so no event is missing.`,
      );
    }
    if (leftovers > 0) {
      state.notes.push(
        `${leftovers} partly written file(s) of the stopped run were removed; none had been delivered.`,
      );
    }
    const pending = state.pending;
    if (pending?.kind === 'log') {
      if (await this.folder.exists(pending.key)) {
        this.commitLogFile(pending);
        state.notes.push(`Log file ${pending.key}, written just before the stop, was recovered.`);
      } else {
        state.pending = null;
        state.notes.push(
          `A log file being written at the stop (${pending.key}) was never completed; its events were delivered again in later files.`,
        );
      }
    } else if (pending?.kind === 'digest') {
      await this.finishDigest(pending);
    }
    if (state.running || pending !== null || leftovers > 0) {
      this.log.warn({ notes: state.notes }, 'trail recovered from a stop without shutdown');
    }
    state.running = true;
    await this.save();
    if (state.lastDigest !== null) this.observer.chainResumed(state.lastDigest.endMs);
  }

  private commitLogFile(pending: PendingLogFile): void {
    const state = this.requireState();
    state.undigested.push(pending.entry);
    state.deliveredThroughSeq = pending.throughSeq;
    state.pending = null;
  }

  /**
   * Delivers up to maxFilesPerStep files: a backlog (the first start over a full database) goes
   * out over several intervals, so that a stop never waits for all of it.
   */
  private async deliverLogFiles(): Promise<void> {
    const state = this.requireState();
    const maxFiles = this.options.maxFilesPerStep ?? MAX_FILES_PER_STEP;
    for (let files = 0; files < maxFiles; files++) {
      const batch = await this.store.committedRecords(
        state.deliveredThroughSeq,
        this.options.maxRecordsPerFile,
      );
      if (batch.length === 0) return;
      const rows = fileSlice(batch, this.options.maxBytesPerFile);
      const text = `{"Records":[${rows.map((row) => row.record).join(',')}]}`;
      const times = rows.map((row) => row.eventTimeMs);
      const key = logFileKey(this.options.identity, this.options.now(), uniqueString());
      const entry: DigestLogFile = {
        s3Bucket: this.options.identity.bucket,
        s3Object: key,
        hashValue: sha256Hex(text),
        hashAlgorithm: HASH_ALGORITHM,
        newestEventTime: digestTime(Math.max(...times)),
        oldestEventTime: digestTime(Math.min(...times)),
        crumbtrailCommitRange: {
          after: state.deliveredThroughSeq,
          through: rows[rows.length - 1]?.seq ?? state.deliveredThroughSeq,
        },
      };
      const pending: PendingLogFile = {
        kind: 'log',
        key,
        entry,
        throughSeq: entry.crumbtrailCommitRange?.through ?? 0,
      };
      state.pending = pending;
      await this.save();
      await this.folder.put(key, await gzipAsync(text));
      this.commitLogFile(pending);
      await this.save();
      this.observer.logFileDelivered(rows.length);
    }
  }

  private async writeDigest(): Promise<void> {
    const state = this.requireState();
    const identity = this.options.identity;
    // Digest names have whole seconds, and each must be later than the one before.
    const earliestEndMs = (state.lastDigest?.endMs ?? 0) + 1000;
    let now = this.options.now();
    if (now < earliestEndMs) {
      await new Promise((resolve) => setTimeout(resolve, earliestEndMs - now));
      now = this.options.now();
    }
    // A clock stepped back (or one that did not move) must not reuse a key: that would fork the chain.
    const endMs = Math.max(Math.floor(now / 1000) * 1000, earliestEndMs);
    const key = digestFileKey(identity, endMs);
    const signingKey = await this.keyring.signingKey();
    const files = state.undigested;
    const times = files.flatMap((file) => [
      Date.parse(file.newestEventTime),
      Date.parse(file.oldestEventTime),
    ]);
    const previous = state.lastDigest;
    const digest: DigestDocument = {
      awsAccountId: identity.accountId,
      digestStartTime: previous?.endTime ?? digestTime(state.chainStartMs),
      digestEndTime: digestTime(endMs),
      digestS3Bucket: identity.bucket,
      digestS3Object: key,
      digestPublicKeyFingerprint: signingKey.fingerprint,
      digestSignatureAlgorithm: SIGNATURE_ALGORITHM,
      newestEventTime: times.length === 0 ? null : digestTime(Math.max(...times)),
      oldestEventTime: times.length === 0 ? null : digestTime(Math.min(...times)),
      previousDigestS3Bucket: previous?.bucket ?? null,
      previousDigestS3Object: previous?.key ?? null,
      previousDigestHashValue: previous?.hashValue ?? null,
      previousDigestHashAlgorithm: previous === null ? null : HASH_ALGORITHM,
      previousDigestSignature: previous?.signature ?? null,
      logFiles: files,
      ...(state.notes.length === 0 ? {} : { crumbtrailNotes: state.notes }),
    };
    const text = JSON.stringify(digest);
    const pending: PendingDigest = {
      kind: 'digest',
      key,
      text,
      signature: signDigest(digest, Buffer.from(text), signingKey.privateKey),
      endMs,
      endTime: digest.digestEndTime,
    };
    state.pending = pending;
    await this.save();
    await this.finishDigest(pending);
  }

  /** Writes a digest whose intent is recorded, and moves the chain on to it (again, if need be). */
  private async finishDigest(pending: PendingDigest): Promise<void> {
    const state = this.requireState();
    await this.folder.put(pending.key, await gzipAsync(pending.text), {
      signature: pending.signature,
      'signature-algorithm': SIGNATURE_ALGORITHM,
    });
    state.lastDigest = {
      bucket: this.options.identity.bucket,
      key: pending.key,
      signature: pending.signature,
      hashValue: sha256Hex(pending.text),
      endTime: pending.endTime,
      endMs: pending.endMs,
    };
    state.undigested = [];
    state.notes = [];
    state.pending = null;
    await this.save();
    this.observer.digestWritten(pending.endMs);
  }
}

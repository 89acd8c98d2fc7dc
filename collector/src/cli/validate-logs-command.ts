/*
 * `crumbtrail validate-logs`: `aws cloudtrail validate-logs` on a trail folder, offline, with the
 * same flags, messages and exit status (0 all valid, 1 something INVALID), and with `--db` the
 * check that the database agrees with the archive. It needs the trail's public keys: the file the
 * collector keeps beside its signing key, or a copy kept elsewhere (--public-keys).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG } from '../config.js';
import { SqliteEventStore } from '../store/sqlite/sqlite-event-store.js';
import { publicKeysPathOf, readPublicKeys } from '../trail/signing-keys.js';
import { TrailFolder } from '../trail/trail-folder.js';
import { validateTrail } from '../trail/trail-validator.js';
import type { CliIo } from './lookup-events-command.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, positiveInteger } from './lookup-events-command.js';

interface ValidateLogsOptions {
  trailArn: string;
  startTime: number;
  endTime?: number;
  s3Bucket?: string;
  trailDir: string;
  publicKeys?: string;
  db?: string;
  retentionDays: number;
  verbose: boolean;
}

/** The trail ARN's form the AWS CLI requires: arn:…:cloudtrail:<region>:<12 digits>:trail/<name>. */
const TRAIL_ARN = /^arn:[^:]+:cloudtrail:([^:]+):(\d{12}):trail\/(.+)$/;

function time(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('expected a time such as 2026-01-08T05:21:42Z');
  return ms;
}

export async function runValidateLogs(options: ValidateLogsOptions, io: CliIo): Promise<number> {
  const arn = TRAIL_ARN.exec(options.trailArn);
  if (arn === null) {
    io.stderr(`Invalid trail ARN provided: ${options.trailArn}\n`);
    return EXIT_USAGE;
  }
  const [, region = '', accountId = '', trailName = ''] = arn;
  const now = Date.now();
  const endMs = options.endTime ?? now;
  if (options.startTime > endMs) {
    io.stderr('Invalid time range specified: start-time must occur before end-time\n');
    return EXIT_USAGE;
  }
  const keysPath =
    options.publicKeys ??
    publicKeysPathOf(join(dirname(options.db ?? DEFAULT_CONFIG.dbPath), 'trail-signing-key.pem'));
  if (options.db !== undefined && !existsSync(options.db)) {
    // Opening it would create an empty database, and every archived event would look deleted.
    io.stderr(`No database at ${options.db}\n`);
    return EXIT_USAGE;
  }
  if (!existsSync(options.trailDir)) {
    io.stderr(`No trail folder at ${options.trailDir}\n`);
    return EXIT_USAGE;
  }
  const store =
    options.db === undefined ? undefined : new SqliteEventStore({ path: options.db, threads: false });
  try {
    const summary = await validateTrail(new TrailFolder(options.trailDir), {
      trail: { accountId, region, trailName, bucket: options.s3Bucket ?? trailName },
      startMs: options.startTime,
      endMs,
      publicKeys: await readPublicKeys(keysPath),
      retentionDays: options.retentionDays,
      now,
      verbose: options.verbose,
      out: io.stdout,
      err: io.stderr,
      ...(store === undefined ? {} : { store }),
    });
    const invalid = summary.invalidDigests + summary.invalidLogs + summary.invalidEvents;
    return invalid > 0 ? EXIT_FAILURE : EXIT_OK;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n`);
    return EXIT_FAILURE;
  } finally {
    await store?.close();
  }
}

export function validateLogsCommand(io: CliIo): Command {
  return new Command('validate-logs')
    .description(
      "Validates a trail folder's log files and signed digests, like 'aws cloudtrail validate-logs', and with --db that the database agrees with them.",
    )
    .requiredOption(
      '--trail-arn <arn>',
      'the trail, e.g. arn:aws:cloudtrail:us-east-1:000000000000:trail/crumbtrail',
    )
    .addOption(
      new Option('--start-time <time>', 'validate files delivered at or after this UTC time')
        .argParser(time)
        .makeOptionMandatory(),
    )
    .addOption(new Option('--end-time <time>', 'and at or before this one (default: now)').argParser(time))
    .addOption(new Option('--s3-bucket <name>', "the bucket the digests name (default: the trail's name)"))
    .addOption(
      new Option('--trail-dir <path>', 'the trail folder (the collector’s --trail-dir)')
        .env('CRUMBTRAIL_TRAIL_DIR')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--public-keys <file>',
        "the trail's public keys (default: trail-signing-key.pem.public-keys.json beside --db)",
      ),
    )
    .addOption(new Option('--db <path>', 'also check this database against the archive').env('CRUMBTRAIL_DB'))
    .addOption(
      new Option(
        '--retention-days <days>',
        "the collector's retention: older archived events may be gone from the database",
      )
        .env('CRUMBTRAIL_RETENTION_DAYS')
        .argParser(positiveInteger(36_500))
        .default(DEFAULT_CONFIG.retentionDays),
    )
    .option('--verbose', 'print every valid file too', false)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride()
    .action(async (options: ValidateLogsOptions) => {
      io.setExitCode(await runValidateLogs(options, io));
    });
}

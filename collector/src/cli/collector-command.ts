/*
 * `crumbtrail-collector`: command-line flags and CRUMBTRAIL_* environment variables → config.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CollectorConfig } from '../config.js';
import { DEFAULT_CONFIG } from '../config.js';

function integer(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return Number(value);
  };
}

interface CollectorFlags {
  host: string;
  otlpPort: number;
  apiPort: number;
  db: string;
  retentionDays: number;
  apiToken?: string;
  ingestToken?: string;
  deriveFromHttpSpans: boolean;
  maxBodyBytes: number;
  maxQueueEvents: number;
  sqliteSynchronous: 'normal' | 'full';
  queryTimeoutMs: number;
  logLevel: CollectorConfig['logLevel'];
}

export function collectorCommand(): Command {
  const d = DEFAULT_CONFIG;
  return new Command('crumbtrail-collector')
    .description(
      'Receives OTLP/HTTP spans, stores them as CloudTrail-format audit events and serves lookups.',
    )
    .addOption(
      new Option('--host <address>', 'interface to listen on').env('CRUMBTRAIL_HOST').default(d.host),
    )
    .addOption(
      new Option('--otlp-port <port>', 'OTLP/HTTP receiver port (POST /v1/traces)')
        .env('CRUMBTRAIL_OTLP_PORT')
        .argParser(integer(0, 65535))
        .default(d.otlpPort),
    )
    .addOption(
      new Option('--api-port <port>', 'query API port (/api/v1/…, /metrics, /healthz)')
        .env('CRUMBTRAIL_API_PORT')
        .argParser(integer(0, 65535))
        .default(d.apiPort),
    )
    .addOption(new Option('--db <path>', 'SQLite database file').env('CRUMBTRAIL_DB').default(d.dbPath))
    .addOption(
      new Option('--retention-days <days>', 'delete events older than this')
        .env('CRUMBTRAIL_RETENTION_DAYS')
        .argParser(integer(1, 36500))
        .default(d.retentionDays),
    )
    .addOption(
      new Option('--api-token <token>', 'require this bearer token on /api/*').env('CRUMBTRAIL_API_TOKEN'),
    )
    .addOption(
      new Option('--ingest-token <token>', 'require this bearer token on /v1/traces').env(
        'CRUMBTRAIL_INGEST_TOKEN',
      ),
    )
    .addOption(
      new Option(
        '--derive-from-http-spans',
        'also record plain OpenTelemetry HTTP/RPC server spans as events',
      )
        .env('CRUMBTRAIL_DERIVE_FROM_HTTP_SPANS')
        .default(d.deriveFromHttpSpans),
    )
    .addOption(
      new Option('--max-body-bytes <bytes>', 'largest OTLP request body, after decompression')
        .env('CRUMBTRAIL_MAX_BODY_BYTES')
        .argParser(integer(1024, 1024 * 1024 * 1024))
        .default(d.maxBodyBytes),
    )
    .addOption(
      new Option('--max-queue-events <events>', 'events awaiting commit before exporters get 429')
        .env('CRUMBTRAIL_MAX_QUEUE_EVENTS')
        .argParser(integer(1, 10_000_000))
        .default(d.maxQueueEvents),
    )
    .addOption(
      new Option('--sqlite-synchronous <mode>', 'normal: survives a process crash; full: also power loss')
        .env('CRUMBTRAIL_SQLITE_SYNCHRONOUS')
        .choices(['normal', 'full'])
        .default(d.sqliteSynchronous),
    )
    .addOption(
      new Option('--query-timeout-ms <ms>', 'a lookup running longer is stopped (503)')
        .env('CRUMBTRAIL_QUERY_TIMEOUT_MS')
        .argParser(integer(1, 3_600_000))
        .default(d.queryTimeoutMs),
    )
    .addOption(
      new Option('--log-level <level>', 'log level')
        .env('CRUMBTRAIL_LOG_LEVEL')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default(d.logLevel),
    );
}

export function configFromCommand(command: Command): CollectorConfig {
  const flags = command.opts<CollectorFlags>();
  return {
    host: flags.host,
    otlpPort: flags.otlpPort,
    apiPort: flags.apiPort,
    dbPath: flags.db,
    retentionDays: flags.retentionDays,
    apiToken: flags.apiToken,
    ingestToken: flags.ingestToken,
    deriveFromHttpSpans: flags.deriveFromHttpSpans,
    maxBodyBytes: flags.maxBodyBytes,
    maxQueueEvents: flags.maxQueueEvents,
    sqliteSynchronous: flags.sqliteSynchronous,
    queryTimeoutMs: flags.queryTimeoutMs,
    logLevel: flags.logLevel,
  };
}

/*
 * `crumbtrail-collector`: command-line flags and CRUMBTRAIL_* environment variables → config.
 */
import { dirname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadCredentials } from '../cloudtrail-api/credentials.js';
import { compileTrustedProxies } from '../events/source-address.js';
import { CREDENTIAL_OPERATIONS } from '../cloudtrail-api/operations.js';
import type { CloudTrailApiConfig, CollectorConfig } from '../config.js';
import { DEFAULT_CONFIG } from '../config.js';
import { MINUTES_PER_DAY } from '../insights/insight-settings.js';

function integer(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return Number(value);
  };
}

function httpUrl(value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new InvalidArgumentError('expected an http:// or https:// URL');
  }
  return value;
}

function identifier(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new InvalidArgumentError('letters, digits and _ only, not starting with a digit');
  }
  return value;
}

function decimal(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+(\.\d+)?$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    }
    return Number(value);
  };
}

interface CollectorFlags {
  host: string;
  otlpPort: number;
  apiPort: number;
  db: string;
  store: 'sqlite' | 'clickhouse';
  clickhouseUrl: string;
  clickhouseDatabase: string;
  clickhouseUser: string;
  clickhousePassword?: string;
  clickhouseCluster?: string;
  clickhouseInsertQuorum?: number;
  clickhouseTextIndex: boolean;
  printClickhouseDdl: boolean;
  retentionDays: number;
  apiToken?: string;
  ingestToken?: string;
  metricsToken?: string;
  deriveFromHttpSpans: boolean;
  trustProxy: string[];
  maxBodyBytes: number;
  maxQueueEvents: number;
  maxConcurrentExports: number;
  maxInflightBodyBytes: number;
  maxFutureSkewSeconds: number;
  ingestThreads: number;
  maxConnections: number;
  requestTimeoutSeconds: number;
  headersTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  sqliteSynchronous: 'normal' | 'full';
  queryTimeoutMs: number;
  logLevel: CollectorConfig['logLevel'];
  awsCredentialsFile?: string;
  cloudtrailApiOpen: boolean;
  awsRegion: string;
  awsAccountId: string;
  trailDir?: string;
  trailDeliverySeconds: number;
  trailDigestSeconds: number;
  trailSigningKey?: string;
  trailKeyRotationDays: number;
  insights: boolean;
  insightsBaselineDays: number;
  insightsThreshold: number;
  insightsMinCalls: number;
  insightsMinExcess: number;
  insightsMinRatio: number;
  insightsStartAfter: number;
  insightsEndAfter: number;
  insightsReadCalls: boolean;
  insightsDetectDrops: boolean;
  insightsIntervalSeconds: number;
  insightsLatenessSeconds: number;
  insightsMaxSeries: number;
}

export function collectorCommand(): Command {
  const d = DEFAULT_CONFIG;
  const i = d.insights;
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
      new Option(
        '--store <engine>',
        'where events are stored: sqlite (one machine) or clickhouse (scale-out)',
      )
        .env('CRUMBTRAIL_STORE')
        .choices(['sqlite', 'clickhouse'])
        .default(d.store),
    )
    .addOption(
      new Option('--clickhouse-url <url>', 'ClickHouse HTTP endpoint (--store clickhouse)')
        .env('CRUMBTRAIL_CLICKHOUSE_URL')
        .argParser(httpUrl)
        .default(d.clickhouse.url),
    )
    .addOption(
      new Option('--clickhouse-database <name>', 'ClickHouse database (created with its tables when missing)')
        .env('CRUMBTRAIL_CLICKHOUSE_DATABASE')
        .argParser(identifier)
        .default(d.clickhouse.database),
    )
    .addOption(
      new Option('--clickhouse-user <name>', 'ClickHouse user')
        .env('CRUMBTRAIL_CLICKHOUSE_USER')
        .default(d.clickhouse.username),
    )
    .addOption(
      new Option('--clickhouse-password <password>', 'ClickHouse password').env(
        'CRUMBTRAIL_CLICKHOUSE_PASSWORD',
      ),
    )
    .addOption(
      new Option(
        '--clickhouse-cluster <name>',
        'ClickHouse cluster (remote_servers): replicated tables created ON CLUSTER, Distributed tables over them',
      )
        .env('CRUMBTRAIL_CLICKHOUSE_CLUSTER')
        .argParser(identifier),
    )
    .addOption(
      new Option(
        '--clickhouse-insert-quorum <replicas>',
        'ClickHouse: acknowledge an export once this many replicas have it (insert_quorum)',
      )
        .env('CRUMBTRAIL_CLICKHOUSE_INSERT_QUORUM')
        .argParser(integer(1, 100)),
    )
    .addOption(
      new Option(
        '--no-clickhouse-text-index',
        'ClickHouse 26.2+: do not add the text index free text uses (it about doubles the disk; free text then scans) (env: CRUMBTRAIL_CLICKHOUSE_TEXT_INDEX=true|false)',
      ),
    )
    .addOption(
      new Option(
        '--print-clickhouse-ddl',
        'print the ClickHouse schema (for the --clickhouse-database and --clickhouse-cluster given) and exit',
      ).default(false),
    )
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
        '--metrics-token <token>',
        'require this bearer token on /metrics (it lists every API and its call rates)',
      ).env('CRUMBTRAIL_METRICS_TOKEN'),
    )
    .addOption(
      new Option(
        '--derive-from-http-spans',
        'also record plain OpenTelemetry HTTP/RPC server spans as events (env: CRUMBTRAIL_DERIVE_FROM_HTTP_SPANS=true|false)',
      ).default(d.deriveFromHttpSpans),
    )
    .addOption(
      new Option(
        '--trust-proxy <list>',
        'derived events: proxies whose X-Forwarded-For is believed (comma-separated addresses, CIDR ranges, loopback, linklocal, uniquelocal)',
      )
        .env('CRUMBTRAIL_TRUST_PROXY')
        .argParser((value: string) => {
          const entries = value
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry.length > 0);
          try {
            compileTrustedProxies(entries);
          } catch (error) {
            throw new InvalidArgumentError((error as Error).message);
          }
          return entries;
        })
        .default(d.trustedProxies),
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
      new Option('--max-concurrent-exports <count>', 'export bodies read and decoded at once; more get 429')
        .env('CRUMBTRAIL_MAX_CONCURRENT_EXPORTS')
        .argParser(integer(1, 10_000))
        .default(d.maxConcurrentExports),
    )
    .addOption(
      new Option(
        '--max-inflight-body-bytes <bytes>',
        'decompressed body bytes held by all exports at once; more get 429',
      )
        .env('CRUMBTRAIL_MAX_INFLIGHT_BODY_BYTES')
        .argParser(integer(1024, 64 * 1024 * 1024 * 1024))
        .default(d.maxInflightBodyBytes),
    )
    .addOption(
      new Option(
        '--max-future-skew-seconds <seconds>',
        'spans ending further in the future than this are rejected',
      )
        .env('CRUMBTRAIL_MAX_FUTURE_SKEW_SECONDS')
        .argParser(integer(0, 7 * 24 * 3600))
        .default(d.maxFutureSkewMs / 1000),
    )
    .addOption(
      new Option(
        '--ingest-threads <count>',
        'threads that decode and map exports (0: on the main thread, beside the query API)',
      )
        .env('CRUMBTRAIL_INGEST_THREADS')
        .argParser(integer(0, 64))
        .default(d.ingestThreads),
    )
    .addOption(
      new Option('--max-connections <count>', 'open connections per port; more are refused')
        .env('CRUMBTRAIL_MAX_CONNECTIONS')
        .argParser(integer(1, 1_000_000))
        .default(d.http.maxConnections),
    )
    .addOption(
      new Option(
        '--request-timeout-seconds <seconds>',
        'a request (headers and body) must arrive within this',
      )
        .env('CRUMBTRAIL_REQUEST_TIMEOUT_SECONDS')
        .argParser(integer(1, 3600))
        .default(d.http.requestTimeoutMs / 1000),
    )
    .addOption(
      new Option('--headers-timeout-seconds <seconds>', 'request headers must arrive within this')
        .env('CRUMBTRAIL_HEADERS_TIMEOUT_SECONDS')
        .argParser(integer(1, 3600))
        .default(d.http.headersTimeoutMs / 1000),
    )
    .addOption(
      new Option('--idle-timeout-seconds <seconds>', 'a connection silent for this long is closed')
        .env('CRUMBTRAIL_IDLE_TIMEOUT_SECONDS')
        .argParser(integer(1, 3600))
        .default(d.http.idleTimeoutMs / 1000),
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
    )
    .addOption(
      new Option(
        '--aws-credentials-file <path>',
        'serve the CloudTrail-compatible API (POST / on the API port) to callers signing with these credentials (SigV4)',
      ).env('CRUMBTRAIL_AWS_CREDENTIALS_FILE'),
    )
    .addOption(
      new Option(
        '--cloudtrail-api-open',
        'serve the CloudTrail-compatible API WITHOUT authentication (env: CRUMBTRAIL_CLOUDTRAIL_API_OPEN=true|false)',
      ).default(false),
    )
    .addOption(
      new Option('--aws-region <region>', "the built-in trail's home region")
        .env('CRUMBTRAIL_AWS_REGION')
        .default(d.cloudTrailApi.region),
    )
    .addOption(
      new Option('--aws-account-id <id>', "the built-in trail's account (12 digits)")
        .env('CRUMBTRAIL_AWS_ACCOUNT_ID')
        .argParser((value: string) => {
          if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('expected 12 digits');
          return value;
        })
        .default(d.cloudTrailApi.accountId),
    )
    .addOption(
      new Option(
        '--trail-dir <path>',
        'deliver every committed event to CloudTrail log files here, with signed hourly digests (off when unset)',
      ).env('CRUMBTRAIL_TRAIL_DIR'),
    )
    .addOption(
      new Option('--trail-delivery-seconds <seconds>', 'trail: how often new events go into a log file')
        .env('CRUMBTRAIL_TRAIL_DELIVERY_SECONDS')
        .argParser(integer(1, 86_400))
        .default(d.trail.deliveryIntervalMs / 1000),
    )
    .addOption(
      new Option('--trail-digest-seconds <seconds>', 'trail: how often a signed digest file is written')
        .env('CRUMBTRAIL_TRAIL_DIGEST_SECONDS')
        .argParser(integer(1, 86_400))
        .default(d.trail.digestIntervalMs / 1000),
    )
    .addOption(
      new Option(
        '--trail-signing-key <path>',
        'trail: the digest signing key (PEM, mode 0600, made when missing; its public keys go to <path>.public-keys.json)',
      )
        .env('CRUMBTRAIL_TRAIL_SIGNING_KEY')
        .default(undefined, '<directory of --db>/trail-signing-key.pem'),
    )
    .addOption(
      new Option('--trail-key-rotation-days <days>', 'trail: a new signing key this often')
        .env('CRUMBTRAIL_TRAIL_KEY_ROTATION_DAYS')
        .argParser(integer(1, 3650))
        .default(d.trail.keyRotationDays),
    )
    .addOption(new Option('--no-insights', 'do not run Insights (env: CRUMBTRAIL_INSIGHTS=true|false)'))
    .addOption(
      new Option('--insights-baseline-days <days>', 'Insights: trailing window the baseline is drawn from')
        .env('CRUMBTRAIL_INSIGHTS_BASELINE_DAYS')
        .argParser(integer(1, 90))
        .default(i.detector.baselineMinutes / MINUTES_PER_DAY),
    )
    .addOption(
      new Option('--insights-threshold <z>', 'Insights: z-score a minute must reach to be unusual')
        .env('CRUMBTRAIL_INSIGHTS_THRESHOLD')
        .argParser(decimal(1, 100))
        .default(i.detector.zThreshold),
    )
    .addOption(
      new Option('--insights-min-calls <count>', 'Insights: calls (or errors) a minute needs to be unusual')
        .env('CRUMBTRAIL_INSIGHTS_MIN_CALLS')
        .argParser(integer(1, 1_000_000))
        .default(i.detector.minCount),
    )
    .addOption(
      new Option(
        '--insights-min-excess <count>',
        'Insights: calls (or errors) above the expected count needed',
      )
        .env('CRUMBTRAIL_INSIGHTS_MIN_EXCESS')
        .argParser(integer(0, 1_000_000))
        .default(i.detector.minExcess),
    )
    .addOption(
      new Option('--insights-min-ratio <ratio>', 'Insights: multiple of the expected value needed')
        .env('CRUMBTRAIL_INSIGHTS_MIN_RATIO')
        .argParser(decimal(1, 1000))
        .default(i.detector.minRatio),
    )
    .addOption(
      new Option(
        '--insights-start-after <minutes>',
        'Insights: unusual minutes in a row that start an insight',
      )
        .env('CRUMBTRAIL_INSIGHTS_START_AFTER')
        .argParser(integer(1, 60))
        .default(i.detector.startAfter),
    )
    .addOption(
      new Option('--insights-end-after <minutes>', 'Insights: usual minutes in a row that end an insight')
        .env('CRUMBTRAIL_INSIGHTS_END_AFTER')
        .argParser(integer(1, 600))
        .default(i.detector.endAfter),
    )
    .addOption(
      new Option(
        '--insights-read-calls',
        'Insights: count read calls in call rates too (default: writes) (env: CRUMBTRAIL_INSIGHTS_READ_CALLS=true|false)',
      ).default(i.countsReadCalls),
    )
    .addOption(
      new Option(
        '--insights-detect-drops',
        'Insights: report call-rate drops too, e.g. an API falling silent (default: increases only, as CloudTrail) (env: CRUMBTRAIL_INSIGHTS_DETECT_DROPS=true|false)',
      ).default(i.detector.detectDrops),
    )
    .addOption(
      new Option('--insights-interval-seconds <seconds>', 'Insights: how often to evaluate')
        .env('CRUMBTRAIL_INSIGHTS_INTERVAL_SECONDS')
        .argParser(integer(1, 3600))
        .default(i.intervalMs / 1000),
    )
    .addOption(
      new Option(
        '--insights-lateness-seconds <seconds>',
        'Insights: wait after a minute ends before judging it',
      )
        .env('CRUMBTRAIL_INSIGHTS_LATENESS_SECONDS')
        .argParser(integer(0, 600))
        .default(i.latenessMs / 1000),
    )
    .addOption(
      new Option('--insights-max-series <count>', 'Insights: APIs (source + name) tracked at most')
        .env('CRUMBTRAIL_INSIGHTS_MAX_SERIES')
        .argParser(integer(1, 100_000))
        .default(i.maxSeries),
    );
}

/**
 * A yes/no setting: the flag when given on the command line, else its environment variable read
 * for its value (commander would take any value, even "false", as yes), else the default.
 */
function switchSetting(command: Command, option: keyof CollectorFlags, envName: string): boolean {
  const flag = command.getOptionValue(option) as boolean;
  if (command.getOptionValueSource(option) === 'cli') return flag;
  const raw = process.env[envName];
  if (raw === undefined) return flag;
  if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
  if (/^(0|false|no|off|)$/i.test(raw.trim())) return false;
  command.error(`error: environment variable ${envName}="${raw}": expected true or false`, { exitCode: 2 });
}

function cloudTrailAccess(command: Command, flags: CollectorFlags): CloudTrailApiConfig['access'] {
  const open = switchSetting(command, 'cloudtrailApiOpen', 'CRUMBTRAIL_CLOUDTRAIL_API_OPEN');
  if (open && flags.awsCredentialsFile !== undefined) {
    command.error('error: --cloudtrail-api-open and --aws-credentials-file exclude each other', {
      exitCode: 2,
    });
  }
  if (open) return { mode: 'open' };
  if (flags.awsCredentialsFile === undefined) return { mode: 'off' };
  try {
    return { mode: 'sigv4', credentials: loadCredentials(flags.awsCredentialsFile, CREDENTIAL_OPERATIONS) };
  } catch (error) {
    command.error(`error: --aws-credentials-file ${(error as Error).message}`, { exitCode: 2 });
  }
}

export function configFromCommand(command: Command): CollectorConfig {
  const flags = command.opts<CollectorFlags>();
  return {
    host: flags.host,
    otlpPort: flags.otlpPort,
    apiPort: flags.apiPort,
    store: flags.store,
    dbPath: flags.db,
    clickhouse: {
      url: flags.clickhouseUrl,
      database: flags.clickhouseDatabase,
      username: flags.clickhouseUser,
      password: flags.clickhousePassword,
      cluster: flags.clickhouseCluster,
      insertQuorum: flags.clickhouseInsertQuorum,
      textIndex: switchSetting(command, 'clickhouseTextIndex', 'CRUMBTRAIL_CLICKHOUSE_TEXT_INDEX'),
    },
    retentionDays: flags.retentionDays,
    apiToken: flags.apiToken,
    ingestToken: flags.ingestToken,
    metricsToken: flags.metricsToken,
    deriveFromHttpSpans: switchSetting(command, 'deriveFromHttpSpans', 'CRUMBTRAIL_DERIVE_FROM_HTTP_SPANS'),
    trustedProxies: flags.trustProxy,
    maxBodyBytes: flags.maxBodyBytes,
    maxQueueEvents: flags.maxQueueEvents,
    maxConcurrentExports: flags.maxConcurrentExports,
    maxInflightBodyBytes: flags.maxInflightBodyBytes,
    maxFutureSkewMs: flags.maxFutureSkewSeconds * 1000,
    ingestThreads: flags.ingestThreads,
    http: {
      maxConnections: flags.maxConnections,
      // Node requires the headers timeout to be within the request timeout.
      requestTimeoutMs: flags.requestTimeoutSeconds * 1000,
      headersTimeoutMs: Math.min(flags.headersTimeoutSeconds, flags.requestTimeoutSeconds) * 1000,
      idleTimeoutMs: flags.idleTimeoutSeconds * 1000,
    },
    sqliteSynchronous: flags.sqliteSynchronous,
    queryTimeoutMs: flags.queryTimeoutMs,
    logLevel: flags.logLevel,
    insights: {
      enabled: switchSetting(command, 'insights', 'CRUMBTRAIL_INSIGHTS'),
      detector: {
        ...DEFAULT_CONFIG.insights.detector,
        baselineMinutes: flags.insightsBaselineDays * MINUTES_PER_DAY,
        zThreshold: flags.insightsThreshold,
        minCount: flags.insightsMinCalls,
        minExcess: flags.insightsMinExcess,
        minRatio: flags.insightsMinRatio,
        startAfter: flags.insightsStartAfter,
        endAfter: flags.insightsEndAfter,
        detectDrops: switchSetting(command, 'insightsDetectDrops', 'CRUMBTRAIL_INSIGHTS_DETECT_DROPS'),
      },
      countsReadCalls: switchSetting(command, 'insightsReadCalls', 'CRUMBTRAIL_INSIGHTS_READ_CALLS'),
      intervalMs: flags.insightsIntervalSeconds * 1000,
      latenessMs: flags.insightsLatenessSeconds * 1000,
      maxSeries: flags.insightsMaxSeries,
    },
    cloudTrailApi: {
      access: cloudTrailAccess(command, flags),
      region: flags.awsRegion,
      accountId: flags.awsAccountId,
    },
    trail: {
      dir: flags.trailDir,
      deliveryIntervalMs: flags.trailDeliverySeconds * 1000,
      digestIntervalMs: flags.trailDigestSeconds * 1000,
      signingKeyPath: flags.trailSigningKey ?? join(dirname(flags.db), 'trail-signing-key.pem'),
      keyRotationDays: flags.trailKeyRotationDays,
    },
  };
}

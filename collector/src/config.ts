import { availableParallelism } from 'node:os';
import type { AwsCredential } from './cloudtrail-api/credentials.js';
import type { DetectorSettings } from './insights/insight-settings.js';
import { DEFAULT_DETECTOR_SETTINGS } from './insights/insight-settings.js';

/*
 * Collector configuration: every setting has a flag and a CRUMBTRAIL_* environment variable
 * (flags win), with defaults that run the embedded SQLite store on one machine.
 */
export interface CollectorConfig {
  /** Interface both servers listen on. */
  host: string;
  otlpPort: number;
  apiPort: number;
  /** Where events are stored: the embedded SQLite file (default) or a ClickHouse server/cluster. */
  store: 'sqlite' | 'clickhouse';
  /** SQLite database file. */
  dbPath: string;
  clickhouse: ClickHouseConfig;
  retentionDays: number;
  /** Bearer token required on /api/* when set. */
  apiToken: string | undefined;
  /** Bearer token required on /v1/traces when set. */
  ingestToken: string | undefined;
  /** Bearer token required on /metrics when set. */
  metricsToken: string | undefined;
  /** Turn plain HTTP/RPC server spans into events too. */
  deriveFromHttpSpans: boolean;
  /** Proxies whose X-Forwarded-For a derived event believes (addresses, CIDR ranges, range names). */
  trustedProxies: readonly string[];
  /** Largest OTLP request body, after decompression. */
  maxBodyBytes: number;
  /** Events waiting for a commit before exporters are told to back off (429). */
  maxQueueEvents: number;
  /** Export requests whose bodies are read and decoded at once; more get 429. */
  maxConcurrentExports: number;
  /** Decompressed body bytes held by all exports at once; more get 429. */
  maxInflightBodyBytes: number;
  /** How far in the future an event may end (clock skew); later ones are rejected. */
  maxFutureSkewMs: number;
  /** Threads that decode and map export requests; 0 does it on the main thread. */
  ingestThreads: number;
  /** Connection and request limits of both HTTP servers. */
  http: HttpLimits;
  /** SQLite synchronous mode: normal survives a process crash, full also a power loss. */
  sqliteSynchronous: 'normal' | 'full';
  /** A lookup running longer is stopped and answered 503. */
  queryTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  insights: InsightsConfig;
  cloudTrailApi: CloudTrailApiConfig;
  trail: TrailConfig;
}

/** The ClickHouse engine (--store clickhouse): several collectors can share one database. */
export interface ClickHouseConfig {
  url: string;
  database: string;
  username: string;
  password: string | undefined;
  /** A cluster from remote_servers: Replicated tables with Distributed ones over them. */
  cluster: string | undefined;
  /** insert_quorum: an export is acknowledged once this many replicas have it. */
  insertQuorum: number | undefined;
  /** On servers that have text indexes (26.2+), index the records for free text (about doubles the disk). */
  textIndex: boolean;
}

/** Delivery of the events to CloudTrail log files with signed digests (tamper evidence). */
export interface TrailConfig {
  /** The trail folder; undefined: no delivery. */
  dir: string | undefined;
  deliveryIntervalMs: number;
  digestIntervalMs: number;
  /** The private key's PEM file (its public keys are kept beside it). */
  signingKeyPath: string;
  keyRotationDays: number;
}

/**
 * CloudTrail's own API on the query API port: off unless credentials are configured (SigV4), or
 * it is explicitly opened to unsigned callers.
 */
export interface CloudTrailApiConfig {
  access:
    { mode: 'off' } | { mode: 'open' } | { mode: 'sigv4'; credentials: ReadonlyMap<string, AwsCredential> };
  /** The built-in trail's home region and account, as its ARN shows them. */
  region: string;
  accountId: string;
}

export interface HttpLimits {
  /** Open connections per server; more are refused, so one port's clients cannot starve the other. */
  maxConnections: number;
  /** A request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Headers must arrive within this. */
  headersTimeoutMs: number;
  /** A connection with no traffic for this long is closed (a stalled body, an idle keep-alive). */
  idleTimeoutMs: number;
}

export interface InsightsConfig {
  enabled: boolean;
  detector: DetectorSettings;
  /** Count read calls in ApiCallRateInsight too (CloudTrail counts write calls only). */
  countsReadCalls: boolean;
  intervalMs: number;
  /** Wait this long after a minute ends before judging it, for late exports. */
  latenessMs: number;
  /** APIs tracked at most. */
  maxSeries: number;
}

export const DEFAULT_CONFIG: CollectorConfig = {
  host: '127.0.0.1',
  otlpPort: 4318,
  apiPort: 8790,
  store: 'sqlite',
  dbPath: './data/crumbtrail.db',
  clickhouse: {
    url: 'http://127.0.0.1:8123',
    database: 'crumbtrail',
    username: 'default',
    password: undefined,
    cluster: undefined,
    insertQuorum: undefined,
    textIndex: true,
  },
  retentionDays: 90,
  apiToken: undefined,
  ingestToken: undefined,
  metricsToken: undefined,
  deriveFromHttpSpans: false,
  trustedProxies: [],
  // An OTel SDK batch (512 spans) is ~1 MB. Decoding 16 MiB takes an ingest thread ~1.3 s here
  // (64 MiB: ~4.7 s, and ~3× the body in memory), so larger bodies are refused by default.
  maxBodyBytes: 16 * 1024 * 1024,
  maxQueueEvents: 100_000,
  maxConcurrentExports: 32,
  // Decoded spans take ~3× their body's bytes: this bounds ingest memory near 1 GiB.
  maxInflightBodyBytes: 256 * 1024 * 1024,
  // CloudTrail-like tolerance for clients whose clocks run ahead.
  maxFutureSkewMs: 5 * 60 * 1000,
  // Leaves a core to the main thread and one to the SQLite writer where there are more than two.
  ingestThreads: Math.max(1, Math.min(4, availableParallelism() - 2)),
  http: {
    maxConnections: 1024,
    requestTimeoutMs: 60_000,
    headersTimeoutMs: 10_000,
    idleTimeoutMs: 30_000,
  },
  sqliteSynchronous: 'normal',
  queryTimeoutMs: 30_000,
  logLevel: 'info',
  cloudTrailApi: { access: { mode: 'off' }, region: 'us-east-1', accountId: '000000000000' },
  // CloudTrail's own rhythm: log files about every 5 minutes, digests hourly.
  trail: {
    dir: undefined,
    deliveryIntervalMs: 5 * 60_000,
    digestIntervalMs: 60 * 60_000,
    signingKeyPath: './data/trail-signing-key.pem',
    keyRotationDays: 90,
  },
  insights: {
    enabled: true,
    detector: DEFAULT_DETECTOR_SETTINGS,
    countsReadCalls: false,
    intervalMs: 60_000,
    // The instrumentation's batch processor exports every 5 s; 15 s leaves room for a retry.
    latenessMs: 15_000,
    maxSeries: 1000,
  },
};

/**
 * Events per store transaction. Larger transactions amortise index page writes, but with two
 * commits in flight (the write queue's pipeline) a group of ~4 export batches measured best:
 * 2048 → 28.8k spans/s in-process, 8192 → 20.6k, 1024 → 26.5k (8 concurrent exporters).
 */
export const EVENTS_PER_COMMIT = 2048;

/**
 * Events per ClickHouse insert: ClickHouse wants few, large inserts (45k rows/s at 1k rows per
 * insert vs ~150k at 100k measured here, and every insert makes a part to merge). The write queue
 * still commits what is waiting at once, so a light load is not held back to fill a batch.
 */
export const CLICKHOUSE_EVENTS_PER_COMMIT = 50_000;

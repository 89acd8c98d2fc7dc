/*
 * Wires the collector together: store → write queue → ingest pipeline → OTLP receiver, the query
 * API, retention and metrics; and shuts it down in the order that loses nothing (stop accepting,
 * commit what was accepted, then close the store).
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { buildApiServer } from './api/api-server.js';
import type { ApiServerOptions } from './api/api-server.js';
import { PagingTokens } from './api/paging-token.js';
import type { CollectorConfig } from './config.js';
import { createExportDecoder } from './ingest/export-decoder.js';
import { IngestPipeline } from './ingest/ingest-pipeline.js';
import { InsightEngine } from './insights/insight-engine.js';
import { LeaseKeeper } from './insights/insights-leadership.js';
import { CollectorMetrics } from './metrics/collector-metrics.js';
import { InsightMetrics } from './metrics/insight-metrics.js';
import { TrailMetrics } from './metrics/trail-metrics.js';
import { BodyBudget } from './receiver/body-budget.js';
import { buildOtlpReceiver } from './receiver/otlp-http-receiver.js';
import { RetentionSweeper } from './retention/retention-sweeper.js';
import type { EventStore } from './store/event-store.js';
import { JOB_LEASE, openEventStore } from './store/open-event-store.js';
import { WriteQueue } from './store/write-queue.js';
import { SigningKeyring } from './trail/signing-keys.js';
import { TrailDelivery } from './trail/trail-delivery.js';
import { TrailFolder } from './trail/trail-folder.js';

export interface RunningCollector {
  /** http://host:port of the OTLP receiver and of the query API. */
  otlpUrl: string;
  apiUrl: string;
  store: EventStore;
  /** Undefined when Insights is disabled. */
  insights: InsightEngine | undefined;
  stop(): Promise<void>;
}

export interface CollectorRuntime {
  logger?: Logger;
  /** The clock Insights judges minutes by (tests replay days of traffic in seconds). */
  now?: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** The built-in trail's name, and the bucket its files are served as. */
const TRAIL_NAME = 'crumbtrail';
/** A log file's records: CloudTrail's files hold a few thousand; bytes bound the gzip work per file. */
const TRAIL_FILE_RECORDS = 5000;
const TRAIL_FILE_BYTES = 16 * 1024 * 1024;

interface TrailArchive {
  folder: TrailFolder;
  keyring: SigningKeyring;
}

function urlOf(address: AddressInfo | string | null): string {
  if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function cloudTrailApiOf(
  config: CollectorConfig,
  startedMs: number,
  archive: TrailArchive | undefined,
): Pick<ApiServerOptions, 'cloudTrail'> {
  const { access, region, accountId } = config.cloudTrailApi;
  if (access.mode === 'off') return {};
  return {
    cloudTrail: {
      authentication:
        access.mode === 'open' ? { kind: 'open' } : { kind: 'sigv4', credentials: access.credentials },
      trail: {
        name: TRAIL_NAME,
        bucket: TRAIL_NAME,
        region,
        accountId,
        insightsEnabled: config.insights.enabled,
        startedMs,
        logFileValidation: archive !== undefined,
      },
      ...(archive === undefined ? {} : { archive }),
    },
  };
}

function trailArchiveOf(config: CollectorConfig, now: () => number): TrailArchive | undefined {
  if (config.trail.dir === undefined) return undefined;
  return {
    folder: new TrailFolder(config.trail.dir),
    keyring: new SigningKeyring({
      privateKeyPath: config.trail.signingKeyPath,
      rotationMs: config.trail.keyRotationDays * DAY_MS,
      now,
    }),
  };
}

export async function startCollector(
  config: CollectorConfig,
  runtime: CollectorRuntime = {},
): Promise<RunningCollector> {
  const log = runtime.logger ?? pino({ level: config.logLevel });
  const now = runtime.now ?? Date.now;
  const { store, eventsPerCommit, location, jobLease } = await openEventStore(config);
  // The queue-depth gauge reads the queue lazily, at scrape time.
  const bodyBudget = new BodyBudget(config.maxConcurrentExports, config.maxInflightBodyBytes);
  const metrics = new CollectorMetrics(
    () => queue.depth,
    () => ({ exports: bodyBudget.exportsInProgress, bytes: bodyBudget.bytesHeld }),
    store.textIndexBacklog?.bind(store),
  );
  const queue = new WriteQueue(store, {
    maxPendingEvents: config.maxQueueEvents,
    maxEventsPerCommit: eventsPerCommit,
    onCommit: (outcome, _events, seconds) => {
      metrics.storeCommits.inc();
      metrics.storeCommitSeconds.observe(seconds);
      metrics.eventsIngested.inc(outcome.inserted);
      metrics.eventsDuplicate.inc(outcome.duplicates);
    },
  });
  const pipeline = new IngestPipeline(
    queue,
    {
      deriveFromServerSpans: config.deriveFromHttpSpans,
      trustedProxies: config.trustedProxies,
      retentionMs: config.retentionDays * DAY_MS,
      maxFutureSkewMs: config.maxFutureSkewMs,
      // Ingest judges event times by the wall clock: retention deletes by it too.
    },
    metrics,
  );
  let shuttingDown = false;
  const archive = trailArchiveOf(config, now);
  const trail =
    archive === undefined
      ? undefined
      : new TrailDelivery(
          store,
          archive.folder,
          archive.keyring,
          {
            identity: {
              accountId: config.cloudTrailApi.accountId,
              region: config.cloudTrailApi.region,
              trailName: TRAIL_NAME,
              bucket: TRAIL_NAME,
            },
            deliveryIntervalMs: config.trail.deliveryIntervalMs,
            digestIntervalMs: config.trail.digestIntervalMs,
            maxRecordsPerFile: TRAIL_FILE_RECORDS,
            maxBytesPerFile: TRAIL_FILE_BYTES,
            // Log files and digests are named and dated by the wall clock, as CloudTrail's.
            now: Date.now,
            observer: new TrailMetrics(metrics.registry),
          },
          log.child({ component: 'trail' }),
        );

  const decoder = createExportDecoder(config.ingestThreads);
  const receiver = buildOtlpReceiver({
    pipeline,
    decoder,
    metrics,
    logger: log,
    maxBodyBytes: config.maxBodyBytes,
    ingestToken: config.ingestToken,
    retryAfterSeconds: 1,
    bodyBudget,
    http: config.http,
  });
  const api = buildApiServer({
    store,
    tokens: new PagingTokens(await store.secret('paging-token-key')),
    metrics,
    logger: log,
    apiToken: config.apiToken,
    metricsToken: config.metricsToken,
    http: config.http,
    isShuttingDown: () => shuttingDown,
    writesFailing: () => queue.stillFailing(),
    maxInsightMinutes: config.insights.detector.maxInsightMinutes,
    now,
    ...cloudTrailApiOf(config, now(), archive),
  });
  const insightMetrics = config.insights.enabled ? new InsightMetrics(metrics.registry) : undefined;
  // Collectors sharing a database take turns at Insights; the lease runs on the wall clock.
  const insightsLease =
    config.insights.enabled && jobLease !== undefined
      ? new LeaseKeeper(
          jobLease('insights', `${hostname()}:${process.pid}:${randomUUID()}`),
          {
            renewMs: JOB_LEASE.renewMs,
            now: Date.now,
            onChange: (holds) => insightMetrics?.evaluating.set(holds ? 1 : 0),
          },
          log.child({ component: 'insights-lease' }),
        )
      : undefined;
  const insights =
    insightMetrics !== undefined
      ? new InsightEngine(
          store,
          insightMetrics,
          {
            settings: config.insights.detector,
            countsReadCalls: config.insights.countsReadCalls,
            latenessMs: config.insights.latenessMs,
            intervalMs: config.insights.intervalMs,
            maxSeries: config.insights.maxSeries,
            maxCatchUpMinutes: 60,
            now,
            ...(insightsLease === undefined ? {} : { leadership: insightsLease }),
          },
          log.child({ component: 'insights' }),
        )
      : undefined;
  const retention = new RetentionSweeper(
    store,
    {
      retentionDays: config.retentionDays,
      intervalMs: 10 * 60 * 1000,
      chunkSize: 5000,
      pauseMs: 20,
      onDeleted: (count) => {
        metrics.eventsExpired.inc(count);
      },
    },
    log.child({ component: 'retention' }),
  );

  // Before the ports open: a bad signing key or an unwritable folder refuses to start.
  await trail?.start();
  await receiver.listen({ host: config.host, port: config.otlpPort });
  await api.listen({ host: config.host, port: config.apiPort });
  retention.start();
  await insightsLease?.start();
  await insights?.start();
  const running: RunningCollector = {
    otlpUrl: urlOf(receiver.server.address()),
    apiUrl: urlOf(api.server.address()),
    store,
    insights,
    async stop() {
      shuttingDown = true;
      await receiver.close();
      await decoder.close();
      await queue.drain();
      await insights?.stop();
      await insightsLease?.stop();
      // Everything committed (insight events too) goes into a last log file and digest.
      await trail?.stop();
      await retention.stop();
      await api.close();
      await store.close();
    },
  };
  if (config.cloudTrailApi.access.mode === 'open') {
    log.warn(
      'the CloudTrail-compatible API (POST / on the API port) answers anyone: it was opened without credentials',
    );
  }
  log.info(
    { otlp: `${running.otlpUrl}/v1/traces`, api: `${running.apiUrl}/api/v1/events`, db: location },
    'crumbtrail collector started',
  );
  return running;
}

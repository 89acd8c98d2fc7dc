/*
 * OTLP/HTTP trace receiver: POST /v1/traces, protobuf or JSON, optionally gzip-compressed,
 * answered in the request's own encoding as the OTLP specification says:
 *   200 ExportTraceServiceResponse (partialSuccess when some spans were rejected)
 *   400 undecodable body · 401 bad ingest token · 413 body too large (after decompression)
 *   415 other content types/encodings · 429 queue full, or too many exports being read at once
 *   503 store failing; 429 and 503 with Retry-After
 * Never 500 for overload: OTLP exporters drop data on 500 but retry 429/503.
 */
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpLimits } from '../config.js';
import { limitedServerFactory } from '../http/limited-server.js';
import type { OtlpEncoding } from '../ingest/decode-export.js';
import type { ExportDecoder } from '../ingest/export-decoder.js';
import { IngestThreadError } from '../ingest/export-decoder.js';
import type { IngestPipeline, IngestResult, MappedBatch } from '../ingest/ingest-pipeline.js';
import type { CollectorMetrics } from '../metrics/collector-metrics.js';
import { encodeExportTraceServiceResponse, encodeRpcStatus } from '../otlp/protobuf-response.js';
import { StoreOverloadedError, StoreUnavailableError } from '../store/write-queue.js';
import { bearerTokenMatches } from '../security/bearer-token.js';
import type { BodyBudget, BodyReservation } from './body-budget.js';
import { BodyError, readBody } from './read-body.js';

export interface ReceiverOptions {
  pipeline: IngestPipeline;
  /** Decodes and maps export bodies (on ingest threads, so this thread stays responsive). */
  decoder: ExportDecoder;
  metrics: CollectorMetrics;
  logger: FastifyBaseLogger;
  /** Largest accepted body after decompression. */
  maxBodyBytes: number;
  /** When set, exports must send `Authorization: Bearer <token>`. */
  ingestToken: string | undefined;
  /** Seconds a client is told to wait when the queue is full. */
  retryAfterSeconds: number;
  /** Exports read and decoded at once, and the bytes they may hold. */
  bodyBudget: BodyBudget;
  http: HttpLimits;
}

type Encoding = OtlpEncoding;

const CONTENT_TYPES: Readonly<Record<Encoding, string>> = {
  json: 'application/json',
  protobuf: 'application/x-protobuf',
};

/** google.rpc.Code values used in error bodies. */
const RPC_CODE_BY_STATUS: Readonly<Record<number, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  413: 8, // RESOURCE_EXHAUSTED
  415: 3,
  429: 8,
  503: 14, // UNAVAILABLE
};

function encodingOf(request: FastifyRequest): Encoding {
  return (request.headers['content-type'] ?? '').toLowerCase().startsWith(CONTENT_TYPES.protobuf)
    ? 'protobuf'
    : 'json';
}

export function buildOtlpReceiver(options: ReceiverOptions): FastifyInstance {
  const { metrics } = options;
  // Typed as the default instance so route helpers need not carry pino's logger type.
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger.child({ component: 'otlp-receiver' }),
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: limitedServerFactory(options.http),
  });

  // The body is read by the handler itself (decompression and limits), so the parsers only pass
  // the raw stream on. Any other content type gets fastify's 415.
  app.removeAllContentTypeParsers();
  for (const type of Object.values(CONTENT_TYPES)) {
    app.addContentTypeParser(type, (_request, payload, done) => {
      done(null, payload);
    });
  }

  function sendError(reply: FastifyReply, encoding: Encoding, status: number, message: string): FastifyReply {
    metrics.exportRequests.inc({ encoding, status: String(status) });
    const code = RPC_CODE_BY_STATUS[status] ?? 2;
    reply.code(status).type(CONTENT_TYPES[encoding]);
    // The body may not have been read to its end: the connection cannot carry another request.
    if (status === 413 || status === 429) reply.header('connection', 'close');
    return encoding === 'protobuf'
      ? reply.send(Buffer.from(encodeRpcStatus(code, message)))
      : reply.send(JSON.stringify({ code, message }));
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode === 415) {
      return sendError(
        reply,
        'json',
        415,
        'unsupported Content-Type: send application/x-protobuf or application/json',
      );
    }
    request.log.error({ err: error }, 'unexpected receiver error');
    // A 503 makes the exporter retry rather than drop the batch.
    return sendError(reply, encodingOf(request), 503, 'internal error, retry later');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      encodingOf(request),
      404,
      `no route ${request.method} ${request.url}: export to POST /v1/traces`,
    ),
  );

  /** The export's spans read, decoded and mapped; or why the request is refused. */
  async function readExport(
    request: FastifyRequest,
    encoding: Encoding,
    reservation: BodyReservation,
  ): Promise<MappedBatch | { refusal: BodyError['statusCode'] | 503; message: string; unreadBody: boolean }> {
    let body: Buffer;
    try {
      body = await readBody(request.body as IncomingMessage, options.maxBodyBytes, reservation);
    } catch (error) {
      if (error instanceof BodyError) {
        return { refusal: error.statusCode, message: error.message, unreadBody: true };
      }
      throw error;
    }
    try {
      const decoded = await options.decoder.decode({
        body,
        encoding,
        mapping: options.pipeline.mappingOptions(),
      });
      if (!decoded.ok) return { refusal: 400, message: decoded.invalidBody, unreadBody: false };
      metrics.spansReceived.inc({ encoding }, decoded.spans);
      return decoded.batch;
    } catch (error) {
      if (error instanceof IngestThreadError) {
        request.log.error({ err: error }, 'ingest thread failed');
        return { refusal: 503, message: error.message, unreadBody: false };
      }
      throw error;
    }
  }

  app.post('/v1/traces', async (request, reply) => {
    const encoding = encodingOf(request);
    if (!bearerTokenMatches(request.headers.authorization, options.ingestToken)) {
      return sendError(reply, encoding, 401, 'missing or wrong ingest token (Authorization: Bearer …)');
    }
    const reservation = options.bodyBudget.tryAcquire();
    if (reservation === undefined) {
      reply.header('retry-after', String(options.retryAfterSeconds));
      return sendError(
        reply,
        encoding,
        429,
        'the collector is reading as many exports as it allows; retry later',
      );
    }
    const batch = await readExport(request, encoding, reservation).finally(() => {
      // The body and decoded spans are garbage now; the events are counted by the write queue.
      reservation.release();
    });
    if ('refusal' in batch) {
      if (batch.refusal === 429 || batch.refusal === 503)
        reply.header('retry-after', String(options.retryAfterSeconds));
      // A body refused while it was read (bad gzip, too large) was not read to its end: what is
      // left of it must not be taken for the next request on this connection.
      if (batch.unreadBody) reply.header('connection', 'close');
      return sendError(reply, encoding, batch.refusal, batch.message);
    }

    let result: IngestResult;
    try {
      result = await options.pipeline.store(batch);
    } catch (error) {
      if (error instanceof StoreOverloadedError) {
        reply.header('retry-after', String(options.retryAfterSeconds));
        return sendError(reply, encoding, 429, error.message);
      }
      if (error instanceof StoreUnavailableError) {
        request.log.error({ err: error }, 'store commit failed');
        reply.header('retry-after', String(options.retryAfterSeconds * 5));
        return sendError(reply, encoding, 503, error.message);
      }
      throw error;
    }
    metrics.exportRequests.inc({ encoding, status: '200' });
    const partialSuccess =
      result.rejected > 0
        ? { rejectedSpans: result.rejected, errorMessage: result.rejectionMessage }
        : undefined;
    reply.code(200).type(CONTENT_TYPES[encoding]);
    if (encoding === 'protobuf')
      return reply.send(Buffer.from(encodeExportTraceServiceResponse(partialSuccess)));
    return reply.send(JSON.stringify(partialSuccess === undefined ? {} : { partialSuccess }));
  });

  return app;
}

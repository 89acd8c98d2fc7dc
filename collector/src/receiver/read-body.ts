/*
 * Reads a request body with the OTLP receiver's limits: the size limit applies to the
 * decompressed bytes (a 10 KB gzip bomb that inflates to gigabytes stops at the limit), a
 * declared Content-Length above the limit is refused before reading, and every byte read is taken
 * from the budget shared by all exports in progress (429 when it runs out).
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { BodyReservation } from './body-budget.js';

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly statusCode: 400 | 413 | 415 | 429,
    message: string,
  ) {
    super(message);
  }
}

function collect(
  stream: Readable,
  maxBytes: number,
  what: string,
  reservation: BodyReservation,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    // Stop reading, keep the socket: the client still gets its 413/429 (sent with connection:
    // close), rather than a reset connection it would retry at once.
    const refuse = (error: BodyError): void => {
      stream.removeAllListeners('data');
      stream.pause();
      reject(error);
    };
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        refuse(new BodyError(413, `the ${what} exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      if (!reservation.reserve(chunk.length)) {
        refuse(new BodyError(429, 'the collector holds as many export bodies as it allows; retry later'));
        return;
      }
      chunks.push(chunk);
    });
    // A client that goes away (or is cut off by the request timeout) mid-body: nothing to keep.
    stream.on('close', () => {
      reject(new BodyError(400, `the ${what} ended before it was complete`));
    });
    stream.on('end', () => {
      resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, total));
    });
    stream.on('error', (error: Error & { code?: string }) => {
      reject(
        error.code?.startsWith('Z_') === true
          ? new BodyError(400, `invalid gzip body: ${error.message}`)
          : error,
      );
    });
  });
}

/** The body, decompressed; rejects with BodyError for size, encoding and gzip problems. */
export async function readBody(
  request: IncomingMessage,
  maxBytes: number,
  reservation: BodyReservation,
): Promise<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new BodyError(413, `the request body (${declared} bytes) exceeds the limit of ${maxBytes} bytes`);
  }
  if (encoding === 'identity' || encoding === '')
    return collect(request, maxBytes, 'request body', reservation);
  if (encoding !== 'gzip') {
    throw new BodyError(415, `unsupported Content-Encoding "${encoding}": use gzip or none`);
  }
  const gunzip = createGunzip();
  request.on('error', (error) => gunzip.destroy(error));
  request.pipe(gunzip);
  try {
    return await collect(gunzip, maxBytes, 'decompressed request body', reservation);
  } finally {
    request.unpipe(gunzip);
    gunzip.destroy();
  }
}

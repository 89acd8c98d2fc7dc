/*
 * Reads a request body with the OTLP receiver's limits: the size limit applies to the
 * decompressed bytes (a 10 KB gzip bomb that inflates to gigabytes stops at the limit), and a
 * declared Content-Length above the limit is refused before reading.
 */
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly statusCode: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

function collect(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    stream.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        stream.destroy();
        reject(new BodyError(413, `the ${what} exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
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
export async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new BodyError(413, `the request body (${declared} bytes) exceeds the limit of ${maxBytes} bytes`);
  }
  if (encoding === 'identity' || encoding === '') return collect(request, maxBytes, 'request body');
  if (encoding !== 'gzip') {
    throw new BodyError(415, `unsupported Content-Encoding "${encoding}": use gzip or none`);
  }
  const gunzip = createGunzip();
  request.on('error', (error) => gunzip.destroy(error));
  request.pipe(gunzip);
  try {
    return await collect(gunzip, maxBytes, 'decompressed request body');
  } finally {
    request.unpipe(gunzip);
  }
}

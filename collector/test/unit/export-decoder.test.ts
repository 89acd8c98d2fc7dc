/*
 * The ingest threads decode exactly as the main thread would: same rows, same rejections, same
 * refusals of bodies that are not export requests; and what a caller hands them is moved or
 * copied, never taken from under other users of a pooled buffer.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DecodedExport, DecodeTask } from '../../src/ingest/decode-export.js';
import { createExportDecoder } from '../../src/ingest/export-decoder.js';
import { unpackRows } from '../../src/store/packed-rows.js';
import { auditJsonSpan, exportRequestJson, freshSpanId, stringAttribute } from '../support/otlp-json.js';

const NOW = Date.UTC(2026, 5, 1, 12);
const MAPPING: DecodeTask['mapping'] = {
  deriveFromServerSpans: false,
  acceptedTimes: { fromMs: NOW - 86_400_000, toMs: NOW + 300_000 },
};

function exportBody(): Buffer {
  return Buffer.from(
    exportRequestJson(
      [
        auditJsonSpan(freshSpanId(), NOW - 1000, 'GetWidget', [stringAttribute('user.name', 'alice')]),
        auditJsonSpan(freshSpanId(), NOW - 2000, 'PutWidget'),
        // Older than retention: rejected with a reason.
        auditJsonSpan(freshSpanId(), NOW - 3 * 86_400_000, 'Stale'),
        // Not an audit span: ignored.
        { ...auditJsonSpan(freshSpanId(), NOW - 1000, 'x'), attributes: [] },
      ],
      [stringAttribute('service.name', 'widgets')],
    ),
  );
}

/** The result with its packed rows unpacked, for comparison. */
function comparable(decoded: DecodedExport): unknown {
  if (!decoded.ok) return decoded;
  const { rows, ...rest } = decoded.batch;
  return { spans: decoded.spans, ...rest, rows: unpackRows(rows) };
}

describe('export decoder', () => {
  const inline = createExportDecoder(0);
  const threads = createExportDecoder(2);
  after(async () => {
    await Promise.all([inline.close(), threads.close()]);
  });

  it('maps an export on an ingest thread exactly as inline', async () => {
    const body = exportBody();
    const expected = await inline.decode({ body: Buffer.from(body), encoding: 'json', mapping: MAPPING });
    const actual = await threads.decode({ body: Buffer.from(body), encoding: 'json', mapping: MAPPING });
    assert.deepEqual(comparable(actual), comparable(expected));
    assert.ok(actual.ok);
    assert.equal(actual.spans, 4);
    assert.equal(actual.batch.rows.count, 2);
    assert.equal(actual.batch.ignored, 1);
    assert.equal(actual.batch.rejected, 1);
    assert.match(actual.batch.reasons[0] ?? '', /retention/);
    assert.deepEqual(
      unpackRows(actual.batch.rows).map((row) => [row.eventName, row.username]),
      [
        ['GetWidget', 'alice'],
        ['PutWidget', null],
      ],
    );
  });

  it('refuses bodies that are not export requests, in both encodings, with the decoder’s message', async () => {
    for (const [encoding, body] of [
      ['json', Buffer.from('{"resourceSpans": [')],
      ['protobuf', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])],
    ] as const) {
      const expected = await inline.decode({ body: Buffer.from(body), encoding, mapping: MAPPING });
      const actual = await threads.decode({ body: Buffer.from(body), encoding, mapping: MAPPING });
      assert.equal(actual.ok, false, encoding);
      assert.deepEqual(actual, expected);
    }
  });

  it('copies a body that shares its memory with other buffers instead of moving it', async () => {
    // Small Buffers are slices of one shared pool: moving the pool to a thread would empty them all.
    const neighbour = Buffer.from('neighbour');
    const body = Buffer.from(exportRequestJson([auditJsonSpan(freshSpanId(), NOW, 'Small')]));
    assert.equal(body.buffer, neighbour.buffer, 'both are slices of the pool');
    const decoded = await threads.decode({ body, encoding: 'json', mapping: MAPPING });
    assert.ok(decoded.ok);
    assert.equal(decoded.batch.rows.count, 1);
    assert.equal(neighbour.toString(), 'neighbour');
    assert.ok(body.length > 0);
  });

  it('decodes concurrent exports on several threads, each answered with its own spans', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `Call${i}`);
    const results = await Promise.all(
      names.map((name) =>
        threads.decode({
          body: Buffer.from(exportRequestJson([auditJsonSpan(freshSpanId(), NOW, name)])),
          encoding: 'json',
          mapping: MAPPING,
        }),
      ),
    );
    assert.deepEqual(
      results.map((result) => (result.ok ? unpackRows(result.batch.rows)[0]?.eventName : undefined)),
      names,
    );
  });
});

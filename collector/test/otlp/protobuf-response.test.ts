import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { Reader } from 'protobufjs/minimal.js';

import { encodeExportTraceServiceResponse, encodeRpcStatus } from '../../src/otlp/protobuf-response.js';

type FieldValue = number | string | Uint8Array;

/** Reads a message's fields in wire order; varints as int64 → number, LEN fields as raw bytes. */
function readFields(bytes: Uint8Array): [field: number, wireType: number, value: FieldValue][] {
  const reader = Reader.create(bytes);
  const fields: [number, number, FieldValue][] = [];
  while (reader.pos < reader.len) {
    const tag = reader.tag();
    const wireType = tag & 7;
    if (wireType === 0) {
      // protobufjs returns int64 as a Long-like {low, high}; exact for the values used here.
      const { low, high } = reader.int64();
      fields.push([tag >>> 3, wireType, high * 0x100000000 + (low >>> 0)]);
    } else if (wireType === 2) fields.push([tag >>> 3, wireType, reader.bytes()]);
    else assert.fail(`unexpected wire type ${wireType}`);
  }
  return fields;
}

function text(value: FieldValue | undefined): string {
  assert.ok(value instanceof Uint8Array);
  return Buffer.from(value).toString('utf8');
}

/** ExportTracePartialSuccess fields of an ExportTraceServiceResponse. */
function partialSuccessFields(response: Uint8Array): ReturnType<typeof readFields> {
  const fields = readFields(response);
  assert.equal(fields.length, 1);
  const [field, wireType, payload] = fields[0]!;
  assert.equal(field, 1);
  assert.equal(wireType, 2);
  assert.ok(payload instanceof Uint8Array);
  return readFields(payload);
}

describe('encodeExportTraceServiceResponse', () => {
  it('encodes full success as the empty message (zero bytes)', () => {
    assert.equal(encodeExportTraceServiceResponse().length, 0);
    assert.equal(encodeExportTraceServiceResponse(undefined).length, 0);
    assert.equal(encodeExportTraceServiceResponse({ rejectedSpans: 0, errorMessage: '' }).length, 0);
  });

  it('encodes a partial success with rejected_spans and error_message', () => {
    const response = encodeExportTraceServiceResponse({
      rejectedSpans: 3,
      errorMessage: '3 spans had no actor',
    });
    const fields = partialSuccessFields(response);
    assert.deepEqual(
      fields.map(([field, wireType]) => [field, wireType]),
      [
        [1, 0],
        [2, 2],
      ],
    );
    assert.equal(fields[0]![2], 3);
    assert.equal(text(fields[1]![2]), '3 spans had no actor');
  });

  it('encodes rejected_spans as int64, beyond 32 bits', () => {
    const fields = partialSuccessFields(
      encodeExportTraceServiceResponse({ rejectedSpans: 2 ** 40 + 1, errorMessage: '' }),
    );
    assert.deepEqual(fields, [[1, 0, 2 ** 40 + 1]]);
  });

  it('encodes a warning (zero rejected, non-empty message) without rejected_spans', () => {
    const fields = partialSuccessFields(
      encodeExportTraceServiceResponse({ rejectedSpans: 0, errorMessage: 'ünïcode ⚠ warning' }),
    );
    assert.equal(fields.length, 1);
    assert.deepEqual(fields[0]!.slice(0, 2), [2, 2]);
    assert.equal(text(fields[0]![2]), 'ünïcode ⚠ warning');
  });

  it('is read back by the OpenTelemetry exporter’s own response parser', () => {
    assert.deepEqual(
      ProtobufTraceSerializer.deserializeResponse(
        encodeExportTraceServiceResponse({ rejectedSpans: 7, errorMessage: 'rate limited' }),
      ),
      { partialSuccess: { rejectedSpans: 7, errorMessage: 'rate limited' } },
    );
    assert.deepEqual(ProtobufTraceSerializer.deserializeResponse(encodeExportTraceServiceResponse()), {});
  });

  it('rejects a negative or fractional rejectedSpans', () => {
    for (const rejectedSpans of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => encodeExportTraceServiceResponse({ rejectedSpans, errorMessage: 'x' }), RangeError);
    }
  });
});

describe('encodeRpcStatus', () => {
  it('encodes code and message', () => {
    const fields = readFields(encodeRpcStatus(3, 'invalid protobuf: index out of range'));
    assert.deepEqual(
      fields.map(([field, wireType]) => [field, wireType]),
      [
        [1, 0],
        [2, 2],
      ],
    );
    assert.equal(fields[0]![2], 3);
    assert.equal(text(fields[1]![2]), 'invalid protobuf: index out of range');
  });

  it('omits proto3 defaults: code 0 and an empty message', () => {
    assert.equal(encodeRpcStatus(0, '').length, 0);
    assert.deepEqual(readFields(encodeRpcStatus(0, 'ok')).length, 1);
    assert.deepEqual(readFields(encodeRpcStatus(14, '')), [[1, 0, 14]]);
  });

  it('encodes a negative int32 code as a sign-extended varint', () => {
    const bytes = encodeRpcStatus(-1, '');
    assert.equal(bytes.length, 11, 'tag + 10-byte varint');
    const reader = Reader.create(bytes);
    assert.equal(reader.tag(), 0x08);
    assert.equal(reader.int32(), -1);
  });

  it('encodes a multi-byte UTF-8 message with its byte length', () => {
    const message = 'ошибка: 错误 🚫';
    const [, , payload] = readFields(encodeRpcStatus(13, message))[1]!;
    assert.ok(payload instanceof Uint8Array);
    assert.equal(payload.length, Buffer.byteLength(message));
    assert.equal(text(payload), message);
  });
});

/*
 * Honest readiness: when the store cannot commit (the disk is full), /readyz says so, exporters
 * get 503 + Retry-After (never an acknowledgement that is then lost), and lookups keep working.
 *
 * The full disk is real to SQLite: the collector's file-size limit (RLIMIT_FSIZE, set on the
 * running process with prlimit) makes every write past it fail with EFBIG, as ENOSPC would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import {
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../support/otlp-json.js';

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

describe('readiness with a full disk', () => {
  let collector: CollectorProcess;
  before(async () => {
    collector = await startCollectorProcess();
  });
  after(async () => {
    await collector.stop();
  });

  it('reports not ready once commits fail, refuses exports with 503, and keeps serving lookups', async () => {
    const acknowledged: string[] = [];
    const post = (count: number): Promise<{ status: number; retryAfter: string | null; ids: string[] }> => {
      const ids = Array.from({ length: count }, () => freshSpanId());
      const spans = ids.map((id) =>
        auditJsonSpan(id, Date.now() - 1000, 'Filling', [
          stringAttribute(A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS, JSON.stringify({ pad: 'p'.repeat(4000) })),
        ]),
      );
      return postJsonExport(collector.otlpUrl, exportRequestJson(spans)).then((answer) => ({
        status: answer.status,
        retryAfter: answer.retryAfter,
        ids,
      }));
    };
    const first = await post(50);
    assert.equal(first.status, 200);
    acknowledged.push(...first.ids);

    // The disk "fills": no file may grow beyond 1 MiB more than the largest one now.
    const largest = Math.max(fileSize(collector.dbPath), fileSize(`${collector.dbPath}-wal`));
    execFileSync('prlimit', ['--pid', String(collector.child.pid), `--fsize=${largest + 1024 * 1024}`]);

    // Until the disk is really full: SQLite reuses WAL space freed by a checkpoint, so a commit
    // can still succeed after a refusal, and a checkpoint that ran after three refusals in a row
    // can let /readyz's retry of the failed commit succeed (seen on a loaded machine). Full is when
    // three exports in a row are refused and the probe's retry fails too.
    let refused: { status: number; retryAfter: string | null } | undefined;
    let ready: { status: number; body: { status: string; message?: string } } | undefined;
    let refusalsInARow = 0;
    for (let attempt = 0; attempt < 400; attempt++) {
      const answer = await post(200);
      if (answer.status === 200) {
        acknowledged.push(...answer.ids);
        refusalsInARow = 0;
        continue;
      }
      refused = answer;
      refusalsInARow++;
      if (refusalsInARow < 3) continue;
      ready = await getJson<{ status: string; message?: string }>(collector.apiUrl, '/readyz');
      if (ready.status === 503) break;
      refusalsInARow = 0;
    }
    assert.ok(refused, 'commits fail once the disk is full');
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.retryAfter) > 0, 'with Retry-After');
    assert.ok(ready, 'three refusals in a row');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, 'store cannot commit writes');

    // The reader still answers, and everything acknowledged is there.
    const stored = new Set<string>();
    let token: string | undefined;
    do {
      const suffix = token === undefined ? '' : `&nextToken=${encodeURIComponent(token)}`;
      const page = await getJson<{ events: CloudTrailRecord[]; nextToken?: string }>(
        collector.apiUrl,
        `/api/v1/events?eventName=Filling&maxResults=1000${suffix}`,
      );
      assert.equal(page.status, 200);
      for (const event of page.body.events) stored.add(event.crumbtrail.spanId ?? '');
      token = page.body.nextToken;
    } while (token !== undefined);
    assert.deepEqual(
      acknowledged.filter((id) => !stored.has(id)),
      [],
      'no acknowledged event lost',
    );
    assert.equal(collector.child.exitCode, null, 'the collector is still running');
  });
});

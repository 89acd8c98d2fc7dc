/*
 * Short-lived processes: a job that records API calls and ends must not lose them, and what could
 * not be sent is reported on stderr (how many, and why), never silently. Real child processes
 * (support/short-lived-job.ts) with the real SDK and OTLP exporter, sending to the real built
 * collector, or to a port where nothing listens.
 *
 * Needs the collector built first: `npx tsc -b collector instrumentation`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exitOf, killedOnExit, stopChild } from '../../collector/test/support/child-processes.js';
import type { CollectorProcess } from '../../collector/test/support/collector-process.js';
import { getJson, startCollectorProcess } from '../../collector/test/support/collector-process.js';

const JOB = resolve(import.meta.dirname, 'support/short-lived-job.ts');
const TEST_TIMEOUT_MS = 120_000;

interface Job {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
}

function runJob(env: Record<string, string>): Job {
  const child = killedOnExit(
    spawn(process.execPath, ['--import', 'tsx', JOB], {
      env: { ...process.env, OTEL_LOG_LEVEL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters) {
      const found = stdout.split('\n').find((line) => waiter.pattern.test(line));
      if (found !== undefined) waiter.resolve(found);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    line: (pattern) =>
      new Promise((resolveLine, rejectLine) => {
        waiters.push({ pattern, resolve: resolveLine });
        void exitOf(child).then((code) => {
          rejectLine(new Error(`job exited (${code}) before printing ${pattern}: ${stdout} ${stderr}`));
        });
      }),
  };
}

/** A URL where nothing listens: a port the system gave us, closed again. */
async function deadEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolveClose) => server.close(resolveClose));
  return `http://127.0.0.1:${port}`;
}

/** The events of the job run `run` (its identity's userName), once there are `count` of them. */
async function eventsOf(collector: CollectorProcess, run: string, count: number): Promise<unknown[]> {
  const path = `/api/v1/events?eventName=RotateKeys&eventSource=nightly-job&username=${run}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const { body } = await getJson<{ events: unknown[] }>(collector.apiUrl, path);
    if (body.events.length >= count) return body.events;
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return (await getJson<{ events: unknown[] }>(collector.apiUrl, path)).body.events;
}

/** crumbtrail's report lines on a job's stderr. */
function reports(job: Job): string[] {
  return job
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('crumbtrail:'));
}

describe('a short-lived job: nothing lost on exit, and never silently', { timeout: TEST_TIMEOUT_MS }, () => {
  let collector: CollectorProcess;
  let dead: string;
  before(async () => {
    collector = await startCollectorProcess();
    dead = await deadEndpoint();
  });
  after(async () => {
    await collector.stop();
  });

  it('exports the calls of a job that just returns (no shutdown call)', async () => {
    const job = runJob({
      JOB_COLLECTOR_URL: collector.otlpUrl,
      JOB_ENDING: 'return',
      JOB_CALLS: '3',
      JOB_RUN: 'returning',
    });
    assert.equal(await exitOf(job.child), 0, job.stderr());
    assert.equal((await eventsOf(collector, 'returning', 3)).length, 3);
    assert.deepEqual(reports(job), [], 'nothing to report when all was sent');
  });

  it('exports them on await trail.shutdown() too', async () => {
    const job = runJob({
      JOB_COLLECTOR_URL: collector.otlpUrl,
      JOB_ENDING: 'shutdown',
      JOB_CALLS: '2',
      JOB_RUN: 'shutting-down',
    });
    assert.equal(await exitOf(job.child), 0, job.stderr());
    assert.match(job.stdout(), /"shutdown":"resolved"/);
    assert.equal((await eventsOf(collector, 'shutting-down', 2)).length, 2);
    assert.deepEqual(reports(job), []);
  });

  it('with the collector down, exits within its bound and reports how many events were not sent and why', async () => {
    const job = runJob({
      JOB_COLLECTOR_URL: dead,
      JOB_ENDING: 'return',
      JOB_CALLS: '2',
      JOB_SHUTDOWN_TIMEOUT_MS: '1500',
    });
    // Bounded: it exits by itself (the test's timeout is the generous limit), with the job's code.
    assert.equal(await exitOf(job.child), 0, job.stderr());
    const [report, ...more] = reports(job);
    assert.deepEqual(more, [], job.stderr());
    assert.match(report ?? '', /^crumbtrail: 2 audit events? (were )?not sent/);
    assert.ok(report!.includes(`${dead}/v1/traces`), report);
    assert.match(report!, /1500 ms/);
  });

  it('with the collector down, await trail.shutdown() resolves within its bound and reports them', async () => {
    const job = runJob({
      JOB_COLLECTOR_URL: dead,
      JOB_ENDING: 'shutdown',
      JOB_CALLS: '1',
      JOB_SHUTDOWN_TIMEOUT_MS: '1500',
    });
    try {
      await job.line(/"shutdown":"resolved"/);
      const [report] = reports(job);
      assert.match(report ?? '', /^crumbtrail: 1 audit event (was )?not sent/, job.stderr());
      assert.ok(report!.includes(`${dead}/v1/traces`), report);
    } finally {
      await stopChild(job.child);
    }
  });

  it('reports the events still queued when the job calls process.exit() at once', async () => {
    const job = runJob({ JOB_COLLECTOR_URL: collector.otlpUrl, JOB_ENDING: 'exit', JOB_CALLS: '2' });
    assert.equal(await exitOf(job.child), 0, job.stderr());
    const [report] = reports(job);
    assert.match(report ?? '', /^crumbtrail: 2 audit events? (were )?not sent/, job.stderr());
    assert.match(report!, /process\.exit\(\)/);
    assert.match(report!, /shutdown\(\)/, 'it says how to avoid it');
  });
});

/*
 * The real collector process (the built bin, as users run it) on 127.0.0.1, serving the audit
 * story (collector/test/support/audit-story.ts): 2026-03-02 08:00–10:30 UTC, John creating Mary,
 * Mallory denied, and a RunInstances insight. It requires an API token, as production should.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const REPO = resolve(__dirname, '../..');
const COLLECTOR_BIN = join(REPO, 'collector/bin/crumbtrail-collector.js');
const STORY_SCRIPT = join(REPO, 'collector/test/support/audit-story.ts');

export const STORY = {
  startMs: Date.parse('2026-03-02T08:00:00.000Z'),
  endMs: Date.parse('2026-03-02T10:30:00.000Z'),
  johnCreatesMaryMs: Date.parse('2026-03-02T09:30:12.000Z'),
  burstStartMs: Date.parse('2026-03-02T10:00:00.000Z'),
  apiToken: 'plugin-tests-token',
};

/** How long stop() waits for the collector to exit on SIGTERM before it SIGKILLs it. */
const STOP_GRACE_MS = 30_000;

/**
 * Collectors not stopped yet, SIGKILLed when this process ends however it ends: a failed `after`,
 * or the test runner's SIGTERM to a file that outran its timeout (a signal skips 'exit' unless
 * someone listens), so none outlives the tests. (collector/test/support/child-processes.ts does
 * the same for the other packages' tests, which this package's TypeScript settings cannot import.)
 */
const running = new Set<ChildProcess>();
let killingOnExit = false;

function killOnExit(child: ChildProcess) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!killingOnExit) {
    killingOnExit = true;
    process.on('exit', () => running.forEach((each) => each.kill('SIGKILL')));
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => process.exit(128 + constants.signals[signal]));
    }
  }
}

export interface StoryCollector {
  apiUrl: string;
  stop(): Promise<void>;
}

export async function startStoryCollector(): Promise<StoryCollector> {
  const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-plugin-'));
  const dbPath = join(directory, 'story.db');
  const written = spawnSync(process.execPath, ['--import', 'tsx', STORY_SCRIPT, dbPath], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  if (written.status !== 0) {
    throw new Error(`writing the audit story failed: ${written.stderr}`);
  }
  const child = spawn(
    process.execPath,
    [
      COLLECTOR_BIN,
      '--db',
      dbPath,
      '--host',
      '127.0.0.1',
      '--otlp-port',
      '0',
      '--api-port',
      '0',
      '--api-token',
      STORY.apiToken,
      // The story's insights are already stored; the engine must not judge 2026-03-02 against "now".
      '--no-insights',
      // The story is dated 2026-03-02: keep it however old it is today.
      '--retention-days',
      '36500',
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }
  );
  killOnExit(child);
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const apiUrl = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start in 20 s: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; api?: string };
      if (entry.msg === 'crumbtrail collector started' && entry.api !== undefined) {
        clearTimeout(timer);
        resolveUrl(entry.api.replace(/\/api\/v1\/events$/, ''));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code}: ${stderr}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    apiUrl,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

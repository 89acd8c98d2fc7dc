/*
 * Runs the real collector (the built bin, as users run it) as a child process on 127.0.0.1 with
 * ephemeral ports and a real SQLite file, and reads its URLs from its start-up log line.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { exitOf, killedOnExit, stopChild } from './child-processes.js';

/** The command users run (the bin shim that loads dist/). */
export const COLLECTOR_BIN = resolve(import.meta.dirname, '../../bin/crumbtrail-collector.js');

export interface CollectorProcess {
  otlpUrl: string;
  apiUrl: string;
  dbPath: string;
  child: ChildProcess;
  /** Lines the collector logged (JSON), for assertions on what it said. */
  logs: string[];
  /** SIGTERM and wait for a clean exit (SIGKILL after 30 s: the code is then null). */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, no chance to flush anything. */
  crash(): Promise<void>;
}

/** Node flags from the bin's `#!/usr/bin/env -S node …` line, so tests run it as users do. */
function shebangNodeFlags(): string[] {
  const firstLine = readFileSync(COLLECTOR_BIN, 'utf8').split('\n', 1)[0] ?? '';
  return /^#!.*\bnode\b(.*)$/.exec(firstLine)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
}

export function temporaryDbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'crumbtrail-test-')), 'events.db');
}

export async function startCollectorProcess(
  options: { dbPath?: string; args?: string[]; env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<CollectorProcess> {
  const dbPath = options.dbPath ?? temporaryDbPath();
  const child = spawn(
    process.execPath,
    [
      ...shebangNodeFlags(),
      ...(options.nodeArgs ?? []),
      COLLECTOR_BIN,
      '--db',
      dbPath,
      '--otlp-port',
      '0',
      '--api-port',
      '0',
      '--host',
      '127.0.0.1',
      ...(options.args ?? []),
    ],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  killedOnExit(child);
  const logs: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = exitOf(child);

  // A collector that never said it started is killed, not left running.
  const urls = await new Promise<{ otlp: string; api: string }>((resolveStart, rejectStart) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      rejectStart(new Error(`collector did not start in 20 s: ${stderr}`));
    }, 20_000);
    lines.on('line', (line) => {
      logs.push(line);
      const entry = JSON.parse(line) as { msg?: string; otlp?: string; api?: string };
      if (entry.msg === 'crumbtrail collector started' && entry.otlp && entry.api) {
        clearTimeout(timer);
        resolveStart({ otlp: entry.otlp, api: entry.api });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rejectStart(new Error(`collector exited with ${code} before starting: ${stderr}`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });

  return {
    otlpUrl: urls.otlp.replace(/\/v1\/traces$/, ''),
    apiUrl: urls.api.replace(/\/api\/v1\/events$/, ''),
    dbPath,
    child,
    logs,
    stop: () => stopChild(child),
    async crash() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** GET a JSON document from the query API; the caller states the shape it expects. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed JSON fetch
export async function getJson<T = unknown>(
  baseUrl: string,
  path: string,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as T };
}

/*
 * The demo services as child processes, one per service, as they would run in production: each
 * started with the same Node flags as the demo (so `--import tsx` carries over), on the port asked
 * for (0: any free one), reporting its port in its start-up line. An IPC channel is opened only so
 * that a service stops itself if the demo dies without stopping it.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ServiceName } from '../directory/account.js';

const SERVICE_FILES: Readonly<Record<ServiceName, string>> = {
  iam: 'iam-service.ts',
  compute: 'compute-service.ts',
  storage: 'storage-service.ts',
};
const START_TIMEOUT_MS = 30_000;
/** A service that has not exported and exited by then is killed. */
const STOP_TIMEOUT_MS = 30_000;

export interface ServiceProcess {
  service: ServiceName;
  port: number;
  url: string;
  /** SIGTERM, and wait for the service to export what it holds and exit. */
  stop(): Promise<number | null>;
}

export interface ServiceProcessSettings {
  port: number;
  host: string;
  otlp: string;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else
      child.once('exit', (code) => {
        resolve(code);
      });
  });
}

export async function startServiceProcess(
  service: ServiceName,
  settings: ServiceProcessSettings,
): Promise<ServiceProcess> {
  const file = new URL(`../services/${SERVICE_FILES[service]}`, import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      file,
      '--port',
      String(settings.port),
      '--host',
      settings.host,
      '--otlp',
      settings.otlp,
    ],
    // A process group of its own: Ctrl-C in a terminal reaches the demo only, which stops the
    // traffic first and the services after, so no call is cut off.
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], detached: true },
  );
  const output = child.stdout;
  if (output === null) throw new Error('spawn gave no stdout pipe');
  const exited = exitOf(child);
  const started = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`the ${service} service did not start in ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    createInterface({ input: output }).once('line', (line) => {
      clearTimeout(timer);
      const entry = JSON.parse(line) as { port?: unknown; url?: unknown };
      if (typeof entry.port === 'number' && typeof entry.url === 'string')
        resolve({ port: entry.port, url: entry.url });
      else reject(new Error(`the ${service} service said: ${line}`));
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the ${service} service exited with ${code} before it started`));
    });
  });
  return {
    service,
    ...started,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

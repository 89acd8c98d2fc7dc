/*
 * A real Prometheus server (Debian's `prometheus`) on 127.0.0.1 for end-to-end tests: it scrapes
 * the given targets every second and evaluates the repository's own rule files every second, so
 * the alert rules users deploy are the ones under test. Only the intervals and the scrape targets
 * differ from provisioning/prometheus/prometheus.yml.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killedOnExit, stopChild } from '../../../collector/test/support/child-processes.js';

export interface PrometheusServer {
  url: string;
  /** The value of an instant query's first sample, or undefined when the result is empty. */
  instantValue(query: string): Promise<number | undefined>;
  /** Alerts with their state (pending, firing), as GET /api/v1/alerts gives them. */
  alerts(): Promise<PrometheusAlert[]>;
  /**
   * Runs a query as Grafana's Prometheus datasource would (an instant query, or a range query over
   * the last `rangeSeconds`), and gives Prometheus' error instead of throwing it.
   */
  query(expr: string, options: { range: boolean; rangeSeconds: number }): Promise<QueryOutcome>;
  stop(): Promise<void>;
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

export interface QueryOutcome {
  /** Prometheus' error message (a parse error names the bad regular expression). */
  error?: string;
  /** The labels of each series (or of the one scalar: none). */
  series: Record<string, string>[];
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

/** Prometheus needs a fixed port: ask the kernel for a free one. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url);
  const answer = (await response.json()) as ApiAnswer<T>;
  if (answer.status !== 'success') throw new Error(`Prometheus: ${answer.error ?? response.statusText}`);
  return answer.data;
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${output()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus was not ready after 20 s: ${output()}`);
}

export async function startPrometheus(options: {
  /** host:port of each /metrics endpoint to scrape. */
  targets: string[];
  ruleFiles: string[];
}): Promise<PrometheusServer> {
  const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: options.ruleFiles,
    scrape_configs: [{ job_name: 'crumbtrail', static_configs: [{ targets: options.targets }] }],
  };
  // JSON is YAML: no YAML writer needed for a generated file.
  writeFileSync(join(directory, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(directory, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(directory, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  killedOnExit(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    async instantValue(query) {
      const data = await api<{ result: { value: [number, string] }[] }>(
        `${url}/api/v1/query?query=${encodeURIComponent(query)}`,
      );
      const first = data.result[0];
      return first === undefined ? undefined : Number(first.value[1]);
    },
    async query(expr, { range, rangeSeconds }) {
      const endSeconds = Math.floor(Date.now() / 1000);
      const parameters = new URLSearchParams({ query: expr });
      if (range) {
        parameters.set('start', String(endSeconds - rangeSeconds));
        parameters.set('end', String(endSeconds));
        parameters.set('step', '15');
      }
      const response = await fetch(`${url}/api/v1/${range ? 'query_range' : 'query'}`, {
        method: 'POST',
        body: parameters,
      });
      const answer = (await response.json()) as ApiAnswer<{ resultType: string; result: unknown }>;
      if (answer.status !== 'success') return { error: answer.error ?? response.statusText, series: [] };
      const { resultType, result } = answer.data;
      if (resultType === 'scalar' || resultType === 'string') return { series: [{}] };
      return { series: (result as { metric: Record<string, string> }[]).map((entry) => entry.metric) };
    },
    async alerts() {
      return (await api<{ alerts: PrometheusAlert[] }>(`${url}/api/v1/alerts`)).alerts;
    },
    async stop() {
      await stopChild(child);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

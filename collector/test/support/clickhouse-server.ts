/*
 * A real ClickHouse server (Debian's clickhouse-server, 18.16 here) started for one test file: its
 * config, data and logs in a temp dir, reserved ports (reserved-ports.ts says why not bind(0)), and the process registered with
 * child-processes.ts so it is SIGKILLed whatever the outcome. stop() ends it politely first.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exitOf, killedOnExit, stopChild } from './child-processes.js';
import { releasePorts, reservePorts } from './reserved-ports.js';

export interface ClickHouseServer {
  url: string;
  httpPort: number;
  tcpPort: number;
  dir: string;
  /** SIGKILL (a crash), then resolves when the process is gone; the data dir stays. */
  kill(): Promise<void>;
  /** Starts the server again on the same ports and data (after kill). */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after a grace period), then removes the temp dir. */
  stop(): Promise<void>;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;

export interface ServerOptions {
  /** Extra XML inside <yandex> (remote_servers, zookeeper, macros…). */
  extraConfig?: string;
  /**
   * Ports chosen by the caller (a cluster's config names them before the servers start), taken
   * from reservePorts; stop() releases them with the server's own.
   */
  httpPort?: number;
  tcpPort?: number;
  interserverPort?: number;
}

function configXml(
  dir: string,
  ports: { http: number; tcp: number; interserver: number },
  identity: string,
  extra: string,
): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <builtin_dictionaries_reload_interval>0</builtin_dictionaries_reload_interval>
  <http_server_default_response>${identity}</http_server_default_response>
  ${extra}
</yandex>
`;
}

function errorLogTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'log', 'error.log'), 'utf8').slice(-2000);
  } catch {
    return '(no error log)';
  }
}

/**
 * Resolves once this server answers on its HTTP port: GET / returns the identity its config was
 * given (http_server_default_response), so another process answering on the port does not count.
 */
async function waitReady(
  url: string,
  identity: string,
  child: ChildProcess,
  dir: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stranger = false;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `clickhouse-server exited (${child.exitCode ?? child.signalCode}): ${errorLogTail(dir)}`,
      );
    }
    try {
      const reply = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
      if ((await reply.text()) === identity) return;
      stranger = true;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  throw new Error(
    stranger
      ? `another process answers on ${url}, and clickhouse-server did not take over within ${timeoutMs} ms`
      : `clickhouse-server did not answer on ${url} within ${timeoutMs} ms`,
  );
}

/** Starts a server in a fresh temp dir and resolves once it answers on its port. */
export async function startClickHouseServer(options: ServerOptions = {}): Promise<ClickHouseServer> {
  const dir = mkdtempSync(join(tmpdir(), 'crumbtrail-clickhouse-'));
  for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub));
  const [http, tcp, interserver] = await reservePorts(3);
  const ports = {
    http: options.httpPort ?? http ?? 0,
    tcp: options.tcpPort ?? tcp ?? 0,
    interserver: options.interserverPort ?? interserver ?? 0,
  };
  const release = (): void => {
    releasePorts([http, tcp, interserver, ...Object.values(ports)].filter((port) => port !== undefined));
  };
  writeFileSync(join(dir, 'users.xml'), USERS_XML);
  const identity = `crumbtrail-test-clickhouse-${randomUUID()}`;
  writeFileSync(join(dir, 'config.xml'), configXml(dir, ports, identity, options.extraConfig ?? ''));
  const url = `http://127.0.0.1:${ports.http}`;
  const launch = async (): Promise<ChildProcess> => {
    const started = killedOnExit(
      spawn('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' }),
    );
    try {
      await waitReady(url, identity, started, dir, 30_000);
    } catch (error) {
      started.kill('SIGKILL');
      await exitOf(started);
      throw error;
    }
    return started;
  };
  let child: ChildProcess;
  try {
    child = await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    release();
    throw error;
  }
  return {
    url,
    httpPort: ports.http,
    tcpPort: ports.tcp,
    dir,
    async kill() {
      child.kill('SIGKILL');
      await exitOf(child);
    },
    async restart() {
      child = await launch();
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        // It died under a test: say why, before its log goes with the temp dir.
        console.error(
          `clickhouse-server on ${url} had exited (${child.exitCode ?? child.signalCode}): ${errorLogTail(dir)}`,
        );
      }
      await stopChild(child, 10_000);
      rmSync(dir, { recursive: true, force: true });
      release();
    },
  };
}

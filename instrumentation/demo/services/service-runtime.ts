/*
 * The process plumbing every demo service shares, so that each service file shows only what is
 * specific to it: command-line options, a start-up line on stdout, and a clean stop that exports
 * every queued audit event before the process exits.
 *
 *   node --import tsx instrumentation/demo/services/iam-service.ts [--port 0] [--host 127.0.0.1] [--otlp URL]
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { AuditTrail } from '@crumbtrail/instrumentation';
import type { ServiceName } from '../directory/account.js';

export interface ServiceProcessOptions {
  port: number;
  host: string;
  /** The collector's OTLP/HTTP base URL; undefined lets startAuditTrail read OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlp: string | undefined;
}

export function serviceProcessOptions(argv: string[] = process.argv.slice(2)): ServiceProcessOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      otlp: { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port: not a port: ${values.port}`);
  return { port, host: values.host, otlp: values.otlp };
}

/** What a service does to start listening (returns the port) and to stop accepting calls. */
export interface ServiceListener {
  listen(port: number, host: string): Promise<number>;
  /** Resolves once the calls in progress are answered. */
  close(): Promise<void>;
}

/**
 * Starts listening, prints `{"msg":"service listening","service","port","url"}` and serves until
 * SIGTERM, SIGINT or (when started by the demo) the parent process going away. Then it stops
 * accepting calls, waits for the ones in progress, and shuts the audit trail down, which exports
 * every audit span still queued: events of answered calls are never lost on a clean stop.
 */
export async function serveUntilStopped(
  service: ServiceName,
  listener: ServiceListener,
  trail: AuditTrail,
  options: ServiceProcessOptions,
): Promise<void> {
  const port = await listener.listen(options.port, options.host);
  const urlHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host;
  console.log(JSON.stringify({ msg: 'service listening', service, port, url: `http://${urlHost}:${port}` }));

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    shutDown(service, listener, trail).then(
      (clean) => process.exit(clean ? 0 : 1),
      (error: unknown) => {
        console.error(`${service}: could not stop cleanly`, error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Started by the demo with an IPC channel: a parent that dies without stopping us closes it.
  if (process.send !== undefined) process.on('disconnect', stop);
}

/** Stops accepting calls, then exports what is queued; false when audit events were lost. */
async function shutDown(
  service: ServiceName,
  listener: ServiceListener,
  trail: AuditTrail,
): Promise<boolean> {
  await listener.close();
  await trail.shutdown();
  const { failed, dropped } = trail.stats();
  if (failed === 0 && dropped === 0) return true;
  console.error(`${service}: ${failed} audit spans failed to export, ${dropped} were dropped`);
  return false;
}

/** A ServiceListener for a node:http server (Express apps and plain handlers). */
export function nodeServerListener(server: Server): ServiceListener {
  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => {
          if (error === undefined) resolve();
          else reject(error);
        });
        // Keep-alive connections with no call in progress would hold close() open for seconds.
        server.closeIdleConnections();
      }),
  };
}

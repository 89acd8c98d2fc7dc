/*
 * The benchmark server as one JavaScript file, so that it runs on plain `node` rather than under
 * `--import tsx`. A tsx process has a second V8 isolate, its module-hooks thread, which sits idle
 * and every few seconds runs a memory-reducing mark-compact (6–16 ms, measured with --trace-gc):
 * that CPU lands in whichever round is being timed, ~3 µs a request in a round of 5,000, and it is
 * nothing an application pays (it runs compiled JavaScript). esbuild bundles the server and
 * crumbtrail's sources as they are; packages stay imports, resolved from the repository's
 * node_modules, so every variant loads the same OpenTelemetry builds as before.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Under node_modules, so the bundle's package imports resolve as the sources' do. */
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/crumbtrail-bench/', import.meta.url));

export interface CompiledServer {
  /** The bundle to fork (server.ts's command line and messages). */
  path: string;
  /** Removes the bundle. */
  remove(): void;
}

/** Bundles server.ts into a folder of its own (two benchmarks may run at once). */
export async function compileServer(): Promise<CompiledServer> {
  mkdirSync(CACHE, { recursive: true });
  const folder = mkdtempSync(join(CACHE, 'server-'));
  const path = join(folder, 'server.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./server.ts', import.meta.url))],
    outfile: path,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: `node${process.versions.node}`,
    logLevel: 'warning',
  });
  return {
    path,
    remove: () => {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

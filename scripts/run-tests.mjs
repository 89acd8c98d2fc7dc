// Runs every *.test.ts under the packages' test folders with node's test runner (Node 20's
// `node --test` does not expand globs itself). Extra arguments are passed on, e.g. a file filter:
//   npm run test:only -- collector/test/e2e
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const roots = ['instrumentation/test', 'collector/test', 'plugin/harness', 'provisioning/test'];
const filters = process.argv.slice(2);
const files = roots
  .filter((root) => existsSync(root))
  .flatMap((root) => readdirSync(root, { recursive: true }).map((file) => join(root, String(file))))
  .filter((file) => file.endsWith('.test.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`no test files found${filters.length > 0 ? ` matching ${filters.join(', ')}` : ''}`);
  process.exit(1);
}

// Nothing may hang forever: node 20 applies --test-timeout to each file as a whole (a file is one
// test of the runner), ending a file that outruns it with SIGTERM; the tests' helpers then kill
// their child processes (collector/test/support/child-processes.ts). Generous, for the slowest file
// (the whole-stack alerting test, ~7 min) on a loaded machine; CRUMBTRAIL_TEST_TIMEOUT_MS overrides.
// --test-force-exit: a file whose tests are done exits even if a hook left a handle open.
const timeoutMs = Number(process.env.CRUMBTRAIL_TEST_TIMEOUT_MS ?? 20 * 60_000);
if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
  console.error(`CRUMBTRAIL_TEST_TIMEOUT_MS must be a positive number of milliseconds`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    // Every verdict of a file reaches the report before --test-force-exit ends it (the file says why).
    '--import',
    fileURLToPath(new URL('./test-child-stdout.mjs', import.meta.url)),
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=2',
    `--test-timeout=${timeoutMs}`,
    '--test-force-exit',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);

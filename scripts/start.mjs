// `npm start`: the collector with a SQLite file in ./data/ (arguments are passed on to it).
// `npm start -- --demo`: the same collector, plus the demo (instrumented services, a backfilled
// history, live traffic) sending to it once it has started. Ctrl-C stops both cleanly.
//
// Builds nothing itself: the npm script runs `npm run build` first.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const COLLECTOR_BIN = fileURLToPath(new URL('../collector/bin/crumbtrail-collector.js', import.meta.url));
const DEMO_ENTRY = fileURLToPath(new URL('../instrumentation/demo/run-demo.ts', import.meta.url));
// The demo is TypeScript, run with tsx as `npm run demo` does.
const TSX = import.meta.resolve('tsx');
// The same young-generation size the collector's bin asks for in its #! line.
const COLLECTOR_NODE_FLAGS = ['--max-semi-space-size=64'];

const args = process.argv.slice(2);
const withDemo = args.includes('--demo');
const collectorArgs = ['--db', './data/crumbtrail.db', ...args.filter((arg) => arg !== '--demo')];

/** The collector's ingest token, if it asks for one: the demo must send it. */
function ingestToken(argv) {
  const index = argv.indexOf('--ingest-token');
  if (index >= 0) return argv[index + 1];
  const inline = argv.find((arg) => arg.startsWith('--ingest-token='));
  return inline === undefined ? process.env.CRUMBTRAIL_INGEST_TOKEN : inline.slice('--ingest-token='.length);
}

/** The demo's environment: its OTLP exporters read the ingest token from OTEL_EXPORTER_OTLP_HEADERS. */
function demoEnvironment() {
  const token = ingestToken(collectorArgs);
  if (token === undefined || token === '') return process.env;
  return {
    ...process.env,
    OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(`Bearer ${token}`)}`,
  };
}

function exited(child) {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

if (!withDemo) {
  // Plain `npm start`: the collector in the foreground, as if run directly. Ctrl-C reaches it from
  // the terminal; a signal sent to this process only is passed on.
  const collector = spawn(process.execPath, [...COLLECTOR_NODE_FLAGS, COLLECTOR_BIN, ...collectorArgs], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => collector.kill(signal));
  process.exitCode = await exited(collector);
} else {
  await runWithDemo();
}

async function runWithDemo() {
  // The collector gets a process group of its own, so that Ctrl-C (sent by the terminal to the
  // whole foreground group) does not stop it before the demo's services have exported their last
  // events: it is stopped here, once the demo has exited.
  const collector = spawn(process.execPath, [...COLLECTOR_NODE_FLAGS, COLLECTOR_BIN, ...collectorArgs], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const collectorExit = exited(collector);
  let demo;
  let stopping = false;

  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    if (demo !== undefined && demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGTERM');
      await exited(demo);
    }
    if (collector.exitCode === null && collector.signalCode === null) collector.kill('SIGTERM');
    process.exitCode = await collectorExit;
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void stopAll());

  const lines = createInterface({ input: collector.stdout });
  lines.on('line', (line) => {
    console.log(line);
    if (demo !== undefined || stopping) return;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    if (entry.msg === 'crumbtrail collector started' && typeof entry.otlp === 'string') {
      demo = spawn(
        process.execPath,
        ['--import', TSX, DEMO_ENTRY, '--otlp', entry.otlp.replace(/\/v1\/traces$/, '')],
        { stdio: 'inherit', env: demoEnvironment() },
      );
      void exited(demo).then((code) => {
        if (!stopping)
          console.error(`demo exited with ${code}; the collector keeps running (Ctrl-C stops it)`);
      });
    }
  });

  const code = await collectorExit;
  if (!stopping) {
    // The collector stopped on its own (a failure to start, a fatal error): nothing to send to.
    stopping = true;
    if (demo !== undefined && demo.exitCode === null) demo.kill('SIGTERM');
    process.exitCode = code;
  }
}

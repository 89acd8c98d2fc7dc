/*
 * Instructions per request, counted by valgrind's callgrind on each benchmark server's main thread:
 * the figure issue 12's CPU targets are judged by on this shared machine, since an instruction
 * count does not depend on what else the machine runs (CPU times do, by tens of per cent).
 *
 * Each variant of server.ts runs under `valgrind --tool=callgrind --instr-atstart=no`; the client
 * (client.ts, not under valgrind) sends the warm-up requests, then callgrind_control switches
 * instrumentation on, the measured requests are sent, the server flushes every span (so the OTLP
 * export is counted), and instrumentation is switched off again and the counts dumped. A variant's
 * figure is the main thread's instruction total over the measured requests, and beside it every
 * thread's (V8's GC helpers and compiler thread work for the main one; run.ts's CPU time counts
 * them too); the servers run compiled, as in run.ts (compiled-server.ts); (a) plain node:http
 * is the baseline, and (c) / (b) and (c) − (f) are issue 12's two targets.
 *
 *   node --import tsx instrumentation/bench/callgrind.ts
 * BENCH_CALLGRIND_VARIANTS (default "plain,http-instrumentation,crumbtrail,sdk-span,sdk-span+attributes"),
 * BENCH_CALLGRIND_WARMUP (default 10,000 requests), BENCH_CALLGRIND_REQUESTS (default 5,000),
 * BENCH_HTTP_CONCURRENCY (default 8) and BENCH_CALLGRIND_OUT (a folder to keep the callgrind files
 * in, default a new temporary one) shape the run; the servers' BENCH_SERVER_EXPORT and
 * BENCH_SERVER_ACTIVATE (server.ts) pass through, to take a variant's cost apart. Look inside a
 * variant with `callgrind_annotate --inclusive=yes <folder>/<variant>.<pid>.1-01` (V8's builtins and
 * Node's C++ are named; JIT-compiled JavaScript is not). BENCH_CALLGRIND_PROFILE=1 names it too:
 * the servers run with --perf-basic-prof (V8 writes where it put each compiled function) and each
 * variant's instructions per request are written by JavaScript source file to
 * <folder>/<variant>.<pid>.by-file.txt (callgrind-profile.ts says how). Its totals came out within
 * 1 k of the plain counts here, but take the counts from a run without it. About 1 minute a variant.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { ClientCommand, ClientMessage, ServerCommand, ServerMessage, Variant } from './protocol.js';
import { VARIANTS } from './protocol.js';
import type { ClientChild } from './run.js';
import { Child, EXPECTED_SCOPE, LABEL, WARM_UP_ROUNDS, load } from './run.js';
import { costBySourceFile } from './callgrind-profile.js';
import { compileServer } from './compiled-server.js';
import { startSink } from './sink.js';

const run = promisify(execFile);
/** With --perf-basic-prof and a by-file breakdown (see the header). */
const PROFILE = process.env.BENCH_CALLGRIND_PROFILE === '1';

const DEFAULT_VARIANTS: Variant[] = [
  'plain',
  'http-instrumentation',
  'crumbtrail',
  'sdk-span',
  'sdk-span+attributes',
];

const log = (message: string): void => {
  process.stderr.write(`[bench:callgrind] ${message}\n`);
};

function variantsOf(names: string | undefined): Variant[] {
  if (names === undefined || names.trim() === '') return DEFAULT_VARIANTS;
  return names.split(',').map((name) => {
    const variant = VARIANTS.find((known) => known === name.trim());
    if (variant === undefined) {
      throw new Error(`BENCH_CALLGRIND_VARIANTS: unknown variant "${name}" (${VARIANTS.join(', ')})`);
    }
    return variant;
  });
}

/** The `totals:` line of a callgrind dump: instructions executed (Ir). (Its `summary:` says 0.) */
function instructionsIn(file: string): number {
  const match = /^totals: (\d+)/m.exec(readFileSync(file, 'utf8'));
  if (match === null) throw new Error(`${file}: no totals line`);
  return Number(match[1]);
}

interface Count {
  variant: Variant;
  /** The main thread's instructions a request. */
  perRequest: number;
  /**
   * Every thread's: with V8's GC helpers (concurrent marking, sweeping, parallel scavenges) and
   * its compiler thread, which process.cpuUsage() in run.ts counts too.
   */
  allThreadsPerRequest: number;
  mainThreadFile: string;
}

async function countVariant(
  serverScript: string,
  variant: Variant,
  sinkUrl: string,
  client: ClientChild,
  folder: string,
  warmup: number,
  requests: number,
  concurrency: number,
): Promise<Count> {
  // --perf-basic-prof also turns on V8's log: kept in the folder, not the working directory.
  const nodeFlags = PROFILE
    ? ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(folder, `${variant}.v8.log`)}`]
    : [];
  const server = Child.start<ServerCommand, ServerMessage>(serverScript, [variant, sinkUrl, '0'], nodeFlags, {
    command: 'valgrind',
    args: [
      '--tool=callgrind',
      '--instr-atstart=no',
      // One file per thread: the main thread's figure, and every thread's summed (V8's GC helpers
      // and compiler thread differ between variants too).
      '--separate-threads=yes',
      `--callgrind-out-file=${join(folder, `${variant}.%p`)}`,
    ],
  });
  const pid = server.process.pid;
  if (pid === undefined) throw new Error(`${variant}: valgrind did not start`);
  const control = (...args: string[]): Promise<unknown> => run('callgrind_control', [...args, String(pid)]);
  try {
    const { port } = await server.next('ready');
    const probe = await load(client, port, '/probe', 1, 1);
    const inactive = process.env.BENCH_SERVER_ACTIVATE === 'no' && variant.startsWith('sdk-span');
    const expected = inactive ? 'none' : EXPECTED_SCOPE[variant];
    if (probe.probe !== expected) {
      throw new Error(
        `${variant}: the handler ran under span scope "${probe.probe}", expected "${expected}"`,
      );
    }
    log(`${variant} (pid ${pid}): warming up with ${warmup} requests…`);
    // As run.ts warms up: in rounds that end with a flush, so the short batch it sends is compiled
    // for too, before counting starts.
    for (let round = 0; round < WARM_UP_ROUNDS; round++) {
      await server.ask({ type: 'begin' }, 'begun');
      await load(client, port, '/trivial', Math.ceil(warmup / WARM_UP_ROUNDS), concurrency);
      await server.ask({ type: 'end' }, 'ended');
    }
    await server.ask({ type: 'begin' }, 'begun');
    await control('--instr=on');
    log(`${variant}: counting ${requests} requests…`);
    const done = await load(client, port, '/trivial', requests, concurrency);
    const ended = await server.ask({ type: 'end' }, 'ended');
    await control('--instr=off');
    await control(`--dump=${variant}`);
    if (done.failures > 0) throw new Error(`${variant}: ${done.failures} requests failed`);
    if (variant !== 'plain' && ended.exportedSpans !== requests) {
      throw new Error(`${variant}: exported ${ended.exportedSpans} spans for ${requests} requests`);
    }
  } finally {
    await server.stop();
  }
  // The explicit dump is <variant>.<pid>.1, with -01 for the main thread.
  const mainThreadFile = join(folder, `${variant}.${pid}.1-01`);
  const files = readdirSync(folder).filter((name) => name.startsWith(`${variant}.${pid}.1-`));
  if (!files.includes(`${variant}.${pid}.1-01`)) {
    throw new Error(`${variant}: no main-thread dump in ${folder} (${files.join(', ')})`);
  }
  if (PROFILE) {
    const breakdown = join(folder, `${variant}.${pid}.by-file.txt`);
    writeFileSync(breakdown, `${costBySourceFile(mainThreadFile, `/tmp/perf-${pid}.map`, requests)}\n`);
    log(`${variant}: instructions per request by source file in ${breakdown}`);
  }
  const allThreads = files.reduce((sum, name) => sum + instructionsIn(join(folder, name)), 0);
  return {
    variant,
    perRequest: instructionsIn(mainThreadFile) / requests,
    allThreadsPerRequest: allThreads / requests,
    mainThreadFile,
  };
}

const thousands = (instructions: number): string => `${(instructions / 1000).toFixed(1)} k`;

export async function main(): Promise<Count[]> {
  const variants = variantsOf(process.env.BENCH_CALLGRIND_VARIANTS);
  const warmup = Number(process.env.BENCH_CALLGRIND_WARMUP ?? 10_000);
  const requests = Number(process.env.BENCH_CALLGRIND_REQUESTS ?? 5_000);
  const concurrency = Number(process.env.BENCH_HTTP_CONCURRENCY ?? 8);
  const folder = process.env.BENCH_CALLGRIND_OUT ?? mkdtempSync(join(tmpdir(), 'crumbtrail-callgrind-'));
  mkdirSync(folder, { recursive: true });
  log(
    `export ${process.env.BENCH_SERVER_EXPORT ?? 'otlp'}, sdk-span active ${process.env.BENCH_SERVER_ACTIVATE ?? 'yes'}; files in ${folder}`,
  );

  // Compiled, as run.ts runs them; but the by-file profile needs each source file's own name, which
  // a bundle loses, so it runs the TypeScript under tsx (its hooks thread is not the main thread).
  // Before the sink: a bundle that fails leaves nothing listening.
  const compiled = PROFILE ? undefined : await compileServer();
  const sink = await startSink();
  const client = Child.start<ClientCommand, ClientMessage>('./client.ts', []);
  const counts: Count[] = [];
  try {
    await client.next('ready');
    // One at a time: valgrind runs a process's threads on one core, and the machine has two.
    for (const variant of variants) {
      counts.push(
        await countVariant(
          compiled?.path ?? './server.ts',
          variant,
          sink.url,
          client,
          folder,
          warmup,
          requests,
          concurrency,
        ),
      );
    }
  } finally {
    await client.stop();
    await sink.close();
    compiled?.remove();
  }

  /** A variant's count a request, of the main thread or of every thread. */
  const of = (variant: Variant, threads: 'main' | 'all' = 'main'): number | undefined => {
    const count = counts.find((candidate) => candidate.variant === variant);
    return threads === 'main' ? count?.perRequest : count?.allThreadsPerRequest;
  };
  const plain = of('plain');
  const plainAll = of('plain', 'all');
  const lines = counts.map((count) => {
    const added =
      plain === undefined || count.variant === 'plain' ? '' : `+${thousands(count.perRequest - plain)}`;
    const addedAll =
      plainAll === undefined || count.variant === 'plain'
        ? ''
        : `+${thousands(count.allThreadsPerRequest - plainAll)}`;
    return (
      `| ${LABEL[count.variant].padEnd(46)} | ${thousands(count.perRequest).padStart(10)} | ${added.padStart(9)} ` +
      `| ${thousands(count.allThreadsPerRequest).padStart(10)} | ${addedAll.padStart(9)} | ${count.mainThreadFile}`
    );
  });
  process.stdout.write(
    `| variant (${requests} requests) | main thread: instructions/request | added to (a) | all threads | added to (a) | file\n`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  const http = of('http-instrumentation');
  const crumbtrail = of('crumbtrail');
  const floor = of('sdk-span+attributes');
  if (plain !== undefined && http !== undefined && crumbtrail !== undefined) {
    const ratio = (crumbtrail - plain) / (http - plain);
    process.stdout.write(`(c) / (b), added instructions: ${ratio.toFixed(2)}× (target ≤ 0.5×)\n`);
  }
  const httpAll = of('http-instrumentation', 'all');
  const crumbtrailAll = of('crumbtrail', 'all');
  if (plainAll !== undefined && httpAll !== undefined && crumbtrailAll !== undefined) {
    const ratio = (crumbtrailAll - plainAll) / (httpAll - plainAll);
    process.stdout.write(`(c) / (b), all threads: ${ratio.toFixed(2)}×\n`);
  }
  if (plain !== undefined && http !== undefined && floor !== undefined) {
    process.stdout.write(`(f) / (b), the floor alone: ${((floor - plain) / (http - plain)).toFixed(2)}×\n`);
  }
  if (crumbtrail !== undefined && floor !== undefined) {
    process.stdout.write(`(c) − (f), crumbtrail's own code: ${thousands(crumbtrail - floor)} instructions\n`);
  }
  return counts;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}

/*
 * Instructions per request, counted by valgrind's callgrind on each benchmark server's main thread:
 * the figure issue 12's CPU targets are judged by on this shared machine, since an instruction
 * count does not depend on what else the machine runs (CPU times do, by tens of per cent).
 *
 * Each variant of server.ts runs under `valgrind --tool=callgrind --instr-atstart=no`; the client
 * (client.ts, not under valgrind) sends the warm-up requests, then callgrind_control switches
 * instrumentation on, the measured requests are sent, the server flushes every span (so the OTLP
 * export is counted), and instrumentation is switched off again and the counts dumped. A variant's
 * figure is the main thread's instruction total over the measured requests; (a) plain node:http
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
 * the servers run with --perf-basic-prof (a few per cent more instructions, so not for the counts)
 * and each variant's instructions per request are written by source file to
 * <folder>/<variant>.<pid>.by-file.txt, JavaScript functions with what their code executed itself,
 * V8's builtins and runtime, GC and Node's C++ in groups of their own. About 1 minute a variant.
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
import { Child, EXPECTED_SCOPE, LABEL, load } from './run.js';
import { startSink } from './sink.js';

const run = promisify(execFile);

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

/** Code ranges of JIT-compiled functions, from V8's --perf-basic-prof map ("addr size name"). */
function perfMap(pid: number): { start: number; end: number; name: string }[] {
  const ranges = readFileSync(`/tmp/perf-${pid}.map`, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [start = '0', size = '0', ...name] = line.split(' ');
      return {
        start: parseInt(start, 16),
        end: parseInt(start, 16) + parseInt(size, 16),
        name: name.join(' '),
      };
    });
  return ranges.sort((a, b) => a.start - b.start);
}

function nameAt(ranges: ReturnType<typeof perfMap>, address: number): string | undefined {
  let low = 0;
  let high = ranges.length - 1;
  let found: string | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle]!;
    if (range.start <= address) {
      if (address < range.end) found = range.name; // later entries (recompiled code) win
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** Which part of the stack a function belongs to, for the by-file breakdown. */
function groupOf(name: string): string {
  const js = /^JS:[*~^]?\S*\s+(.+?)(?::\d+:\d+)?$/.exec(name);
  if (js !== null) {
    const file = js[1]!;
    const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:build\/(?:src|esm|esnext)\/)?(.*)$/.exec(file);
    if (inPackage !== null) return `${inPackage[1]} ${inPackage[2]}`;
    const own = /instrumentation\/(src|bench)\/(.*)$/.exec(file);
    if (own !== null) return `crumbtrail ${own[1]}/${own[2]}`;
    return file.startsWith('node:') ? file : `js ${file}`;
  }
  if (/Scaveng|Heap::|MarkCompact|Sweeper|Evacuat|GCTracer|MemoryAllocator/.test(name)) return 'V8 GC';
  if (name.startsWith('Builtins_') || name.startsWith('v8::') || name.startsWith('Runtime_')) {
    return 'V8 builtins and runtime';
  }
  if (name.startsWith('node::') || name.includes('uv_') || name.includes('llhttp'))
    return 'Node C++ / libuv / llhttp';
  return 'other native (libc, …)';
}

/** Self instructions per request by source file (JIT code named from the perf map). */
async function byFile(file: string, pid: number, requests: number): Promise<string> {
  const { stdout } = await run('callgrind_annotate', ['--threshold=100', file], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const ranges = perfMap(pid);
  const groups = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const match = /^\s*([\d,]+)\s+\([^)]*\)\s+(\S+?):(.*?)(?:\s+\[[^\]]*\])?$/.exec(line);
    if (match === null || line.includes('PROGRAM TOTALS')) continue;
    const cost = Number(match[1]!.replace(/,/g, ''));
    const fn = match[3]!.replace(/'\d+$/, '');
    const address = /^0x([0-9a-f]+)$/.exec(fn);
    const name = address === null ? fn : (nameAt(ranges, parseInt(address[1]!, 16)) ?? 'unnamed JIT code');
    const group = groupOf(name);
    groups.set(group, (groups.get(group) ?? 0) + cost);
  }
  return [...groups]
    .sort((a, b) => b[1] - a[1])
    .map(([group, cost]) => `${(cost / requests).toFixed(0).padStart(8)}  ${group}`)
    .join('\n');
}

interface Count {
  variant: Variant;
  perRequest: number;
  mainThreadFile: string;
}

async function countVariant(
  variant: Variant,
  sinkUrl: string,
  client: ClientChild,
  folder: string,
  warmup: number,
  requests: number,
  concurrency: number,
): Promise<Count> {
  const profile = process.env.BENCH_CALLGRIND_PROFILE === '1';
  const nodeFlags = profile ? ['--perf-basic-prof'] : [];
  const server = Child.start<ServerCommand, ServerMessage>(
    './server.ts',
    [variant, sinkUrl, '0'],
    nodeFlags,
    {
      command: 'valgrind',
      args: [
        '--tool=callgrind',
        '--instr-atstart=no',
        // One file per thread: the figure is the main thread's (the libuv and V8 platform threads
        // do the GC's and the file system's work, which no variant here should differ in much).
        '--separate-threads=yes',
        `--callgrind-out-file=${join(folder, `${variant}.%p`)}`,
      ],
    },
  );
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
    await load(client, port, '/trivial', warmup, concurrency);
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
  if (profile) {
    const breakdown = join(folder, `${variant}.${pid}.by-file.txt`);
    writeFileSync(breakdown, `${await byFile(mainThreadFile, pid, requests)}\n`);
    log(`${variant}: instructions per request by source file in ${breakdown}`);
  }
  return { variant, perRequest: instructionsIn(mainThreadFile) / requests, mainThreadFile };
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

  const sink = await startSink();
  const client = Child.start<ClientCommand, ClientMessage>('./client.ts', []);
  const counts: Count[] = [];
  try {
    await client.next('ready');
    // One at a time: valgrind runs a process's threads on one core, and the machine has two.
    for (const variant of variants) {
      counts.push(await countVariant(variant, sink.url, client, folder, warmup, requests, concurrency));
    }
  } finally {
    await client.stop();
    await sink.close();
  }

  const of = (variant: Variant): number | undefined =>
    counts.find((count) => count.variant === variant)?.perRequest;
  const plain = of('plain');
  const lines = counts.map((count) => {
    const added =
      plain === undefined || count.variant === 'plain' ? '' : `+${thousands(count.perRequest - plain)}`;
    return `| ${LABEL[count.variant].padEnd(46)} | ${thousands(count.perRequest).padStart(10)} | ${added.padStart(9)} | ${count.mainThreadFile}`;
  });
  process.stdout.write(
    `| variant (main thread, ${requests} requests) | instructions/request | added to (a) | file\n`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  const http = of('http-instrumentation');
  const crumbtrail = of('crumbtrail');
  const floor = of('sdk-span+attributes');
  if (plain !== undefined && http !== undefined && crumbtrail !== undefined) {
    const ratio = (crumbtrail - plain) / (http - plain);
    process.stdout.write(`(c) / (b), added instructions: ${ratio.toFixed(2)}× (target ≤ 0.5×)\n`);
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

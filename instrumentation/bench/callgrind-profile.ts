/*
 * Names the instructions of a callgrind dump of a Node process by JavaScript source file.
 *
 * callgrind sees V8's JIT-compiled code as bare addresses; V8's --perf-basic-prof map
 * (/tmp/perf-<pid>.map: "start size name" per compiled function) names them. Each JavaScript
 * function is charged what its own code executed plus the native code it called (V8's builtins
 * and runtime, Node's C++, GC started from an allocation), but not other JavaScript functions
 * that code called: those are charged to their own file. callgrind keeps one inclusive cost per
 * caller → callee pair, not per path, so a native function's share that is native work (not
 * JavaScript it called back) is estimated from its totals, the same for every caller. Functions
 * TurboFan inlined count as their caller's, so a few k instructions may move between files from
 * one run to the next; what is left is native work no JavaScript started (libuv's loop, llhttp).
 */
import { readFileSync } from 'node:fs';

interface CodeRange {
  start: number;
  end: number;
  name: string;
}

function perfMap(file: string): CodeRange[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [start = '0', size = '0', ...name] = line.split(' ');
      return {
        start: parseInt(start, 16),
        end: parseInt(start, 16) + parseInt(size, 16),
        name: name.join(' '),
      };
    })
    .sort((a, b) => a.start - b.start);
}

/** The compiled function at an address (the latest one there, code space being reused). */
function functionAt(ranges: readonly CodeRange[], address: number): string | undefined {
  let low = 0;
  let high = ranges.length - 1;
  let found: string | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const range = ranges[middle]!;
    if (range.start <= address) {
      if (address < range.end) found = range.name;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** "JS:*writeString /…/node_modules/@opentelemetry/otlp-transformer/build/src/x.js:251:16" → package + file. */
function sourceFileOf(jsName: string): string {
  const match = /^\S+\s+(.+?)(?::\d+:\d+)?$/.exec(jsName);
  const file = match?.[1] ?? jsName;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?:build\/(?:src|esm|esnext)\/)?(.*)$/.exec(file);
  if (inPackage !== null) return `${inPackage[1]} ${inPackage[2]}`;
  const own = /instrumentation\/(src|bench)\/(.*)$/.exec(file);
  if (own !== null) return `crumbtrail ${own[1]}/${own[2]}`;
  return file;
}

interface Graph {
  names: Map<string, string>;
  self: Map<string, number>;
  calls: Map<string, Map<string, number>>;
}

/** The functions, self costs and caller → callee inclusive costs of a callgrind file (Ir only). */
function readGraph(file: string): Graph {
  const graph: Graph = { names: new Map(), self: new Map(), calls: new Map() };
  const idOf = (text: string): string => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(text.trim());
    if (match === null) return text.trim();
    if (match[2] !== undefined) graph.names.set(match[1]!, match[2].replace(/'\d+$/, ''));
    return match[1]!;
  };
  let current = '';
  let callee = '';
  let callPending = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('fn=')) current = idOf(line.slice(3));
    else if (line.startsWith('cfn=')) callee = idOf(line.slice(4));
    else if (line.startsWith('calls=')) callPending = true;
    else if (/^[\d+\-*]/.test(line)) {
      const cost = Number(line.split(/\s+/)[1] ?? 0);
      if (callPending) {
        const out = graph.calls.get(current) ?? new Map<string, number>();
        out.set(callee, (out.get(callee) ?? 0) + cost);
        graph.calls.set(current, out);
        callPending = false;
      } else graph.self.set(current, (graph.self.get(current) ?? 0) + cost);
    }
  }
  return graph;
}

/** Instructions per request by source file, most first, as text lines. */
export function costBySourceFile(callgrindFile: string, perfMapFile: string, requests: number): string {
  const graph = readGraph(callgrindFile);
  const ranges = perfMap(perfMapFile);
  const jsFile = new Map<string, string>();
  for (const [id, name] of graph.names) {
    const address = /^0x([0-9a-f]+)$/.exec(name);
    if (address !== null)
      jsFile.set(id, sourceFileOf(functionAt(ranges, parseInt(address[1]!, 16)) ?? 'unnamed JIT code'));
  }
  const self = (id: string): number => graph.self.get(id) ?? 0;
  const outgoing = (id: string): [string, number][] => [
    ...(graph.calls.get(id) ?? new Map<string, number>()),
  ];
  // Share of each native function's inclusive cost that is native work, to a fixed point.
  const nativeShare = new Map<string, number>();
  for (let round = 0; round < 30; round++) {
    for (const id of graph.names.keys()) {
      if (jsFile.has(id)) continue;
      const calls = outgoing(id).filter(([target]) => target !== id);
      const inclusive = self(id) + calls.reduce((sum, [, cost]) => sum + cost, 0);
      const native =
        self(id) +
        calls.reduce(
          (sum, [target, cost]) => sum + (jsFile.has(target) ? 0 : cost * (nativeShare.get(target) ?? 1)),
          0,
        );
      nativeShare.set(id, inclusive === 0 ? 1 : Math.min(1, native / inclusive));
    }
  }
  const byFile = new Map<string, number>();
  let charged = 0;
  for (const [id, file] of jsFile) {
    let cost = self(id);
    for (const [target, inclusive] of outgoing(id)) {
      if (target !== id && !jsFile.has(target)) cost += inclusive * (nativeShare.get(target) ?? 1);
    }
    byFile.set(file, (byFile.get(file) ?? 0) + cost);
    charged += cost;
  }
  const total = [...graph.self.values()].reduce((sum, cost) => sum + cost, 0);
  byFile.set('native work no JavaScript started (libuv, llhttp, …)', total - charged);
  return [...byFile]
    .sort((a, b) => b[1] - a[1])
    .map(([file, cost]) => `${(cost / requests).toFixed(0).padStart(8)}  ${file}`)
    .join('\n');
}

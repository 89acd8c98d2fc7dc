/*
 * The demo as users run it (`node --import tsx instrumentation/demo/run-demo.ts …`), as a child
 * process whose JSON milestone lines the tests wait for.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { exitOf, killedOnExit, stopChild } from '../../../../collector/test/support/child-processes.js';

const RUN_DEMO = resolve(import.meta.dirname, '../../../demo/run-demo.ts');
const MILESTONE_TIMEOUT_MS = 45_000;
/** The demo stops its traffic, then its services (each flushing its spans): then it is killed. */
const STOP_GRACE_MS = 90_000;

export interface Milestone {
  msg: string;
  time: string;
  [field: string]: unknown;
}

export interface DemoProcess {
  milestones: Milestone[];
  /** The first milestone with this msg, waiting for it if need be (45 s unless told). */
  milestone(msg: string, timeoutMs?: number): Promise<Milestone>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM, and the exit code (SIGKILL after 90 s: the code is then null). */
  stop(): Promise<number | null>;
  stderr(): string;
}

export function startDemo(args: readonly string[]): DemoProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN_DEMO, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killedOnExit(child);
  const milestones: Milestone[] = [];
  const waiting: { msg: string; resolve: (line: Milestone) => void }[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const entry = JSON.parse(line) as Milestone;
    milestones.push(entry);
    for (const waiter of waiting.filter((w) => w.msg === entry.msg)) waiter.resolve(entry);
  });
  const exited = exitOf(child);
  return {
    milestones,
    milestone(msg, timeoutMs = MILESTONE_TIMEOUT_MS) {
      const seen = milestones.find((entry) => entry.msg === msg);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolveLine, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no "${msg}" from the demo in ${timeoutMs} ms; stderr: ${stderr}`));
        }, timeoutMs);
        waiting.push({
          msg,
          resolve: (line) => {
            clearTimeout(timer);
            resolveLine(line);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`the demo exited with ${code} before "${msg}"; stderr: ${stderr}`));
        });
      });
    },
    exited,
    stop: () => stopChild(child, STOP_GRACE_MS),
    stderr: () => stderr,
  };
}

/** Runs the demo to its end; fails unless it exits 0. */
export async function runDemoToEnd(args: readonly string[]): Promise<Milestone[]> {
  const demo = startDemo(args);
  const code = await demo.exited;
  if (code !== 0) throw new Error(`the demo exited with ${code}; stderr: ${demo.stderr()}`);
  return demo.milestones;
}

export function field<T>(line: Milestone, name: string, check: (value: unknown) => value is T): T {
  const value = line[name];
  if (!check(value)) throw new Error(`"${line.msg}" has no valid ${name}: ${JSON.stringify(line)}`);
  return value;
}

export const isString = (value: unknown): value is string => typeof value === 'string';
export const isNumber = (value: unknown): value is number => typeof value === 'number';

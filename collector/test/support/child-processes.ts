/*
 * Every child process the tests start (collectors, the CLI, the demo, Prometheus, screenshots) is
 * registered here and killed with SIGKILL when the test process ends, however it ends: tests done,
 * an `after` hook that threw, or the runner ending a timed-out file with SIGTERM. No child outlives
 * the test file that started it. stopChild() stops one politely, with SIGKILL as the fallback.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/** How long stop() waits for a child to exit on SIGTERM before it SIGKILLs it. */
export const STOP_GRACE_MS = 30_000;

const running = new Set<ChildProcess>();
let killingOnExit = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Registers `child` to be SIGKILLed if this process exits first; returns it. */
export function killedOnExit<T extends ChildProcess>(child: T): T {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!killingOnExit) {
    killingOnExit = true;
    process.on('exit', killAll);
    // A signal ends Node without 'exit' unless someone listens: kill the children, then exit as
    // the signal would have (the test runner sends SIGTERM to a file that outran --test-timeout).
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAll();
        process.exit(128 + constants.signals[signal]);
      });
    }
  }
  return child;
}

/** Resolves with the exit code (null if a signal ended it), now if it has already exited. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolveExit) => {
    child.once('exit', (code) => {
      resolveExit(code);
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves with the exit code. */
export async function stopChild(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<number | null> {
  const exited = exitOf(child);
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

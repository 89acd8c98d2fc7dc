/*
 * What the benchmark's processes say to each other over their IPC channels, and the CPU work of
 * the "1 ms" handler (shared so the orchestrator can calibrate it for the servers).
 */

/**
 * The set-ups compared, each in its own server process. The last two are no product: they give the
 * floor under crumbtrail, what the OpenTelemetry SDK costs for one exported server span, bare and
 * with the attributes crumbtrail records on this request.
 */
export type Variant =
  | 'plain'
  | 'http-instrumentation'
  | 'crumbtrail'
  | 'crumbtrail+http-instrumentation'
  | 'sdk-span'
  | 'sdk-span+attributes';

export const VARIANTS: readonly Variant[] = [
  'plain',
  'http-instrumentation',
  'crumbtrail',
  'crumbtrail+http-instrumentation',
  'sdk-span',
  'sdk-span+attributes',
];

/** The handlers every server serves: a trivial answer, or ~1 ms of synchronous CPU work first. */
export type Handler = 'trivial' | 'work';

/** Orchestrator → server. */
export type ServerCommand = { type: 'begin' } | { type: 'end' };

/** Server → orchestrator. */
export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'begun' }
  | {
      type: 'ended';
      /** process.cpuUsage() user + system between begin and end (after flushing every span), µs. */
      cpuMicros: number;
      /** Of which in the kernel (process.cpuUsage().system): sockets, timers, random bytes. */
      systemMicros: number;
      /** Spans handed to the exporter between begin and end. */
      exportedSpans: number;
    };

/** Orchestrator → client. */
export interface ClientCommand {
  type: 'run';
  port: number;
  path: string;
  requests: number;
  concurrency: number;
}

/** Client → orchestrator. */
export type ClientMessage =
  { type: 'ready' } | { type: 'done'; requests: number; failures: number; elapsedMs: number; probe?: string };

/** Deterministic integer work, linear in `iterations`; the result is used so it is not optimised away. */
export function spin(iterations: number): number {
  let x = 0x2545f491;
  for (let i = 0; i < iterations; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    x ^= x >>> 13;
  }
  return x;
}

/** Iterations of spin() taking `targetMicros` of CPU on this machine (median of a few trials). */
export function calibrateSpin(targetMicros: number): number {
  spin(5_000_000); // optimise spin() first
  const trials: number[] = [];
  for (let trial = 0; trial < 5; trial++) {
    const iterations = 20_000_000;
    const before = process.cpuUsage();
    spin(iterations);
    const used = process.cpuUsage(before);
    trials.push(iterations / (used.user + used.system));
  }
  trials.sort((a, b) => a - b);
  return Math.round(trials[2]! * targetMicros);
}

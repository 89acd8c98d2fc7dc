/*
 * The demo's progress, one JSON line per milestone on stdout, so that people and tests can follow
 * it: {"msg":"backfill done","time":"…","events":…}. Diagnostics go to stderr.
 */

export function milestone(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ msg, time: new Date().toISOString(), ...fields })}\n`);
}

export function isoTime(timeMs: number): string {
  return new Date(timeMs).toISOString();
}

/*
 * Audit events of a process that ends by itself are exported before it goes: a short-lived job
 * (a CLI, a cron task, a queue worker that drains and returns) used to exit with its events still
 * queued, since the batch processor's timer does not keep a process alive. One pair of process
 * listeners serves every span processor that asks for it:
 *
 * - 'beforeExit' (the event loop is empty: a normal end) flushes them, bounded by each one's
 *   timeout, then reports what could not be sent. If the collector did not answer in time, the
 *   exporter's pending request would keep the process alive until its own timeout and retries
 *   give up (~10 s), so the process is ended then with the exit code it was ending with anyway.
 * - 'exit' (process.exit(), or the end after the above) cannot wait for anything: it reports what
 *   is still queued, and how to avoid losing it.
 *
 * Signals are not handled: a SIGTERM ends Node at once unless the application listens for it, and
 * listening would change how the application ends. The README says to call shutdown() there.
 */

/** What exit-flush.ts needs of a span processor. */
export interface ExitFlushTarget {
  /** Audit spans queued or being exported. */
  pendingCount(): number;
  /** Exports what is pending within the processor's bound; true if it finished in time. */
  flushForExit(): Promise<boolean>;
  /** Reports what was not delivered and not reported yet; `exiting` says the process is going now. */
  reportUndelivered(exiting: boolean): void;
}

const targets = new Set<ExitFlushTarget>();
let listening = false;
let flushing = false;

function onBeforeExit(): void {
  if (flushing) return;
  const pending = [...targets].filter((target) => target.pendingCount() > 0);
  if (pending.length === 0) {
    for (const target of targets) target.reportUndelivered(false);
    return;
  }
  flushing = true;
  // Keeps the event loop busy, so the process waits for the flush; 'beforeExit' comes again after.
  void Promise.all(pending.map((target) => target.flushForExit())).then((finished) => {
    flushing = false;
    for (const target of targets) target.reportUndelivered(false);
    if (finished.includes(false)) process.exit();
  });
}

function onExit(): void {
  for (const target of targets) target.reportUndelivered(true);
}

/** Flushes `target` when the process ends by itself, and reports at exit; returns the unregistration. */
export function flushOnExit(target: ExitFlushTarget): () => void {
  targets.add(target);
  if (!listening) {
    listening = true;
    process.on('beforeExit', onBeforeExit);
    process.on('exit', onExit);
  }
  return () => {
    targets.delete(target);
  };
}

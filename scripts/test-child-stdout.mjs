// Preloaded into every test file's process (run-tests.mjs). A file's process streams its verdicts
// to the runner over a pipe, which is non-blocking on Linux; with --test-force-exit the process
// can exit with verdicts still buffered, and the runner then reports fewer tests than ran, exit 0
// (nodejs/node#64833; seen in CI here: a file's last 9 verdicts missing). A blocking pipe is
// drained by every write, as Node itself does for stdout before exiting elsewhere. `_handle` is
// internal, so this is skipped where it is missing.
if (process.env.NODE_TEST_CONTEXT?.startsWith('child')) {
  const handle = /** @type {{ setBlocking?: (blocking: boolean) => void } | undefined} */ (
    /** @type {{ _handle?: unknown }} */ (process.stdout)._handle
  );
  handle?.setBlocking?.(true);
}

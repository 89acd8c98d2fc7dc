/*
 * A short-lived process instrumented as the README says, run as a child by exit-flush.test.ts:
 * it records API calls with recordApiCall and then ends as jobs do. How it ends comes from
 * JOB_ENDING: "return" (the event loop empties: a normal exit), "exit" (process.exit() at once)
 * or "shutdown" (await trail.shutdown(), then return). It prints one JSON line when its work is
 * done, and another once shutdown() resolved.
 */
import { recordApiCall } from '../../src/index.js';
import { startAuditTrail } from '../../src/sdk.js';

const endpoint = process.env.JOB_COLLECTOR_URL ?? '';
const ending = process.env.JOB_ENDING ?? 'return';
const calls = Number(process.env.JOB_CALLS ?? '1');
const shutdownTimeoutMillis =
  process.env.JOB_SHUTDOWN_TIMEOUT_MS === undefined ? undefined : Number(process.env.JOB_SHUTDOWN_TIMEOUT_MS);

const trail = startAuditTrail({
  serviceName: 'nightly-job',
  endpoint,
  protocol: 'http/json',
  ...(shutdownTimeoutMillis === undefined ? {} : { shutdownTimeoutMillis }),
});

for (let i = 0; i < calls; i++) {
  recordApiCall(
    {
      eventName: 'RotateKeys',
      identity: { type: 'AWSService', invokedBy: 'cron', userName: process.env.JOB_RUN ?? 'job' },
      readOnly: false,
    },
    () => i,
  );
}
process.stdout.write(`${JSON.stringify({ done: calls })}\n`);

if (ending === 'exit') process.exit(0);
if (ending === 'shutdown') {
  await trail.shutdown();
  process.stdout.write(`${JSON.stringify({ shutdown: 'resolved', stats: trail.stats() })}\n`);
}

/*
 * `npm run demo`: the crumbtrail demo. Starts three instrumented services (real processes), writes
 * days of their audit history into a collector in seconds (so Insights has a baseline at once),
 * then sends them live traffic from a handful of users, with two stories: John creates Mary
 * through the console, and a burst of RunInstances that raises an Insight.
 *
 *   node --import tsx instrumentation/demo/run-demo.ts --help
 *
 * SIGINT/SIGTERM stop the traffic, let the services export every event they hold, and exit 0.
 */
import type { ServiceName } from './directory/account.js';
import { SERVICE_NAMES } from './directory/account.js';
import { writeHistory } from './backfill/write-history.js';
import type { DemoOptions } from './runner/demo-options.js';
import { DEMO_USAGE, DemoUsageError, parseDemoOptions } from './runner/demo-options.js';
import { isoTime, milestone } from './runner/milestones.js';
import type { ServiceProcess } from './runner/service-processes.js';
import { startServiceProcess } from './runner/service-processes.js';
import { runLiveTraffic } from './traffic/live-traffic.js';

function optionsOrExit(): DemoOptions {
  try {
    const options = parseDemoOptions(process.argv.slice(2));
    if (options !== undefined) return options;
    console.log(DEMO_USAGE);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    console.error(`demo: ${error.message}\n\n${DEMO_USAGE}`);
    process.exit(2);
  }
}

async function startServices(options: DemoOptions): Promise<ServiceProcess[]> {
  const started = await Promise.allSettled(
    SERVICE_NAMES.map((service) =>
      startServiceProcess(service, { port: options.ports[service], host: options.host, otlp: options.otlp }),
    ),
  );
  const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(running.map((service) => service.stop()));
    throw failure.reason;
  }
  const ports = Object.fromEntries(running.map((service) => [service.service, service.port]));
  milestone('demo services started', ports);
  return running;
}

/** Stops the services; false when one of them did not exit cleanly (it could not export everything). */
async function stopServices(services: readonly ServiceProcess[]): Promise<boolean> {
  const codes = await Promise.all(services.map((service) => service.stop()));
  return codes.every((code) => code === 0);
}

async function backfillThenLive(
  options: DemoOptions,
  services: readonly ServiceProcess[],
  signal: AbortSignal,
): Promise<void> {
  if (options.backfillDays > 0 && !signal.aborted) {
    const history = await writeHistory({
      otlp: options.otlp,
      seed: options.seed,
      rate: options.rate,
      days: options.backfillDays,
      endMs: options.backfillEndMs ?? Date.now(),
      signal,
    });
    milestone('backfill done', {
      events: history.events,
      fromTime: isoTime(history.fromMs),
      toTime: isoTime(history.toMs),
    });
  }
  if (options.live && !signal.aborted) {
    const urls = Object.fromEntries(services.map((service) => [service.service, service.url]));
    const summary = await runLiveTraffic({
      urls: urls as Record<ServiceName, string>,
      seed: options.seed,
      rate: options.rate,
      minutes: options.liveMinutes,
      calls: options.liveCalls,
      burst: options.burst,
      summaryEveryMs: options.summarySeconds * 1000,
      signal,
    });
    milestone('live traffic stopped', { ...summary });
  }
}

/** True when the demo ran and every service exported all it held. */
async function runDemo(options: DemoOptions, signal: AbortSignal): Promise<boolean> {
  const services = options.live ? await startServices(options) : [];
  try {
    await backfillThenLive(options, services, signal);
  } catch (error) {
    // The services still export what they hold before they exit.
    await stopServices(services);
    throw error;
  }
  return stopServices(services);
}

const options = optionsOrExit();
const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    // A second signal (Ctrl-C twice, or one passed on by `npm start`) changes nothing.
    if (stop.signal.aborted) return;
    milestone('stopping', { signal });
    stop.abort();
  });
}
try {
  const clean = await runDemo(options, stop.signal);
  milestone('demo stopped', { clean });
  process.exit(clean ? 0 : 1);
} catch (error) {
  console.error('demo failed:', error);
  process.exit(1);
}

/*
 * The demo's command line (node:util parseArgs). Every flag is checked here, so the rest of the
 * demo gets settled values; a bad flag ends the demo with a message that names it.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { ServiceName } from '../directory/account.js';
import { personaNamed } from '../traffic/personas.js';
import type { BurstOptions } from '../traffic/stories.js';

export const DEMO_USAGE = `Usage: npm run demo -- [options]

Starts three instrumented demo services (iam on Express, compute on Fastify, storage on node:http),
backfills days of their audit history into a crumbtrail collector, then sends them live traffic.

  --otlp <url>            collector OTLP/HTTP base URL (env OTEL_EXPORTER_OTLP_ENDPOINT;
                          default http://127.0.0.1:4318)
  --seed <n>              seed of the traffic, span ids and request ids (default 1)
  --backfill-days <n>     days of history to write before live traffic; 0: none (default 3)
  --backfill-end <time>   ISO time the history ends at (default: the current minute)
  --no-live               backfill only, then exit
  --live-minutes <n>      stop live traffic after n minutes (default: at SIGINT/SIGTERM)
  --live-calls <n>        stop live traffic after n calls
  --rate <x>              traffic multiplier, backfill and live (default 1: ~14 calls/min at peak)
  --burst-at <minutes>    RunInstances burst this long after live traffic starts (default 5)
  --burst-minutes <n>     how long the burst lasts; 0: no burst (default 10)
  --burst-rate <n>        burst calls per minute (default 60)
  --burst-user <name>     who bursts: John, alice, bob, ci-bot or mallory (default ci-bot)
  --host <address>        interface the services listen on (env CRUMBTRAIL_DEMO_HOST; default 127.0.0.1)
  --iam-port <port>       (env CRUMBTRAIL_DEMO_IAM_PORT), --compute-port, --storage-port: fixed
                          service ports (default 0: any free port, printed at start)
  --summary-seconds <n>   seconds between traffic summaries (default 60)
  -h, --help              this help

Prints one JSON line per milestone on stdout. For a collector with --ingest-token, set
OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>.`;

const DEFAULT_OTLP = 'http://127.0.0.1:4318';

export interface DemoOptions {
  otlp: string;
  seed: number;
  rate: number;
  backfillDays: number;
  backfillEndMs: number | undefined;
  live: boolean;
  liveMinutes: number | undefined;
  liveCalls: number | undefined;
  burst: BurstOptions | undefined;
  host: string;
  ports: Record<ServiceName, number>;
  summarySeconds: number;
}

export class DemoUsageError extends Error {}

function number(
  flag: string,
  text: string,
  { min, max, integer = false }: { min: number; max: number; integer?: boolean },
): number {
  const value = Number(text);
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new DemoUsageError(
      `--${flag}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

function optionalNumber(
  flag: string,
  text: string | undefined,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  return text === undefined ? undefined : number(flag, text, range);
}

function port(flag: string, text: string | undefined): number {
  return text === undefined ? 0 : number(flag, text, { min: 0, max: 65535, integer: true });
}

const FLAGS = {
  otlp: { type: 'string' },
  seed: { type: 'string', default: '1' },
  rate: { type: 'string', default: '1' },
  'backfill-days': { type: 'string', default: '3' },
  'backfill-end': { type: 'string' },
  live: { type: 'boolean', default: true },
  'live-minutes': { type: 'string' },
  'live-calls': { type: 'string' },
  'burst-at': { type: 'string', default: '5' },
  'burst-minutes': { type: 'string', default: '10' },
  'burst-rate': { type: 'string', default: '60' },
  'burst-user': { type: 'string', default: 'ci-bot' },
  host: { type: 'string' },
  'iam-port': { type: 'string' },
  'compute-port': { type: 'string' },
  'storage-port': { type: 'string' },
  'summary-seconds': { type: 'string', default: '60' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

function readFlags(
  argv: string[],
): ReturnType<typeof parseArgs<{ args: string[]; allowNegative: true; options: typeof FLAGS }>>['values'] {
  try {
    return parseArgs({ args: argv, allowNegative: true, options: FLAGS }).values;
  } catch (error) {
    // parseArgs names the flag: "Unknown option '--foo'".
    throw new DemoUsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The options, or undefined when help was asked for. */
export function parseDemoOptions(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): DemoOptions | undefined {
  const values = readFlags(argv);
  if (values.help) return undefined;

  const backfillDays = number('backfill-days', values['backfill-days'], { min: 0, max: 90 });
  if (!values.live && backfillDays === 0) {
    throw new DemoUsageError('--no-live with --backfill-days 0 leaves nothing to do');
  }
  const backfillEnd = values['backfill-end'];
  const backfillEndMs = backfillEnd === undefined ? undefined : Date.parse(backfillEnd);
  if (backfillEndMs !== undefined && Number.isNaN(backfillEndMs)) {
    throw new DemoUsageError(`--backfill-end: not an ISO time: "${backfillEnd ?? ''}"`);
  }
  const otlp = values.otlp ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP;
  if (!URL.canParse(otlp)) throw new DemoUsageError(`--otlp: not a URL: "${otlp}"`);
  return {
    otlp,
    seed: number('seed', values.seed, { min: 0, max: 2 ** 32 - 1, integer: true }),
    rate: number('rate', values.rate, { min: 0, max: 1000 }),
    backfillDays,
    backfillEndMs,
    live: values.live,
    liveMinutes: optionalNumber('live-minutes', values['live-minutes'], { min: 0, max: 1e6 }),
    liveCalls: optionalNumber('live-calls', values['live-calls'], { min: 1, max: 1e9, integer: true }),
    burst: burstOptions(values),
    host: values.host ?? env.CRUMBTRAIL_DEMO_HOST ?? '127.0.0.1',
    ports: {
      iam: port('iam-port', values['iam-port'] ?? env.CRUMBTRAIL_DEMO_IAM_PORT),
      compute: port('compute-port', values['compute-port'] ?? env.CRUMBTRAIL_DEMO_COMPUTE_PORT),
      storage: port('storage-port', values['storage-port'] ?? env.CRUMBTRAIL_DEMO_STORAGE_PORT),
    },
    summarySeconds: number('summary-seconds', values['summary-seconds'], { min: 1, max: 86_400 }),
  };
}

/** The burst asked for, or undefined for --burst-minutes 0. */
function burstOptions(values: ReturnType<typeof readFlags>): BurstOptions | undefined {
  const minutes = number('burst-minutes', values['burst-minutes'], { min: 0, max: 24 * 60 });
  if (minutes === 0) return undefined;
  const userName = values['burst-user'];
  if (personaNamed(userName) === undefined) {
    throw new DemoUsageError(`--burst-user: no demo user named "${userName}"`);
  }
  return {
    atMinutes: number('burst-at', values['burst-at'], { min: 0, max: 1e6 }),
    minutes,
    callsPerMinute: number('burst-rate', values['burst-rate'], { min: 1, max: 60_000 }),
    userName,
  };
}

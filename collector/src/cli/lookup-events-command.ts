/*
 * `crumbtrail lookup-events`: `aws cloudtrail lookup-events` against a crumbtrail collector's query
 * API. It pages through nextToken itself up to --max-results events and prints them in the shape of
 * CloudTrail's LookupEvents response (or as a table, or as CSV).
 *
 * Exit status: 0 done · 1 the collector refused the lookup or could not be reached · 2 bad usage.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CloudTrailRecord } from '../events/cloudtrail-record.js';
import { formatEventCsv } from '../api/export/event-csv.js';
import { formatEventTable, resourceNameOf, usernameOf } from './event-table.js';
import type { LookupAttribute } from './lookup-attributes.js';
import {
  LookupAttributeError,
  VALID_ATTRIBUTE_KEYS,
  lookupQueryParameters,
  parseLookupAttributes,
} from './lookup-attributes.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:8790';
/** The same default as `aws cloudtrail lookup-events`. */
export const DEFAULT_MAX_RESULTS = 50;
/** The query API's largest page. */
const API_PAGE_LIMIT = 1000;
/** Every event is held in memory before printing (a table needs all widths): keep that bounded. */
const MAX_MAX_RESULTS = 1_000_000;
/** A collector that accepts the connection but never answers must not hang a script forever. */
const REQUEST_TIMEOUT_MS = 60_000;
const EVENTS_PATH = '/api/v1/events';

/** The outside world of the command, injectable so it runs in-process in tests. */
export interface CliIo {
  fetch: typeof globalThis.fetch;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  setExitCode: (code: number) => void;
}

export function processIo(): CliIo {
  return {
    fetch: (input, init) => globalThis.fetch(input, init),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    // Not process.exit(): that could cut off output still queued for a pipe.
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
}

export interface LookupEventsOptions {
  /** Absent when the flag is not given. */
  lookupAttributes?: string[];
  startTime?: string;
  endTime?: string;
  maxResults: number;
  freeText?: string;
  output: 'json' | 'table' | 'csv';
  endpoint: string;
  token?: string;
  startingToken?: string;
}

/** One item of CloudTrail's LookupEvents response. */
export interface LookupEventItem {
  EventId: string;
  EventName: string;
  ReadOnly: string;
  AccessKeyId?: string;
  EventTime: string;
  EventSource: string;
  Username?: string;
  Resources: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
}

/** The collector refused the lookup or could not be reached: exit 1 with this message. */
class CollectorError extends Error {
  override readonly name = 'CollectorError';
}

interface Page {
  records: CloudTrailRecord[];
  nextToken: string | undefined;
}

export function positiveInteger(max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > max) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    }
    return Number(value);
  };
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:8790');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError('expected an http(s) URL');
  }
  return value;
}

/** The lookup URL under the endpoint (which may carry a path prefix, e.g. behind a proxy). */
export function eventsUrl(endpoint: string): URL {
  // Also accept the full lookup URL, which is what the collector logs at start-up.
  const base = endpoint.replace(/\/+$/, '').replace(/\/api\/v1\/events$/, '');
  return new URL(`${base}${EVENTS_PATH}`);
}

function pageUrl(
  options: LookupEventsOptions,
  attributes: readonly LookupAttribute[],
  pageSize: number,
  nextToken?: string,
): URL {
  const url = eventsUrl(options.endpoint);
  const query = url.searchParams;
  if (options.startTime !== undefined) query.set('startTime', options.startTime);
  if (options.endTime !== undefined) query.set('endTime', options.endTime);
  for (const [name, value] of lookupQueryParameters(attributes)) query.append(name, value);
  if (options.freeText !== undefined) query.set('q', options.freeText);
  query.set('maxResults', String(pageSize));
  if (nextToken !== undefined) query.set('nextToken', nextToken);
  return url;
}

/** Why a request never got an answer, from undici's error and its cause (ECONNREFUSED, …). */
function networkProblem(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  }
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) {
    // An AggregateError (several addresses tried) has an empty message but a code.
    const code = (cause as NodeJS.ErrnoException).code;
    return cause.message !== '' ? cause.message : (code ?? cause.name);
  }
  return error instanceof Error ? error.message : String(error);
}

/** The collector's own message from its `{"error","message"}` body, else the status line. */
function httpProblem(response: Response, body: string): string {
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON (a proxy's error page, say): fall through to the status and the start of the text.
  }
  message ??= body.trim().slice(0, 200);
  const status = `${response.status} ${response.statusText}`.trim();
  return message === '' ? `the collector answered ${status}` : `the collector answered ${status}: ${message}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Enough of a record's shape to print it; anything less means this is not a crumbtrail collector. */
function isRecord(value: unknown): value is CloudTrailRecord {
  return (
    isObject(value) &&
    typeof value.eventID === 'string' &&
    typeof value.eventTime === 'string' &&
    typeof value.eventName === 'string' &&
    typeof value.eventSource === 'string' &&
    typeof value.readOnly === 'boolean' &&
    isObject(value.userIdentity) &&
    (value.resources === undefined || Array.isArray(value.resources))
  );
}

function parsePage(body: string): Page {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new CollectorError('the collector answered with something that is not JSON');
  }
  if (!isObject(parsed) || !Array.isArray(parsed.events) || !parsed.events.every(isRecord)) {
    throw new CollectorError('the collector answered with something that is not a list of events');
  }
  const nextToken = typeof parsed.nextToken === 'string' ? parsed.nextToken : undefined;
  return { records: parsed.events, nextToken };
}

async function fetchPage(url: URL, options: LookupEventsOptions, io: CliIo): Promise<Page> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined && options.token !== '') headers.authorization = `Bearer ${options.token}`;
  let response: Response;
  let body: string;
  try {
    response = await io.fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    body = await response.text();
  } catch (error) {
    throw new CollectorError(`cannot reach the collector at ${options.endpoint}: ${networkProblem(error)}`);
  }
  if (!response.ok) throw new CollectorError(httpProblem(response, body));
  return parsePage(body);
}

/** Pages through the lookup until maxResults events or the end; nextToken is where it stopped. */
async function collectEvents(
  options: LookupEventsOptions,
  attributes: readonly LookupAttribute[],
  io: CliIo,
): Promise<Page> {
  const records: CloudTrailRecord[] = [];
  let nextToken = options.startingToken;
  do {
    const pageSize = Math.min(API_PAGE_LIMIT, options.maxResults - records.length);
    const page = await fetchPage(pageUrl(options, attributes, pageSize, nextToken), options, io);
    // Never more than asked for, even from a collector that ignores maxResults.
    records.push(...page.records.slice(0, pageSize));
    nextToken = page.nextToken;
    // An empty page with a token would otherwise loop forever.
    if (page.records.length === 0) break;
  } while (nextToken !== undefined && records.length < options.maxResults);
  return { records, nextToken };
}

export function toLookupEventItem(record: CloudTrailRecord): LookupEventItem {
  const item: LookupEventItem = {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: String(record.readOnly),
    EventTime: record.eventTime,
    EventSource: record.eventSource,
    Resources: (record.resources ?? []).map((resource) => ({
      ResourceType: resource.type,
      ResourceName: resourceNameOf(resource),
    })),
    CloudTrailEvent: JSON.stringify(record),
  };
  // Absent values are left out, as AWS does, rather than printed as null.
  const accessKeyId = record.userIdentity.accessKeyId;
  if (accessKeyId !== undefined) item.AccessKeyId = accessKeyId;
  const username = usernameOf(record);
  if (username !== undefined) item.Username = username;
  return item;
}

function formatJson(page: Page): string {
  const output = { Events: page.records.map(toLookupEventItem), NextToken: page.nextToken };
  // The AWS CLI's indentation; JSON.stringify drops NextToken when it is undefined.
  return `${JSON.stringify(output, null, 4)}\n`;
}

/** Runs a lookup and prints it; returns the exit status. */
export async function runLookupEvents(options: LookupEventsOptions, io: CliIo): Promise<number> {
  let attributes: LookupAttribute[];
  try {
    attributes = parseLookupAttributes(options.lookupAttributes ?? []);
  } catch (error) {
    if (!(error instanceof LookupAttributeError)) throw error;
    io.stderr(`crumbtrail lookup-events: ${error.message}\n`);
    return EXIT_USAGE;
  }
  let page: Page;
  try {
    page = await collectEvents(options, attributes, io);
  } catch (error) {
    if (!(error instanceof CollectorError)) throw error;
    io.stderr(`crumbtrail lookup-events: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  if (options.output === 'table' || options.output === 'csv') {
    // The same columns as the query API's format=csv and the Grafana panel's CSV download.
    io.stdout(options.output === 'csv' ? formatEventCsv(page.records) : formatEventTable(page.records));
    // No room for the token: say on stderr how to go on, keeping stdout a table or a CSV file.
    if (page.nextToken !== undefined) {
      io.stderr(`More events match: continue with --starting-token ${page.nextToken}\n`);
    }
  } else {
    io.stdout(formatJson(page));
  }
  return EXIT_OK;
}

const EXAMPLES = `
Examples:
  $ crumbtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=CreateUser
  $ crumbtrail lookup-events --output table --start-time 2024-05-01T00:00:00Z \\
      --lookup-attributes AttributeKey=Username,AttributeValue=alice \\
      --lookup-attributes AttributeKey=EventName,AttributeValue=DeleteUser \\
      --lookup-attributes AttributeKey=EventName,AttributeValue=CreateUser

Attribute keys:
  ${VALID_ATTRIBUTE_KEYS.join(', ')}
A key given more than once matches any of its values; different keys must all match.`;

export function lookupEventsCommand(io: CliIo): Command {
  return (
    new Command('lookup-events')
      .description("Looks up audit events in a crumbtrail collector, like 'aws cloudtrail lookup-events'.")
      .addOption(
        new Option(
          '--lookup-attributes <attribute...>',
          'AttributeKey=<key>,AttributeValue=<value> (repeatable)',
        ),
      )
      .addOption(new Option('--start-time <time>', 'events at or after this time (ISO-8601 or epoch ms)'))
      .addOption(new Option('--end-time <time>', 'events at or before this time (ISO-8601 or epoch ms)'))
      .addOption(
        new Option('--max-results <count>', 'total number of events to return, across pages')
          .argParser(positiveInteger(MAX_MAX_RESULTS))
          .default(DEFAULT_MAX_RESULTS),
      )
      .addOption(new Option('--free-text <text>', 'case-insensitive text anywhere in the event'))
      .addOption(new Option('--starting-token <token>', 'continue from the NextToken of an earlier lookup'))
      .addOption(
        new Option('--output <format>', 'output format').choices(['json', 'table', 'csv']).default('json'),
      )
      .addOption(
        new Option('--endpoint <url>', 'collector query API')
          .env('CRUMBTRAIL_ENDPOINT')
          .argParser(httpUrl)
          .default(DEFAULT_ENDPOINT),
      )
      .addOption(new Option('--token <token>', 'API bearer token').env('CRUMBTRAIL_API_TOKEN'))
      .addHelpText('after', EXAMPLES)
      // addCommand() does not pass the program's settings down: output and exit handling are set here.
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .exitOverride()
      .action(async (options: LookupEventsOptions) => {
        io.setExitCode(await runLookupEvents(options, io));
      })
  );
}

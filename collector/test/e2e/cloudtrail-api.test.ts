/*
 * CloudTrail's own API, driven by the real clients teams already use: the AWS CLI v1 and v2 and
 * the AWS SDK for JavaScript v3, against a real collector process, changing only the endpoint.
 * Each client looks up the same seeded story (John creates Mary, and what followed) by every
 * lookup attribute and time range, pages through it, and meets CloudTrail's errors as it would
 * meet them from AWS: right code, right exit status, no retries of permanent errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CloudTrailClient,
  CloudTrailServiceException,
  DescribeTrailsCommand,
  GetInsightSelectorsCommand,
  LookupEventsCommand,
  paginateLookupEvents,
} from '@aws-sdk/client-cloudtrail';
import type { Event as SdkEvent } from '@aws-sdk/client-cloudtrail';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import type { Credentials } from '../support/aws-clients.js';
import { awsClis, runAwsCli } from '../support/aws-clients.js';
import type { JsonAttributeValue } from '../support/otlp-json.js';
import {
  arrayAttribute,
  auditJsonSpan,
  exportRequestJson,
  freshSpanId,
  postJsonExport,
  stringAttribute,
} from '../support/otlp-json.js';

const FULL: Credentials = {
  accessKeyId: 'AKIACRUMBTRAILFULL01',
  secretAccessKey: 'full/secret+key0123456789',
};
const TRAILS_ONLY: Credentials = {
  accessKeyId: 'AKIACRUMBTRAILTRAIL1',
  secretAccessKey: 'trails-only-secret',
};
const SESSION: Credentials = {
  accessKeyId: 'ASIACRUMBTRAILSESS01',
  secretAccessKey: 'session-secret',
  sessionToken: 'FwoGZXIvYXdzEJr//////////session-token',
};
const EXPIRED: Credentials = {
  accessKeyId: 'ASIACRUMBTRAILOLD001',
  secretAccessKey: 'expired-secret',
  sessionToken: 'old-token',
};
const REGION = 'eu-west-1';

/** Whole seconds (CLI v1 sends StartTime/EndTime truncated to seconds), a minute apart. */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 20 * 60_000;

interface StoryEvent {
  name: string;
  minute: number;
  user?: string;
  source: string;
  readOnly: boolean;
  accessKeyId?: string;
  resource?: [type: string, name: string];
  errorCode?: string;
}

/** Newest last; every name is unique, so events are named by their eventName below. */
const STORY: StoryEvent[] = [
  {
    name: 'CreateUser',
    minute: 0,
    user: 'John',
    source: 'iam.example.com',
    readOnly: false,
    accessKeyId: 'AKIAJOHN000000000001',
    resource: ['AWS::IAM::User', 'Mary'],
  },
  {
    name: 'GetUser',
    minute: 1,
    user: 'Mary',
    source: 'iam.example.com',
    readOnly: true,
    resource: ['AWS::IAM::User', 'Mary'],
  },
  { name: 'ListBuckets', minute: 2, user: 'Mary', source: 's3.example.com', readOnly: true },
  {
    name: 'DeleteBucket',
    minute: 3,
    user: 'Eve',
    source: 's3.example.com',
    readOnly: false,
    resource: ['AWS::S3::Bucket', 'payroll'],
    errorCode: 'AccessDenied',
  },
  {
    name: 'PutObject',
    minute: 4,
    user: 'John',
    source: 's3.example.com',
    readOnly: false,
    accessKeyId: 'AKIAJOHN000000000001',
    resource: ['AWS::S3::Object', 'report.csv'],
  },
  { name: 'CreateAccessKey', minute: 5, user: 'Mary', source: 'iam.example.com', readOnly: false },
  { name: 'Decrypt', minute: 6, source: 'kms.example.com', readOnly: true },
];
const NEWEST_FIRST = STORY.map((event) => event.name).reverse();
const secondsAt = (minute: number): number => (T0 + minute * 60_000) / 1000;

function storySpan(event: StoryEvent): Record<string, unknown> {
  const attributes: { key: string; value: JsonAttributeValue }[] = [
    stringAttribute('crumbtrail.event.source', event.source),
    { key: 'crumbtrail.read_only', value: { boolValue: event.readOnly } },
  ];
  if (event.user !== undefined) attributes.push(stringAttribute('user.name', event.user));
  if (event.accessKeyId !== undefined)
    attributes.push(stringAttribute('crumbtrail.identity.access_key_id', event.accessKeyId));
  if (event.resource !== undefined) {
    attributes.push(arrayAttribute('crumbtrail.resource.types', [event.resource[0]]));
    attributes.push(arrayAttribute('crumbtrail.resource.names', [event.resource[1]]));
  }
  if (event.errorCode !== undefined)
    attributes.push(stringAttribute('crumbtrail.error.code', event.errorCode));
  return auditJsonSpan(freshSpanId(), T0 + event.minute * 60_000, event.name, attributes);
}

function credentialsFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'crumbtrail-aws-')), 'credentials.json');
  writeFileSync(
    path,
    JSON.stringify({
      credentials: [
        FULL,
        { ...TRAILS_ONLY, operations: ['ListTrails', 'DescribeTrails', 'GetTrail'] },
        SESSION,
        { ...EXPIRED, expiresAt: new Date(Date.now() - 60_000).toISOString() },
      ],
    }),
    { mode: 0o600 },
  );
  return path;
}

interface CliEvent {
  EventId: string;
  EventName: string;
  ReadOnly: string;
  Username?: string;
  Resources: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent: string;
}

describe('CloudTrail-compatible API', () => {
  let collector: CollectorProcess;
  let endpoint: string;
  /** EventId by EventName, from the query API. */
  const ids = new Map<string, string>();

  before(async () => {
    collector = await startCollectorProcess({ args: ['--aws-credentials-file', credentialsFile()] });
    endpoint = collector.apiUrl;
    const answer = await postJsonExport(collector.otlpUrl, exportRequestJson(STORY.map(storySpan)));
    assert.equal(answer.status, 200);
    const { body } = await getJson(collector.apiUrl, '/api/v1/events?maxResults=50');
    for (const record of (body as { events: { eventName: string; eventID: string }[] }).events) {
      ids.set(record.eventName, record.eventID);
    }
    assert.equal(ids.size, STORY.length);
  });
  after(async () => {
    await collector.stop();
  });

  for (const cli of awsClis()) {
    describe(`AWS CLI ${cli.name}`, () => {
      /** Runs `aws cloudtrail <args>` against the collector. */
      const aws = (args: string[], credentials: Credentials = FULL) =>
        runAwsCli(
          cli,
          ['cloudtrail', ...args, '--endpoint-url', endpoint, '--region', REGION, '--output', 'json'],
          credentials,
        );
      const lookup = async (args: string[]): Promise<{ Events: CliEvent[]; NextToken?: string }> => {
        const result = await aws(['lookup-events', ...args]);
        assert.equal(result.code, 0, result.stderr);
        return JSON.parse(result.stdout) as { Events: CliEvent[]; NextToken?: string };
      };
      const names = (events: CliEvent[]): string[] => events.map((event) => event.EventName);
      /** The exit status the CLI gives a service error. */
      const serviceErrorCode = cli.name === 'v1' ? 255 : 254;

      it('answers who created Mary: lookup-events by EventName=CreateUser', async () => {
        const { Events } = await lookup([
          '--lookup-attributes',
          'AttributeKey=EventName,AttributeValue=CreateUser',
        ]);
        assert.equal(Events.length, 1);
        const event = Events[0];
        assert.ok(event);
        assert.equal(event.Username, 'John');
        assert.equal(event.ReadOnly, 'false');
        assert.deepEqual(event.Resources, [{ ResourceType: 'AWS::IAM::User', ResourceName: 'Mary' }]);
        const record = JSON.parse(event.CloudTrailEvent) as {
          eventName: string;
          userIdentity: { userName: string };
        };
        assert.equal(record.eventName, 'CreateUser');
        assert.equal(record.userIdentity.userName, 'John');
      });

      it('finds events by each lookup attribute, newest first', async () => {
        const cases: [key: string, value: string, expected: string[]][] = [
          ['EventId', ids.get('DeleteBucket') ?? '', ['DeleteBucket']],
          ['ReadOnly', 'true', ['Decrypt', 'ListBuckets', 'GetUser']],
          ['Username', 'Mary', ['CreateAccessKey', 'ListBuckets', 'GetUser']],
          ['ResourceType', 'AWS::S3::Bucket', ['DeleteBucket']],
          ['ResourceName', 'Mary', ['GetUser', 'CreateUser']],
          ['EventSource', 's3.example.com', ['PutObject', 'DeleteBucket', 'ListBuckets']],
          ['AccessKeyId', 'AKIAJOHN000000000001', ['PutObject', 'CreateUser']],
        ];
        for (const [key, value, expected] of cases) {
          const { Events } = await lookup([
            '--lookup-attributes',
            `AttributeKey=${key},AttributeValue=${value}`,
          ]);
          assert.deepEqual(names(Events), expected, `${key}=${value}`);
        }
      });

      it('limits lookups to a time range', async () => {
        const { Events } = await lookup([
          '--start-time',
          String(secondsAt(1.5)),
          '--end-time',
          String(secondsAt(4.5)),
        ]);
        assert.deepEqual(names(Events), ['PutObject', 'DeleteBucket', 'ListBuckets']);
      });

      it('pages through everything with auto-pagination, and resumes from --max-items with --starting-token', async () => {
        const all = await lookup(['--page-size', '2']);
        assert.deepEqual(names(all.Events), NEWEST_FIRST);
        assert.equal(all.NextToken, undefined);

        // --max-items cuts the second page in the middle: the CLI's token replays that page's
        // server token and skips what it already printed, so the server's order must be stable.
        const first = await lookup(['--page-size', '2', '--max-items', '3']);
        assert.deepEqual(names(first.Events), NEWEST_FIRST.slice(0, 3));
        assert.ok(first.NextToken);
        const rest = await lookup(['--page-size', '2', '--starting-token', first.NextToken]);
        assert.deepEqual(names(rest.Events), NEWEST_FIRST.slice(3));

        const single = await lookup(['--max-results', '2', '--no-paginate']);
        assert.deepEqual(names(single.Events), NEWEST_FIRST.slice(0, 2));
        assert.ok(single.NextToken, 'one call prints the server token');
      });

      it("answers bad requests with CloudTrail's error codes, which the CLI does not retry", async () => {
        const cases: [args: string[], code: string, credentials?: Credentials][] = [
          [['lookup-events', '--max-results', '51'], 'InvalidMaxResultsException'],
          [
            ['lookup-events', '--lookup-attributes', 'AttributeKey=Colour,AttributeValue=red'],
            'InvalidLookupAttributesException',
          ],
          [
            ['lookup-events', '--lookup-attributes', 'AttributeKey=ReadOnly,AttributeValue=maybe'],
            'InvalidLookupAttributesException',
          ],
          [
            ['lookup-events', '--start-time', String(secondsAt(5)), '--end-time', String(secondsAt(1))],
            'InvalidTimeRangeException',
          ],
          [['lookup-events', '--starting-token', 'not-a-token'], 'InvalidNextTokenException'],
          [['lookup-events', '--event-category', 'management'], 'InvalidEventCategoryException'],
          [['get-trail', '--name', 'someone-elses-trail'], 'TrailNotFoundException'],
          [['lookup-events'], 'InvalidSignatureException', { ...FULL, secretAccessKey: 'not-the-secret' }],
          [
            ['lookup-events'],
            'UnrecognizedClientException',
            { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' },
          ],
          [['lookup-events'], 'UnrecognizedClientException', { ...SESSION, sessionToken: 'another-token' }],
          [['lookup-events'], 'ExpiredTokenException', EXPIRED],
          [['lookup-events'], 'AccessDeniedException', TRAILS_ONLY],
        ];
        for (const [args, code, credentials] of cases) {
          const result = await aws(args, credentials);
          const operation = args[0] === 'get-trail' ? 'GetTrail' : 'LookupEvents';
          assert.equal(result.code, serviceErrorCode, `${code}: ${result.stderr}`);
          assert.match(
            result.stderr,
            new RegExp(`An error occurred \\(${code}\\) when calling the ${operation} operation: \\S`),
          );
          assert.doesNotMatch(result.stderr, /reached max retries/, `${code} is not retried`);
        }
      });

      it('accepts session credentials with their token', async () => {
        const result = await aws(['lookup-events', '--max-results', '1', '--no-paginate'], SESSION);
        assert.equal(result.code, 0, result.stderr);
      });

      it('describes the built-in trail: list-trails, describe-trails, get-trail, status and selectors', async () => {
        const arn = 'arn:aws:cloudtrail:us-east-1:000000000000:trail/crumbtrail';
        const listed = JSON.parse((await aws(['list-trails'])).stdout) as {
          Trails: { TrailARN: string; Name: string }[];
        };
        assert.deepEqual(listed.Trails, [{ TrailARN: arn, Name: 'crumbtrail', HomeRegion: 'us-east-1' }]);
        const described = JSON.parse((await aws(['describe-trails'], TRAILS_ONLY)).stdout) as {
          trailList: { TrailARN: string; HasInsightSelectors: boolean }[];
        };
        assert.deepEqual(
          described.trailList.map((trail) => [trail.TrailARN, trail.HasInsightSelectors]),
          [[arn, true]],
        );
        const trail = JSON.parse((await aws(['get-trail', '--name', arn])).stdout) as {
          Trail: { Name: string };
        };
        assert.equal(trail.Trail.Name, 'crumbtrail');
        const status = JSON.parse((await aws(['get-trail-status', '--name', 'crumbtrail'])).stdout) as {
          IsLogging: boolean;
        };
        assert.equal(status.IsLogging, true);
        const selectors = JSON.parse(
          (await aws(['get-event-selectors', '--trail-name', 'crumbtrail'])).stdout,
        ) as { EventSelectors: { ReadWriteType: string }[] };
        assert.equal(selectors.EventSelectors[0]?.ReadWriteType, 'All');
        const insights = JSON.parse(
          (await aws(['get-insight-selectors', '--trail-name', 'crumbtrail'])).stdout,
        ) as { InsightSelectors: { InsightType: string }[] };
        assert.deepEqual(
          insights.InsightSelectors.map((selector) => selector.InsightType),
          ['ApiCallRateInsight', 'ApiErrorRateInsight'],
        );
      });
    });
  }

  describe('AWS SDK for JavaScript v3', () => {
    const client = (credentials: Credentials, extra: { systemClockOffset?: number } = {}): CloudTrailClient =>
      new CloudTrailClient({ endpoint, region: REGION, credentials, maxAttempts: 2, ...extra });

    it('pages with paginateLookupEvents, newest first, every event once', async () => {
      const events: SdkEvent[] = [];
      for await (const page of paginateLookupEvents({ client: client(FULL), pageSize: 3 }, {})) {
        assert.ok((page.Events ?? []).length <= 3);
        events.push(...(page.Events ?? []));
      }
      assert.deepEqual(
        events.map((event) => event.EventName),
        NEWEST_FIRST,
      );
      assert.ok(
        events.every((event) => event.EventTime instanceof Date && typeof event.ReadOnly === 'string'),
      );
    });

    it('takes fractional epoch-second times, and several attributes ANDed', async () => {
      const answer = await client(FULL).send(
        new LookupEventsCommand({
          StartTime: new Date(T0 + 0.5 * 60_000 + 250),
          EndTime: new Date(T0 + 6.5 * 60_000 + 750),
          LookupAttributes: [
            { AttributeKey: 'EventSource', AttributeValue: 'iam.example.com' },
            { AttributeKey: 'Username', AttributeValue: 'Mary' },
          ],
        }),
      );
      assert.deepEqual(
        answer.Events?.map((event) => event.EventName),
        ['CreateAccessKey', 'GetUser'],
      );
    });

    it('throws the modelled exception for a wrong secret, once, without retrying', async () => {
      const error = await client({ ...FULL, secretAccessKey: 'wrong' })
        .send(new LookupEventsCommand({}))
        .catch((thrown: unknown) => thrown);
      assert.ok(error instanceof CloudTrailServiceException);
      assert.equal(error.name, 'InvalidSignatureException');
      assert.equal(error.$metadata.attempts, 1);
    });

    it('refuses a signature dated outside the 15-minute window', async () => {
      // Signed an hour ago, as a client with a wrong clock would.
      const body = '{}';
      const url = new URL(endpoint);
      const signed = await new SignatureV4({
        credentials: FULL,
        region: REGION,
        service: 'cloudtrail',
        sha256: Hash.bind(null, 'sha256'),
      }).sign(
        {
          method: 'POST',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: '/',
          headers: {
            host: url.host,
            'content-type': 'application/x-amz-json-1.1',
            'x-amz-target': 'CloudTrail_20131101.LookupEvents',
          },
          body,
        },
        { signingDate: new Date(Date.now() - 60 * 60_000) },
      );
      const response = await fetch(`${endpoint}/`, { method: 'POST', headers: signed.headers, body });
      const answer = (await response.json()) as { __type: string; message: string };
      assert.equal(response.status, 400);
      assert.equal(answer.__type, 'InvalidSignatureException');
      assert.match(answer.message, /Signature expired/);

      // The SDK corrects its clock from the answer's Date header and retries once, as with AWS.
      const skewed = await client(FULL, { systemClockOffset: -60 * 60_000 }).send(
        new LookupEventsCommand({ MaxResults: 1 }),
      );
      assert.equal(skewed.Events?.length, 1);
      assert.equal(skewed.$metadata.attempts, 2);
    });

    it('describes the trail and its insight selectors', async () => {
      const trails = await client(FULL).send(new DescribeTrailsCommand({}));
      assert.equal(trails.trailList?.[0]?.Name, 'crumbtrail');
      const selectors = await client(FULL).send(new GetInsightSelectorsCommand({ TrailName: 'crumbtrail' }));
      assert.equal(selectors.InsightSelectors?.length, 2);
    });
  });
});

describe('CloudTrail-compatible API: off unless configured', () => {
  let closed: CollectorProcess;
  let open: CollectorProcess;
  before(async () => {
    [closed, open] = await Promise.all([
      startCollectorProcess({ args: ['--api-token', 'query-token'] }),
      startCollectorProcess({ args: ['--cloudtrail-api-open'] }),
    ]);
  });
  after(async () => {
    await Promise.all([closed.stop(), open.stop()]);
  });

  it('does not serve it without credentials, and the API token still guards the port', async () => {
    const request = {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'CloudTrail_20131101.LookupEvents',
      },
      body: '{}',
    };
    const unsigned = await fetch(`${closed.apiUrl}/`, request);
    assert.equal(unsigned.status, 401);
    const withToken = await fetch(`${closed.apiUrl}/`, {
      ...request,
      headers: { ...request.headers, authorization: 'Bearer query-token' },
    });
    assert.equal(withToken.status, 404);
  });

  it('answers any caller once explicitly opened', async () => {
    const answer = await new CloudTrailClient({
      endpoint: open.apiUrl,
      region: REGION,
      credentials: { accessKeyId: 'ANYTHING', secretAccessKey: 'anything' },
    }).send(new LookupEventsCommand({}));
    assert.deepEqual(answer.Events, []);
  });
});

/*
 * The seed scenario, end to end with the real collector process and the official OpenTelemetry
 * exporters (JSON and protobuf): on 2020-01-01 at 09:00 UTC, IAM user John creates IAM user Mary
 * through the console. A lookup by EventName=CreateUser returns one record that says exactly that.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import * as A from '@crumbtrail/instrumentation/attributes';
import type { CloudTrailRecord } from '../../src/events/cloudtrail-record.js';
import type { CollectorProcess } from '../support/collector-process.js';
import { getJson, startCollectorProcess } from '../support/collector-process.js';
import type { Protocol } from '../support/otel-client.js';
import { exportOrFail, exporterFor, makeSpans } from '../support/otel-client.js';

const CONSOLE_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36';
const JOHN_IP = '203.0.113.7';
const NINE_AM = new Date('2020-01-01T09:00:00.000Z');

function johnCreatesMary(): Parameters<typeof makeSpans>[0] {
  return [
    {
      name: 'POST /users',
      kind: SpanKind.SERVER,
      time: NINE_AM,
      attributes: {
        [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'CreateUser',
        [A.ATTR_CRUMBTRAIL_EVENT_SOURCE]: 'iam.example.com',
        [A.ATTR_CRUMBTRAIL_IDENTITY_TYPE]: 'IAMUser',
        [A.ATTR_USER_ID]: 'AIDAJOHN00000000001',
        [A.ATTR_USER_NAME]: 'John',
        [A.ATTR_CRUMBTRAIL_IDENTITY_ARN]: 'arn:aws:iam::111122223333:user/John',
        [A.ATTR_CRUMBTRAIL_IDENTITY_ACCOUNT_ID]: '111122223333',
        [A.ATTR_CRUMBTRAIL_IDENTITY_ACCESS_KEY_ID]: 'ASIAJOHNCONSOLE0001',
        [A.ATTR_CRUMBTRAIL_CONSOLE_SESSION]: true,
        [A.ATTR_CLIENT_ADDRESS]: JOHN_IP,
        [A.ATTR_USER_AGENT_ORIGINAL]: CONSOLE_USER_AGENT,
        [A.ATTR_HTTP_REQUEST_METHOD]: 'POST',
        [A.ATTR_HTTP_ROUTE]: '/users',
        [A.ATTR_HTTP_RESPONSE_STATUS_CODE]: 200,
        [A.ATTR_CRUMBTRAIL_READ_ONLY]: false,
        [A.ATTR_CRUMBTRAIL_RESOURCE_TYPES]: ['User'],
        [A.ATTR_CRUMBTRAIL_RESOURCE_NAMES]: ['Mary'],
        [A.ATTR_CRUMBTRAIL_RESOURCE_ARNS]: ['arn:aws:iam::111122223333:user/Mary'],
        [A.ATTR_CRUMBTRAIL_REQUEST_PARAMETERS]: JSON.stringify({ userName: 'Mary' }),
        [A.ATTR_CRUMBTRAIL_RESPONSE_ELEMENTS]: JSON.stringify({ user: { userName: 'Mary', path: '/' } }),
        [A.ATTR_CRUMBTRAIL_REQUEST_ID]: 'req-0001',
      },
    },
    // Noise that must not match the lookup.
    {
      name: 'GET /users',
      time: new Date('2020-01-01T09:05:00.000Z'),
      attributes: { [A.ATTR_CRUMBTRAIL_EVENT_NAME]: 'ListUsers', [A.ATTR_USER_NAME]: 'John' },
    },
  ];
}

for (const protocol of ['json', 'protobuf'] as const satisfies readonly Protocol[]) {
  describe(`seed scenario over OTLP/${protocol}`, () => {
    let collector: CollectorProcess;
    before(async () => {
      // The story is dated 2020-01-01: kept whatever today's date, which 90 days would not.
      collector = await startCollectorProcess({ args: ['--retention-days', '36500'] });
    });
    after(async () => {
      await collector.stop();
    });

    it('finds the one CreateUser event, saying who created whom, how, from where and when', async () => {
      const spans = makeSpans(johnCreatesMary(), { 'service.name': 'iam', 'cloud.region': 'eu-west-1' });
      await exportOrFail(exporterFor(protocol, collector.otlpUrl), spans);

      const { status, body } = await getJson<{ events: CloudTrailRecord[]; nextToken?: string }>(
        collector.apiUrl,
        '/api/v1/events?eventName=CreateUser',
      );
      assert.equal(status, 200);
      assert.equal(body.events.length, 1);
      assert.equal(body.nextToken, undefined);
      const [event] = body.events;
      assert.ok(event);
      const createSpan = spans.find((span) => span.name === 'POST /users');
      assert.ok(createSpan);

      assert.equal(event.eventTime, '2020-01-01T09:00:00.000Z');
      assert.equal(event.eventName, 'CreateUser');
      assert.equal(event.eventSource, 'iam.example.com');
      assert.equal(event.awsRegion, 'eu-west-1');
      assert.deepEqual(event.userIdentity, {
        type: 'IAMUser',
        principalId: 'AIDAJOHN00000000001',
        arn: 'arn:aws:iam::111122223333:user/John',
        accountId: '111122223333',
        accessKeyId: 'ASIAJOHNCONSOLE0001',
        userName: 'John',
      });
      assert.deepEqual(event.resources, [
        { ARN: 'arn:aws:iam::111122223333:user/Mary', type: 'User', name: 'Mary' },
      ]);
      assert.equal(event.sourceIPAddress, JOHN_IP);
      assert.equal(event.userAgent, CONSOLE_USER_AGENT);
      assert.equal(event.sessionCredentialFromConsole, 'true');
      assert.equal(event.readOnly, false);
      assert.equal(event.managementEvent, true);
      assert.equal(event.eventCategory, 'Management');
      assert.equal(event.eventType, 'AwsApiCall');
      assert.equal(event.eventVersion, '1.11');
      assert.deepEqual(event.requestParameters, { userName: 'Mary' });
      assert.deepEqual(event.responseElements, { user: { userName: 'Mary', path: '/' } });
      assert.equal(event.requestID, 'req-0001');
      assert.equal(event.errorCode, undefined);
      assert.match(event.eventID, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(event.crumbtrail.traceId, createSpan.spanContext().traceId);
      assert.equal(event.crumbtrail.spanId, createSpan.spanContext().spanId);
      assert.equal(event.crumbtrail.serviceName, 'iam');

      const byId = await getJson<CloudTrailRecord>(collector.apiUrl, `/api/v1/events/${event.eventID}`);
      assert.equal(byId.status, 200);
      assert.deepEqual(byId.body, event);
    });
  });
}

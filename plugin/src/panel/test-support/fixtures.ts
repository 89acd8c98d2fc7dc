/*
 * Test data for the panel: CloudTrail records as the collector returns them, turned into frames
 * by the datasource's real frame builder, and the props Grafana passes a panel.
 */
import { type DataFrame, EventBusSrv, getDefaultTimeRange, LoadingState, type PanelProps } from '@grafana/data';
import { eventsFrame, type EventLinks } from '../../datasource/events-frame';
import type { AuditRecord } from '../../shared/cloudtrail-record';
import { DEFAULT_OPTIONS, type Options } from '../types';

/** A full record: AuditRecord declares only what the plugins read, records hold more. */
type CloudTrailJson = AuditRecord & Record<string, unknown>;

const LINKS: EventLinks = { datasourceUid: 'crumbtrail-uid', datasourceName: 'crumbtrail' };

const john = {
  type: 'IAMUser',
  principalId: 'AIDAJ45Q7YFFAREXAMPLE',
  arn: 'arn:crumbtrail:iam::123456789012:user/John',
  accountId: '123456789012',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  userName: 'John',
};

const mary = {
  type: 'IAMUser',
  principalId: 'AIDAQRSTUVWXYZEXAMPLE',
  arn: 'arn:crumbtrail:iam::123456789012:user/Mary',
  accountId: '123456789012',
  accessKeyId: 'AKIAI44QH8DHBEXAMPLE',
  userName: 'Mary',
};

/** John CreateUser User/Mary, 2024-05-14 09:30 UTC. */
export const createUser: CloudTrailJson = {
  eventVersion: '1.11',
  userIdentity: john,
  eventTime: '2024-05-14T09:30:00Z',
  eventSource: 'iam.example.com',
  eventName: 'CreateUser',
  awsRegion: 'eu-west-1',
  sourceIPAddress: '203.0.113.7',
  userAgent: 'crumbtrail-cli/0.1.0 node/20.19.0',
  requestParameters: { userName: 'Mary' },
  responseElements: {
    user: { path: '/', userName: 'Mary', userId: 'AIDAQRSTUVWXYZEXAMPLE', createDate: 'May 14, 2024 9:30:00 AM' },
  },
  requestID: '6e1a3f1c-3b4f-4d0e-9d61-0c1f0a1b2c3d',
  eventID: 'c9b3e3a4-0f5e-4a71-9a53-1d3f7f1e2a01',
  readOnly: false,
  resources: [{ type: 'User', name: 'Mary', ARN: 'arn:crumbtrail:iam::123456789012:user/Mary' }],
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: '123456789012',
  eventCategory: 'Management',
  crumbtrail: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', serviceName: 'iam' },
};

/** John ListUsers (a read), 2024-05-14 08:00 UTC. */
export const listUsers: CloudTrailJson = {
  ...createUser,
  eventTime: '2024-05-14T08:00:00Z',
  eventName: 'ListUsers',
  requestParameters: { maxItems: 100 },
  responseElements: null,
  eventID: '0d2c7e55-8f1b-4c3a-b6e2-7a9c1d4e5f02',
  readOnly: true,
  resources: undefined,
};

/** Mary's DeleteBucket denied, 2024-05-14 10:05 UTC. */
export const accessDenied: CloudTrailJson = {
  eventVersion: '1.11',
  userIdentity: mary,
  eventTime: '2024-05-14T10:05:00Z',
  eventSource: 'storage.example.com',
  eventName: 'DeleteBucket',
  awsRegion: 'eu-west-1',
  sourceIPAddress: '198.51.100.23',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  errorCode: 'AccessDenied',
  errorMessage: 'User: arn:crumbtrail:iam::123456789012:user/Mary is not authorized to perform: storage:DeleteBucket',
  requestParameters: { bucketName: 'audit-logs' },
  responseElements: null,
  eventID: '7f4d2b91-5a6c-4e8f-8b3a-2c1d0e9f8a03',
  readOnly: false,
  resources: [{ type: 'Bucket', name: 'audit-logs', ARN: 'arn:crumbtrail:storage:::audit-logs' }],
  eventType: 'AwsApiCall',
  managementEvent: true,
  eventCategory: 'Management',
};

/**
 * An insight Start, as the collector's Insights engine writes it, 2024-05-14 09:45 UTC. Insight
 * records have no top-level eventName or eventSource (insightDetails names the API), which
 * AuditRecord declares for API calls, hence the cast.
 */
export const callRateInsight = {
  eventVersion: '1.11',
  eventTime: '2024-05-14T09:45:00Z',
  eventID: '3a9e1c2b-7d4f-4b6a-9c8e-5f1a2b3c4d04',
  eventType: 'AwsCloudTrailInsight',
  sharedEventID: 'b2c4d6e8-1a3b-4c5d-8e9f-0a1b2c3d4e05',
  insightDetails: {
    state: 'Start',
    eventSource: 'iam.example.com',
    eventName: 'CreateUser',
    insightType: 'ApiCallRateInsight',
    insightContext: {
      statistics: { baseline: { average: 0.5 }, insight: { average: 12 }, baselineDuration: 10080 },
      attributions: [],
    },
  },
  eventCategory: 'Insight',
  crumbtrail: {
    origin: 'insights',
    insight: {
      score: 9.8,
      threshold: 3,
      baseline: 'seasonal',
      callsPerMinute: 12,
      summary:
        'CreateUser (iam.example.com) write calls at 12/min since 2024-05-14 09:45 UTC, 24× the expected 0.5/min.',
    },
  },
} as unknown as AuditRecord;

export function frameOf(refId: string, records: AuditRecord[]): DataFrame {
  return eventsFrame(refId, records, LINKS);
}

/** Two queries, each returning its events in no particular order. */
export function twoQueries(): DataFrame[] {
  return [frameOf('A', [listUsers, createUser]), frameOf('B', [callRateInsight, accessDenied])];
}

/** `count` CreateUser calls, one a second back from 2024-05-14 09:30 UTC. */
export function manyEvents(count: number): DataFrame {
  const start = Date.parse(createUser.eventTime);
  const records = Array.from({ length: count }, (_, index) => ({
    ...createUser,
    eventID: `event-${index}`,
    eventTime: new Date(start - index * 1000).toISOString(),
    requestParameters: { userName: `user-${index}` },
    resources: [{ type: 'User', name: `user-${index}` }],
  }));
  return frameOf('A', records);
}

export function panelProps(series: DataFrame[], options: Partial<Options> = {}): PanelProps<Options> {
  const timeRange = getDefaultTimeRange();
  const ignore = () => {};
  return {
    id: 1,
    title: 'Event history',
    data: { state: LoadingState.Done, series, timeRange },
    timeRange,
    timeZone: 'utc',
    options: { ...DEFAULT_OPTIONS, ...options },
    fieldConfig: { defaults: {}, overrides: [] },
    transparent: false,
    width: 900,
    height: 400,
    renderCounter: 0,
    eventBus: new EventBusSrv(),
    replaceVariables: (value) => value,
    onOptionsChange: ignore,
    onFieldConfigChange: ignore,
    onChangeTimeRange: ignore,
  };
}

/*
 * The one trail crumbtrail has: every event it receives, in every region, with Insights when they
 * run. ListTrails, DescribeTrails, GetTrail, GetTrailStatus, GetEventSelectors and
 * GetInsightSelectors describe it in CloudTrail's shapes, so that tools which look for a trail
 * before looking up events (validate-logs, inventory scripts) find one.
 */
import { AwsApiError, invalidParameter } from './aws-error.js';

export interface TrailSettings {
  name: string;
  region: string;
  accountId: string;
  insightsEnabled: boolean;
  /** Epoch ms the collector started logging. */
  startedMs: number;
  /** The bucket the trail's files are served as (path-style S3 on the API port). */
  bucket: string;
  /** Signed digests are delivered (--trail-dir). */
  logFileValidation: boolean;
}

export function trailArn(trail: TrailSettings): string {
  return `arn:aws:cloudtrail:${trail.region}:${trail.accountId}:trail/${trail.name}`;
}

function describe(trail: TrailSettings): Record<string, unknown> {
  return {
    Name: trail.name,
    S3BucketName: trail.bucket,
    IncludeGlobalServiceEvents: true,
    IsMultiRegionTrail: true,
    HomeRegion: trail.region,
    TrailARN: trailArn(trail),
    LogFileValidationEnabled: trail.logFileValidation,
    HasCustomEventSelectors: false,
    HasInsightSelectors: trail.insightsEnabled,
    IsOrganizationTrail: false,
  };
}

/** The trail a Name / TrailName parameter (name or ARN) refers to; TrailNotFoundException otherwise. */
function named(trail: TrailSettings, raw: unknown, parameter: string): TrailSettings {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw invalidParameter('InvalidTrailNameException', `${parameter} is required: the trail's name or ARN.`);
  }
  if (raw !== trail.name && raw !== trailArn(trail)) {
    throw new AwsApiError(
      'TrailNotFoundException',
      404,
      `Unknown trail: ${raw} for the user: ${trail.accountId}. This collector has one trail: ${trail.name}.`,
    );
  }
  return trail;
}

export const TRAIL_OPERATIONS = [
  'ListTrails',
  'DescribeTrails',
  'GetTrail',
  'GetTrailStatus',
  'GetEventSelectors',
  'GetInsightSelectors',
] as const;
export type TrailOperation = (typeof TRAIL_OPERATIONS)[number];

export function isTrailOperation(name: string): name is TrailOperation {
  return (TRAIL_OPERATIONS as readonly string[]).includes(name);
}

export function answerTrailOperation(
  operation: TrailOperation,
  request: Record<string, unknown>,
  trail: TrailSettings,
): Record<string, unknown> {
  switch (operation) {
    case 'ListTrails':
      return { Trails: [{ TrailARN: trailArn(trail), Name: trail.name, HomeRegion: trail.region }] };
    case 'DescribeTrails': {
      const names = request.trailNameList;
      if (names !== undefined && !Array.isArray(names)) {
        throw invalidParameter(
          'InvalidTrailNameException',
          'trailNameList must be a list of trail names or ARNs.',
        );
      }
      // As CloudTrail: names that match no trail are left out, not an error.
      const wanted =
        names === undefined ||
        names.length === 0 ||
        names.some((name) => name === trail.name || name === trailArn(trail));
      return { trailList: wanted ? [describe(trail)] : [] };
    }
    case 'GetTrail':
      return { Trail: describe(named(trail, request.Name, 'Name')) };
    case 'GetTrailStatus': {
      named(trail, request.Name, 'Name');
      return {
        IsLogging: true,
        StartLoggingTime: trail.startedMs / 1000,
        TimeLoggingStarted: new Date(trail.startedMs).toISOString(),
      };
    }
    case 'GetEventSelectors':
      named(trail, request.TrailName, 'TrailName');
      return {
        TrailARN: trailArn(trail),
        EventSelectors: [
          {
            ReadWriteType: 'All',
            IncludeManagementEvents: true,
            DataResources: [],
            ExcludeManagementEventSources: [],
          },
        ],
      };
    case 'GetInsightSelectors':
      if (request.TrailName !== undefined) named(trail, request.TrailName, 'TrailName');
      if (!trail.insightsEnabled) {
        throw invalidParameter(
          'InsightNotEnabledException',
          `Insights are not enabled on trail ${trail.name} (the collector runs with --no-insights).`,
        );
      }
      return {
        TrailARN: trailArn(trail),
        InsightSelectors: [{ InsightType: 'ApiCallRateInsight' }, { InsightType: 'ApiErrorRateInsight' }],
      };
  }
}

/*
 * The demo's imaginary cloud account: one account, one region, three services. The services serve
 * it and the traffic generator calls it, so both take names and ARNs from here.
 */

export const ACCOUNT_ID = '111122223333';
export const REGION = 'eu-west-1';
/** service.version of every demo service (the events' crumbtrail.serviceVersion). */
export const DEMO_SERVICE_VERSION = '1.0.0';

export type ServiceName = 'iam' | 'compute' | 'storage';
export const SERVICE_NAMES: readonly ServiceName[] = ['iam', 'compute', 'storage'];

/** The eventSource of each service's events, named CloudTrail-style after the service's endpoint. */
export const EVENT_SOURCES: Readonly<Record<ServiceName, string>> = {
  iam: 'iam.example.com',
  compute: 'compute.example.com',
  storage: 'storage.example.com',
};

export const userArn = (userName: string): string => `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`;
export const managedPolicyArn = (policyName: string): string => `arn:aws:iam::aws:policy/${policyName}`;
export const instanceArn = (instanceId: string): string =>
  `arn:aws:ec2:${REGION}:${ACCOUNT_ID}:instance/${instanceId}`;
export const bucketArn = (bucket: string): string => `arn:aws:s3:::${bucket}`;
export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;

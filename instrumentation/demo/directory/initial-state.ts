/*
 * What exists when the demo services start. The traffic generator starts from the same picture, so
 * the calls it makes fail only where it means them to.
 */

export const INITIAL_IAM_USERS: readonly string[] = ['John', 'alice', 'bob', 'mallory', 'svc-reporting'];

export const MANAGED_POLICIES: readonly string[] = [
  'ReadOnlyAccess',
  'AmazonS3ReadOnlyAccess',
  'PowerUserAccess',
];

export interface InitialInstance {
  instanceId: string;
  instanceType: string;
  imageId: string;
  owner: string;
}

export const INITIAL_INSTANCES: readonly InitialInstance[] = [
  {
    instanceId: 'i-0a1b2c3d4e5f60001',
    instanceType: 'm5.large',
    imageId: 'ami-0c1d2e3f4a5b60001',
    owner: 'bob',
  },
  {
    instanceId: 'i-0a1b2c3d4e5f60002',
    instanceType: 'm5.large',
    imageId: 'ami-0c1d2e3f4a5b60001',
    owner: 'bob',
  },
  {
    instanceId: 'i-0a1b2c3d4e5f60003',
    instanceType: 'c6g.xlarge',
    imageId: 'ami-0c1d2e3f4a5b60002',
    owner: 'ci-bot',
  },
];

export const INITIAL_OBJECTS: Readonly<Record<string, readonly string[]>> = {
  reports: ['2026/q1-revenue.csv', '2026/q1-costs.csv', 'weekly/latest.pdf'],
  'ci-artifacts': ['builds/build-1041.tar.gz', 'builds/build-1042.tar.gz'],
  backups: ['db/2026-03-01.dump'],
};

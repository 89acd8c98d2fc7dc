/*
 * The people and programs calling the demo services: who they are, what they run (their user
 * agent), where from, when they work and what they do, at how many calls per minute at their
 * busiest (before --rate). Most calls succeed; some fail the way real ones do: a denied action, a
 * typo in a key, a script terminating an instance that is already gone.
 */
import { managedPolicyArn } from '../directory/account.js';
import type { DemoCaller } from '../directory/callers.js';
import { callerNamed } from '../directory/callers.js';
import { MANAGED_POLICIES } from '../directory/initial-state.js';
import type { ApiCall } from './api-calls.js';
import type { ActivityPattern } from './daily-pattern.js';
import { aroundTheClock, automation, officeHours } from './daily-pattern.js';
import type { SeededRandom } from './seeded-random.js';
import type { World } from './world.js';

export const CONSOLE_USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
export const SDK_V3_USER_AGENT =
  'aws-sdk-js/3.600.0 ua/2.1 os/linux#6.8.0 lang/js md/nodejs#20.19.0 api/s3#3.600.0';
export const SDK_V2_USER_AGENT = 'aws-sdk-js/2.1691.0 linux/v20.19.0 promise';
export const TERRAFORM_USER_AGENT =
  'Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.62.0';
export const CURL_USER_AGENT = 'curl/8.5.0';

export interface Activity {
  /** Calls per minute at the persona's busiest time, before --rate. */
  perMinute: number;
  /** The call to make now, or undefined when there is nothing to do it on. */
  choose: (world: World, random: SeededRandom) => ApiCall | undefined;
}

export interface Persona {
  caller: DemoCaller;
  userAgent: string;
  /** The client's address, as the proxy in front of the services reports it (X-Forwarded-For). */
  sourceIp: string;
  pattern: ActivityPattern;
  activities: readonly Activity[];
}

const REPORT_KEYS = ['2026/q1-revenue.csv', '2026/q1-costs.csv', 'weekly/latest.pdf', 'daily/summary.csv'];
const CI_IMAGE = 'ami-0c1d2e3f4a5b60002';
const APP_IMAGE = 'ami-0c1d2e3f4a5b60001';
/** CI keeps a few runners and build artifacts around; it cleans up beyond these. */
const CI_MIN_RUNNERS = 2;
const CI_KEPT_ARTIFACTS = 5;

function caller(userName: string): DemoCaller {
  const found = callerNamed(userName);
  if (found === undefined) throw new Error(`no demo caller named ${userName}`);
  return found;
}

function pickOrNothing<T>(random: SeededRandom, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : random.pick(items);
}

/** An activity's choice that is always the same call. */
export const always =
  (call: ApiCall): Activity['choose'] =>
  () =>
    call;

/** What ci-bot launches: a CI runner. */
export const CI_RUNNER_LAUNCH: ApiCall = {
  api: 'RunInstances',
  imageId: CI_IMAGE,
  instanceType: 'c6g.xlarge',
};

const john: Persona = {
  caller: caller('John'),
  userAgent: CONSOLE_USER_AGENT,
  sourceIp: '203.0.113.7',
  pattern: officeHours,
  activities: [
    { perMinute: 0.4, choose: always({ api: 'ListUsers' }) },
    {
      perMinute: 0.3,
      choose: (world, random) => {
        const userName = pickOrNothing(random, [...world.users]);
        return userName === undefined ? undefined : { api: 'GetUser', userName };
      },
    },
    { perMinute: 0.3, choose: always({ api: 'DescribeInstances' }) },
    { perMinute: 0.2, choose: always({ api: 'ListBuckets' }) },
    // Contractors come and go: created, given a policy, deleted later.
    {
      perMinute: 0.02,
      choose: (_world, random) => ({ api: 'CreateUser', userName: `contractor-${random.int(100, 999)}` }),
    },
    {
      perMinute: 0.02,
      choose: (world, random) => {
        const userName = world.createdUsers.at(-1);
        return userName === undefined
          ? undefined
          : { api: 'AttachUserPolicy', userName, policyArn: managedPolicyArn(random.pick(MANAGED_POLICIES)) };
      },
    },
    {
      perMinute: 0.015,
      choose: (world) => {
        const userName = world.createdUsers[0];
        return userName === undefined ? undefined : { api: 'DeleteUser', userName };
      },
    },
  ],
};

const alice: Persona = {
  caller: caller('alice'),
  userAgent: SDK_V3_USER_AGENT,
  sourceIp: '198.51.100.14',
  pattern: officeHours,
  activities: [
    {
      perMinute: 2.5,
      choose: (world, random) => {
        const key = pickOrNothing(random, world.keysIn('reports'));
        return key === undefined ? undefined : { api: 'GetObject', bucket: 'reports', key };
      },
    },
    {
      perMinute: 0.6,
      choose: (_world, random) => ({
        api: 'PutObject',
        bucket: 'reports',
        key: random.pick(REPORT_KEYS),
        content: `report ${random.hex(8)}\n`,
      }),
    },
    // A typo in a key: NotFound.
    { perMinute: 0.08, choose: always({ api: 'GetObject', bucket: 'reports', key: '2026/q1-revenue.cvs' }) },
    { perMinute: 0.4, choose: always({ api: 'ListBuckets' }) },
    { perMinute: 0.5, choose: always({ api: 'DescribeInstances' }) },
    { perMinute: 0.1, choose: always({ api: 'ListUsers' }) },
    // Not hers to terminate: AccessDenied.
    {
      perMinute: 0.01,
      choose: (world, random) => {
        const instanceId = pickOrNothing(random, [...world.instances.keys()]);
        return instanceId === undefined ? undefined : { api: 'TerminateInstances', instanceId };
      },
    },
  ],
};

const bob: Persona = {
  caller: caller('bob'),
  userAgent: SDK_V2_USER_AGENT,
  sourceIp: '198.51.100.22',
  pattern: officeHours,
  activities: [
    { perMinute: 2, choose: always({ api: 'DescribeInstances' }) },
    {
      perMinute: 0.25,
      choose: (_world, random) => ({
        api: 'RunInstances',
        imageId: APP_IMAGE,
        instanceType: random.pick(['m5.large', 't3.medium']),
      }),
    },
    {
      perMinute: 0.25,
      choose: (world) => {
        const instanceId = world.instancesOf('bob')[0];
        return instanceId === undefined ? undefined : { api: 'TerminateInstances', instanceId };
      },
    },
    // A script terminating an instance that is already gone: NotFound.
    {
      perMinute: 0.03,
      choose: (world, random) => {
        const instanceId = pickOrNothing(random, world.terminated);
        return instanceId === undefined ? undefined : { api: 'TerminateInstances', instanceId };
      },
    },
    {
      perMinute: 0.6,
      choose: (world, random) => {
        const key = pickOrNothing(random, world.keysIn('reports'));
        return key === undefined ? undefined : { api: 'GetObject', bucket: 'reports', key };
      },
    },
    {
      perMinute: 0.1,
      choose: (world, random) => {
        const userName = pickOrNothing(random, [...world.users]);
        return userName === undefined ? undefined : { api: 'GetUser', userName };
      },
    },
  ],
};

const ciBot: Persona = {
  caller: caller('ci-bot'),
  userAgent: TERRAFORM_USER_AGENT,
  sourceIp: '10.0.12.5',
  pattern: automation,
  activities: [
    { perMinute: 0.8, choose: always(CI_RUNNER_LAUNCH) },
    {
      perMinute: 0.8,
      choose: (world) => {
        const runners = world.instancesOf('ci-bot');
        return runners.length <= CI_MIN_RUNNERS || runners[0] === undefined
          ? undefined
          : { api: 'TerminateInstances', instanceId: runners[0] };
      },
    },
    { perMinute: 1.5, choose: always({ api: 'DescribeInstances' }) },
    {
      perMinute: 1,
      choose: (world, random) => ({
        api: 'PutObject',
        bucket: 'ci-artifacts',
        key: `builds/build-${world.takeBuildNumber()}.tar.gz`,
        content: `artifact ${random.hex(16)}\n`,
      }),
    },
    {
      perMinute: 0.4,
      choose: (world) => {
        const key = world.keysIn('ci-artifacts').at(-1);
        return key === undefined ? undefined : { api: 'GetObject', bucket: 'ci-artifacts', key };
      },
    },
    {
      perMinute: 0.9,
      choose: (world) => {
        const artifacts = world.keysIn('ci-artifacts');
        return artifacts.length <= CI_KEPT_ARTIFACTS || artifacts[0] === undefined
          ? undefined
          : { api: 'DeleteObject', bucket: 'ci-artifacts', key: artifacts[0] };
      },
    },
    { perMinute: 0.2, choose: always({ api: 'ListBuckets' }) },
  ],
};

/** Probing with a key that has no permissions: every call is AccessDenied. */
const mallory: Persona = {
  caller: caller('mallory'),
  userAgent: CURL_USER_AGENT,
  sourceIp: '192.0.2.66',
  pattern: aroundTheClock,
  activities: [
    { perMinute: 0.006, choose: always({ api: 'ListUsers' }) },
    { perMinute: 0.006, choose: always({ api: 'GetObject', bucket: 'backups', key: 'db/2026-03-01.dump' }) },
    {
      perMinute: 0.006,
      choose: (world, random) => {
        const userName = pickOrNothing(random, [...world.users]);
        return userName === undefined ? undefined : { api: 'DeleteUser', userName };
      },
    },
    {
      perMinute: 0.006,
      choose: always({ api: 'RunInstances', imageId: APP_IMAGE, instanceType: 'p4d.24xlarge' }),
    },
    { perMinute: 0.006, choose: always({ api: 'ListBuckets' }) },
  ],
};

export const PERSONAS: readonly Persona[] = [john, alice, bob, ciBot, mallory];

export function personaNamed(userName: string): Persona | undefined {
  return PERSONAS.find((persona) => persona.caller.userName === userName);
}

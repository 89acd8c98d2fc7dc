/*
 * Who may call the demo services, with which credential and which permissions: the demo's stand-in
 * for an identity provider and a policy store. The services authenticate and authorize against it;
 * the traffic generator picks its credentials from it.
 */
import type { AuditIdentity } from '@crumbtrail/instrumentation';
import { ACCOUNT_ID, userArn } from './account.js';

export interface DemoCaller {
  userName: string;
  identity: AuditIdentity;
  /** `<service>:<eventName>` actions this caller may perform; `<service>:*` and `*` are wildcards. */
  allowed: readonly string[];
  /** The secret an SDK or CLI sends in `x-api-key` (the audit trail records only its fingerprint). */
  apiKey?: string;
  /** A session the console signed the caller in with, sent by the browser as a cookie. */
  consoleSession?: ConsoleSession;
}

export interface ConsoleSession {
  token: string;
  /** The temporary credential the session stands for: the events' userIdentity.accessKeyId. */
  accessKeyId: string;
}

function iamUser(userName: string, principalId: string): AuditIdentity {
  return { type: 'IAMUser', userName, principalId, arn: userArn(userName), accountId: ACCOUNT_ID };
}

const CI_ROLE = 'ci-deployer';

export const CALLERS: readonly DemoCaller[] = [
  {
    userName: 'John',
    identity: iamUser('John', 'AIDAJOHN00000000001'),
    allowed: ['*'],
    consoleSession: { token: 'demo-console-session-john', accessKeyId: 'ASIAJOHNCONSOLE0001' },
  },
  {
    userName: 'alice',
    identity: iamUser('alice', 'AIDAALICE0000000002'),
    allowed: ['storage:*', 'iam:ListUsers', 'iam:GetUser', 'compute:DescribeInstances'],
    apiKey: 'demo-key-alice-3f9a1c',
  },
  {
    userName: 'bob',
    identity: iamUser('bob', 'AIDABOB000000000003'),
    allowed: ['compute:*', 'storage:GetObject', 'storage:ListBuckets', 'iam:GetUser'],
    apiKey: 'demo-key-bob-7d2e40',
  },
  {
    // Automation signs in by assuming a role, as CI pipelines usually do.
    userName: 'ci-bot',
    identity: {
      type: 'AssumedRole',
      userName: 'ci-bot',
      principalId: 'AROACIDEPLOYER00004:ci-bot',
      arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${CI_ROLE}/ci-bot`,
      accountId: ACCOUNT_ID,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROACIDEPLOYER00004',
          arn: `arn:aws:iam::${ACCOUNT_ID}:role/${CI_ROLE}`,
          accountId: ACCOUNT_ID,
          userName: CI_ROLE,
        },
      },
    },
    allowed: [
      'compute:RunInstances',
      'compute:TerminateInstances',
      'compute:DescribeInstances',
      'storage:PutObject',
      'storage:GetObject',
      'storage:DeleteObject',
      'storage:ListBuckets',
    ],
    apiKey: 'demo-key-ci-bot-a41b07',
  },
  {
    // A valid key with no permissions at all: every call is denied.
    userName: 'mallory',
    identity: iamUser('mallory', 'AIDAMALLORY00000005'),
    allowed: [],
    apiKey: 'demo-key-mallory-0bad00',
  },
];

export function callerNamed(userName: string): DemoCaller | undefined {
  return CALLERS.find((caller) => caller.userName === userName);
}

export function callerForApiKey(apiKey: string): DemoCaller | undefined {
  return CALLERS.find((caller) => caller.apiKey === apiKey);
}

export function callerForConsoleSession(token: string): DemoCaller | undefined {
  return CALLERS.find((caller) => caller.consoleSession?.token === token);
}

/** Whether the caller may perform `action` (e.g. "iam:DeleteUser"). */
export function isAllowed(caller: DemoCaller, action: string): boolean {
  const service = action.slice(0, action.indexOf(':'));
  return caller.allowed.some((grant) => grant === '*' || grant === action || grant === `${service}:*`);
}

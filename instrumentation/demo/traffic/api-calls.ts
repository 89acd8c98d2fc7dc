/*
 * The API calls the traffic generator makes, with what each needs, and what came back. Both live
 * traffic (real HTTP to the services) and the backfill (spans with past times) use these.
 */

export type ApiCall =
  | { api: 'CreateUser'; userName: string }
  | { api: 'DeleteUser'; userName: string }
  | { api: 'AttachUserPolicy'; userName: string; policyArn: string }
  | { api: 'ListUsers' }
  | { api: 'GetUser'; userName: string }
  | { api: 'RunInstances'; imageId: string; instanceType: string }
  | { api: 'TerminateInstances'; instanceId: string }
  | { api: 'DescribeInstances' }
  | { api: 'ListBuckets' }
  | { api: 'PutObject'; bucket: string; key: string; content: string }
  | { api: 'GetObject'; bucket: string; key: string }
  | { api: 'DeleteObject'; bucket: string; key: string };

export type ApiName = ApiCall['api'];

export type ApiCallOf<Name extends ApiName> = Extract<ApiCall, { api: Name }>;

/** What a call came back with: the status, the error when it failed, and what it created. */
export interface CallOutcome {
  status: number;
  errorCode?: string;
  errorMessage?: string;
  /** The instance a RunInstances call launched. */
  instanceId?: string;
}

export function succeeded(outcome: CallOutcome): boolean {
  return outcome.status < 400;
}

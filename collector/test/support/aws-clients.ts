/*
 * The real AWS command-line clients, run as a user would run them against crumbtrail: AWS CLI v1
 * (Python, in this machine image) and Debian's AWS CLI v2 (package awscli, installed by the test
 * setup). Each run is isolated from any AWS configuration on the machine, has no pager, and is
 * killed if it outlives its time limit.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { killedOnExit, stopChild } from './child-processes.js';

export interface AwsCli {
  /** "v1" or "v2". */
  name: string;
  path: string;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI's major version, from `aws --version`. */
function majorVersion(path: string): string | undefined {
  try {
    const output = execFileSync(path, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return /aws-cli\/(\d+)\./.exec(output)?.[1];
  } catch {
    return undefined;
  }
}

/** Both CLIs; throws naming what is missing (the suite needs both, it does not skip). */
export function awsClis(): AwsCli[] {
  const candidates = (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, 'aws'))
    .filter(existsSync);
  const byVersion = new Map<string, string>();
  for (const path of [...new Set(candidates)]) {
    const major = majorVersion(path);
    if (major !== undefined && !byVersion.has(major)) byVersion.set(major, path);
  }
  const missing = [
    ['1', 'AWS CLI v1 (pip install awscli; this machine image has it)'],
    ['2', "AWS CLI v2 (Debian's awscli package: npm test's pretest installs it as root)"],
  ].filter(([major]) => !byVersion.has(major!));
  if (missing.length > 0) throw new Error(`the tests need ${missing.map(([, what]) => what).join(' and ')}`);
  return [
    { name: 'v1', path: byVersion.get('1')! },
    { name: 'v2', path: byVersion.get('2')! },
  ];
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const CLI_TIMEOUT_MS = 120_000;

export async function runAwsCli(
  cli: AwsCli,
  args: string[],
  credentials: Credentials,
  /** More environment, e.g. AWS_ENDPOINT_URL_S3 for the S3 calls of validate-logs. */
  env: Record<string, string> = {},
): Promise<CliResult> {
  const child = killedOnExit(
    spawn(cli.path, args, {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        AWS_CONFIG_FILE: '/dev/null',
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        ...(credentials.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: credentials.sessionToken }),
        AWS_PAGER: '',
        AWS_EC2_METADATA_DISABLED: 'true',
        // The default retry mode's attempts would only slow a failing test down.
        AWS_MAX_ATTEMPTS: '2',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close', not 'exit': the output is complete only once the pipes are.
  const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
  const timer = setTimeout(() => void stopChild(child, 1000), CLI_TIMEOUT_MS);
  try {
    const code = await closed;
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

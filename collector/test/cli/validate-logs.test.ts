/*
 * `crumbtrail validate-logs` on bad input: each gets a clear message and usage status 2 (or 1 when
 * the trail cannot be validated), and none creates anything (a mistyped --db must not become an
 * empty database whose silence reads as "every event deleted").
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/lookup-events-command.js';
import { runValidateLogs } from '../../src/cli/validate-logs-command.js';
import { tempDir } from '../unit/builders.js';

const temp = tempDir('crumbtrail-validate-cli-');
after(() => {
  temp.remove();
});
const ARN = 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/crumbtrail';

async function run(
  overrides: Partial<Parameters<typeof runValidateLogs>[0]>,
): Promise<{ code: number; stderr: string; stdout?: string }> {
  let stderr = '';
  let stdout = '';
  const io: CliIo = {
    fetch: () => assert.fail('validate-logs works offline'),
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    setExitCode: () => assert.fail('the run function returns its status'),
  };
  const trailDir = join(temp.dir, 'trail');
  mkdirSync(trailDir, { recursive: true });
  const code = await runValidateLogs(
    {
      trailArn: ARN,
      startTime: Date.UTC(2026, 0, 1),
      trailDir,
      retentionDays: 90,
      verbose: false,
      publicKeys: join(temp.dir, 'none.json'),
      ...overrides,
    },
    io,
  );
  return code === 0 ? { code, stderr, stdout } : { code, stderr };
}

describe('crumbtrail validate-logs, bad input', () => {
  it('refuses an ARN that is not a trail ARN', async () => {
    assert.deepEqual(await run({ trailArn: 'arn:aws:s3:::bucket' }), {
      code: 2,
      stderr: 'Invalid trail ARN provided: arn:aws:s3:::bucket\n',
    });
  });

  it('refuses a start after the end', async () => {
    const result = await run({ startTime: Date.UTC(2026, 0, 2), endTime: Date.UTC(2026, 0, 1) });
    assert.deepEqual(result, {
      code: 2,
      stderr: 'Invalid time range specified: start-time must occur before end-time\n',
    });
  });

  it('refuses a database that does not exist, and does not create it', async () => {
    const db = join(temp.dir, 'typo.db');
    assert.deepEqual(await run({ db }), { code: 2, stderr: `No database at ${db}\n` });
    assert.equal(existsSync(db), false);
  });

  it('refuses a trail folder that does not exist', async () => {
    const trailDir = join(temp.dir, 'no-such-trail');
    const result = await run({ trailDir });
    assert.deepEqual(result, { code: 2, stderr: `No trail folder at ${trailDir}\n` });
  });

  it('reports an empty folder as "No digests found", not as valid', async () => {
    const result = await run({});
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
    assert.match(
      result.stdout ?? '',
      /Results requested for 2026-01-01T00:00:00Z to .*\nNo digests found\n$/,
    );
  });
});

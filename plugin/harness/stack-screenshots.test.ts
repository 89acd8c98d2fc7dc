/*
 * captureStackScreenshots against a collector the harness did not start (the story collector,
 * started here as an end-to-end test starts its own): both themes saved, the insight reported as
 * drawn; and a clear failure when the page cannot render (a wrong API token).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { STORY, type StoryCollector, startStoryCollector } from '../test-support/story-collector';
import { captureStackScreenshots } from './stack-screenshots';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let collector: StoryCollector | undefined;
const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-stack-screenshots-'));

before(async () => {
  collector = await startStoryCollector();
});

after(async () => {
  try {
    await collector?.stop();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

function collectorUrl(): string {
  assert.ok(collector !== undefined, 'the story collector did not start');
  return collector.apiUrl;
}

test('saves dark and light screenshots of any collector, and reports the insight regions drawn', async () => {
  const shots = await captureStackScreenshots({
    collectorUrl: collectorUrl(),
    apiToken: STORY.apiToken,
    fromMs: STORY.startMs,
    toMs: STORY.endMs,
    directory,
    namePrefix: 'story',
  });
  assert.deepEqual([shots.dark, shots.light], [join(directory, 'story-dark.png'), join(directory, 'story-light.png')]);
  for (const file of [shots.dark, shots.light]) {
    assert.deepEqual(readFileSync(file).subarray(0, 8), PNG_SIGNATURE, `${file} is a PNG`);
  }
  assert.equal(shots.rows, 100);
  assert.equal(shots.series, 5);
  assert.deepEqual(shots.regions, [
    {
      title: 'Unusual call rate: RunInstances',
      startMs: Date.parse('2026-03-02T10:00:00Z'),
      endMs: Date.parse('2026-03-02T10:10:00Z'),
    },
  ]);
});

test('fails with the reason when the page cannot render: a wrong API token', async () => {
  await assert.rejects(
    captureStackScreenshots({
      collectorUrl: collectorUrl(),
      apiToken: 'not-the-token',
      fromMs: STORY.startMs,
      toMs: STORY.endMs,
      directory,
      namePrefix: 'wrong-token',
    }),
    /stack screenshot \(dark\) of .*: the event history failed: .*API token/
  );
  assert.equal(existsSync(join(directory, 'wrong-token-dark.png')), false);
  assert.equal(existsSync(join(directory, 'wrong-token-dark-failed.png')), true);
});

/*
 * Once per jest run: the real collector with the audit story, behind the data-proxy stand-in.
 * Test files read where they are from the environment (workers inherit it).
 */
import { startDataProxy } from './grafana-data-proxy';
import { STORY, startStoryCollector } from './story-collector';

export const DATASOURCE_UID = 'crumbtrail-test';

export default async function globalSetup(): Promise<void> {
  const collector = await startStoryCollector();
  const proxy = await startDataProxy({ uid: DATASOURCE_UID, collectorUrl: collector.apiUrl, apiToken: STORY.apiToken });
  process.env.CRUMBTRAIL_TEST_COLLECTOR_URL = collector.apiUrl;
  process.env.CRUMBTRAIL_TEST_GRAFANA_ORIGIN = proxy.origin;
  process.env.CRUMBTRAIL_TEST_INSTANCE_URL = proxy.instanceUrl;
  // globalTeardown runs in the same process: hand it what to stop.
  (globalThis as { crumbtrailTeardown?: () => Promise<void> }).crumbtrailTeardown = async () => {
    await proxy.close();
    await collector.stop();
  };
}

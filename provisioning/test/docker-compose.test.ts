import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ComposeContext, composeConfig, composeProblems, mountsOf } from './support/compose-checks.js';
import { type JsonObject, objectAt, stringsAt } from './support/json-shapes.js';
import {
  dashboardProviderPaths,
  grafanaProvisioningVariables,
  loadPluginIds,
  prometheusTargets,
} from './support/provisioning-model.js';
import { REPO_ROOT, repoPath } from './support/repo-files.js';
import { satisfiesRange } from './support/version-range.js';

const COMPOSE_FILE = repoPath('docker-compose.yml');
const context: ComposeContext = {
  projectDir: REPO_ROOT,
  plugins: loadPluginIds(),
  grafanaProvisioningVariables: grafanaProvisioningVariables(),
  dashboardProviderPaths: dashboardProviderPaths(),
  prometheusTargets: prometheusTargets(),
};

function resolvedConfig(): JsonObject {
  const run = composeConfig(COMPOSE_FILE);
  assert.equal(run.status, 0, `docker-compose config failed:\n${run.output}`);
  assert.ok(run.config !== undefined, `docker-compose config printed no services:\n${run.output}`);
  return run.config;
}

function service(config: JsonObject, name: string): JsonObject {
  return objectAt(objectAt(config, 'services'), name);
}

describe('docker-compose.yml', () => {
  const config = resolvedConfig();

  it('docker-compose config resolves it', () => {
    assert.ok(Object.keys(objectAt(config, 'services')).length >= 4);
  });

  it('cross-references: mounts, images, plugins, provisioning, variables and addresses all agree', () => {
    assert.deepEqual(composeProblems(config, context), []);
  });

  it('provisioning needs these variables, and the stack sets them', () => {
    assert.deepEqual(context.grafanaProvisioningVariables, [
      'CRUMBTRAIL_ALERT_WEBHOOK_URL',
      'CRUMBTRAIL_API_TOKEN',
      'CRUMBTRAIL_URL',
    ]);
    assert.equal(objectAt(service(config, 'grafana'), 'environment').CRUMBTRAIL_URL, 'http://collector:8790');
  });

  it('the collector keeps its SQLite file in a volume and publishes OTLP and the query API', () => {
    const collector = service(config, 'collector');
    assert.deepEqual(
      mountsOf(collector).map((mount) => mount.target),
      ['/data'],
    );
    assert.deepEqual(collector.ports, ['127.0.0.1:4318:4318/tcp', '127.0.0.1:8790:8790/tcp']);
  });
});

describe('docker-compose.yml, scale-out profile', () => {
  const config = resolvedConfig();

  it('runs two collectors on one ClickHouse, each publishing its own ports', () => {
    const names = ['collector-ch-a', 'collector-ch-b'];
    for (const name of names) {
      const collector = service(config, name);
      assert.deepEqual(stringsAt(collector, 'profiles'), ['scale-out']);
      const environment = objectAt(collector, 'environment');
      assert.equal(environment.CRUMBTRAIL_STORE, 'clickhouse');
      assert.equal(environment.CRUMBTRAIL_CLICKHOUSE_URL, 'http://clickhouse:8123');
      assert.equal(
        environment.CRUMBTRAIL_CLICKHOUSE_PASSWORD,
        objectAt(service(config, 'clickhouse'), 'environment').CLICKHOUSE_PASSWORD,
      );
    }
    const published = names.flatMap((name) => stringsAt(service(config, name), 'ports'));
    assert.equal(new Set(published).size, 4, 'no port published twice');
    assert.deepEqual(stringsAt(service(config, 'clickhouse'), 'profiles'), ['scale-out']);
  });
});

describe('the compose checks catch broken stacks', () => {
  const config = resolvedConfig();
  const problemsAfter = (change: (copy: JsonObject) => void) => {
    const copy = structuredClone(config);
    change(copy);
    return composeProblems(copy, context);
  };
  const expectProblem = (problems: string[], pattern: RegExp) => {
    assert.ok(
      problems.some((problem) => pattern.test(problem)),
      `expected a problem matching ${String(pattern)}, got ${JSON.stringify(problems)}`,
    );
  };

  it('a Grafana older than the plugins support, or not pinned', () => {
    expectProblem(
      problemsAfter((copy) => (service(copy, 'grafana').image = 'grafana/grafana:11.6.0')),
      /does not satisfy .*>=12\.3\.0/,
    );
    expectProblem(
      problemsAfter((copy) => (service(copy, 'grafana').image = 'grafana/grafana:latest')),
      /pinned to a version/,
    );
  });

  it('a plugin not allowed unsigned, or provisioning a variable Grafana is not given', () => {
    expectProblem(
      problemsAfter(
        (copy) =>
          (objectAt(service(copy, 'grafana'), 'environment').GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS =
            'crumbtrail-audit-datasource'),
      ),
      /must list crumbtrail-eventhistory-panel/,
    );
    expectProblem(
      problemsAfter((copy) => delete objectAt(service(copy, 'grafana'), 'environment').CRUMBTRAIL_URL),
      /reads \$\{CRUMBTRAIL_URL\}/,
    );
  });

  it('a mount of a path that does not exist, and provisioning mounted elsewhere', () => {
    expectProblem(
      problemsAfter((copy) => {
        const grafana = service(copy, 'grafana');
        grafana.volumes = [
          ...stringsAt(grafana, 'volumes'),
          `${repoPath('provisioning/plugins')}:/etc/grafana/provisioning/plugins:ro`,
        ];
      }),
      /mounts provisioning\/plugins, which does not exist/,
    );
    expectProblem(
      problemsAfter((copy) => {
        const grafana = service(copy, 'grafana');
        grafana.volumes = stringsAt(grafana, 'volumes').map((volume) =>
          volume.replace('/etc/grafana/provisioning/dashboards', '/dashboards'),
        );
      }),
      /the dashboard provider reads \/etc\/grafana\/provisioning\/dashboards/,
    );
  });

  it('addresses of services or ports that do not exist', () => {
    expectProblem(
      problemsAfter(
        (copy) =>
          (objectAt(service(copy, 'grafana'), 'environment').CRUMBTRAIL_URL = 'http://collector:4319'),
      ),
      /collector does not listen on port 4319/,
    );
    expectProblem(
      problemsAfter((copy) => delete objectAt(copy, 'services').collector),
      /prometheus scrapes collector:8790, but there is no collector service/,
    );
  });

  it('a Dockerfile target that does not exist, and a token the two sides disagree on', () => {
    expectProblem(
      problemsAfter((copy) => (objectAt(service(copy, 'demo'), 'build').target = 'demo-services')),
      /target demo-services/,
    );
    expectProblem(
      problemsAfter(
        (copy) => (objectAt(service(copy, 'collector'), 'environment').CRUMBTRAIL_API_TOKEN = 'other'),
      ),
      /same CRUMBTRAIL_API_TOKEN/,
    );
  });

  it('docker-compose config itself refuses an invalid file', () => {
    const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-compose-'));
    try {
      const broken = readFileSync(COMPOSE_FILE, 'utf8').replace(
        '    image: grafana/grafana:',
        '    imag: grafana/grafana:',
      );
      writeFileSync(join(directory, 'docker-compose.yml'), broken);
      const run = composeConfig(join(directory, 'docker-compose.yml'));
      assert.notEqual(run.status, 0);
      assert.match(run.output, /imag/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('grafanaDependency ranges', () => {
  it('compares versions as plugin.json ranges mean them', () => {
    assert.equal(satisfiesRange('13.1.1', '>=12.3.0'), true);
    assert.equal(satisfiesRange('12.3.0', '>=12.3.0'), true);
    assert.equal(satisfiesRange('12.2.9', '>=12.3.0'), false);
    assert.equal(satisfiesRange('12.10.0', '>=12.3.0'), true);
    assert.equal(satisfiesRange('13.0.0', '>=12.3.0 <13'), false);
    assert.equal(satisfiesRange('11.6.0', '>= 12.3.0 || 11.6.0'), true);
    // Operators it does not know are refused rather than guessed.
    assert.throws(() => satisfiesRange('11.6.0', '~11.6'), /not a version/);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

import { FRAME_SOURCES, frameFields } from './support/frame-fields.js';
import { grafanaRulesOf } from './support/alert-rule-checks.js';
import { objectsAt, stringAt } from './support/json-shapes.js';
import { contactPointsOf } from './support/notification-checks.js';
import { loadPluginIds, loadProvisioning } from './support/provisioning-model.js';
import { parseText, provisioningFiles, readParsed, relativeToRepo, repoPath } from './support/repo-files.js';
import { QueryType } from '../../plugin/src/types.js';

function duplicates(values: string[]): string[] {
  return values.filter((value, index) => values.indexOf(value) !== index);
}

describe('provisioning files', () => {
  const provisioning = loadProvisioning();
  const plugins = loadPluginIds();

  it('every YAML and JSON file parses', () => {
    const files = provisioningFiles();
    assert.ok(
      files.length >= 10,
      `expected the provisioning files, found ${files.map(relativeToRepo).join(', ')}`,
    );
    const failures = files.flatMap((file) => {
      try {
        readParsed(file);
        return [];
      } catch (error) {
        return [`${relativeToRepo(file)}: ${error instanceof Error ? error.message : String(error)}`];
      }
    });
    assert.deepEqual(failures, []);
  });

  it('the parser rejects broken YAML and duplicate keys instead of guessing', () => {
    assert.throws(() => parseText('datasources:\n  - name: a\n   uid: b\n', 'broken.yml'));
    assert.throws(() => parseText('uid: a\nuid: b\n', 'duplicate.yml'), /unique/i);
    assert.throws(() => parseText('{"uid": "a",}', 'broken.json'));
  });

  it('uids are unique: datasources, dashboards, alert rules, contact points', () => {
    const rules = provisioning.alertRuleFiles.flatMap(({ document }) => grafanaRulesOf(document));
    const receivers = contactPointsOf(provisioning.contactPointFiles.map(({ document }) => document)).flatMap(
      (point) => point.receivers,
    );
    const uids = {
      datasources: provisioning.datasources.map((datasource) => datasource.uid),
      dashboards: provisioning.dashboards.map(({ json }) => stringAt(json, 'uid') ?? ''),
      'alert rules': rules.map((rule) => rule.uid),
      'contact points': receivers.map((receiver) => stringAt(receiver, 'uid') ?? ''),
    };
    for (const [kind, values] of Object.entries(uids)) {
      assert.ok(values.length > 0, `no ${kind}`);
      assert.ok(!values.includes(''), `a ${kind} entry has no uid`);
      assert.deepEqual(duplicates(values), [], `duplicate ${kind} uids`);
    }
    assert.deepEqual(duplicates(rules.map((rule) => rule.title)), [], 'duplicate alert rule titles');
  });

  it('the datasources are the crumbtrail plugin and Prometheus, with the uids dashboards and rules use', () => {
    const byUid = new Map(provisioning.datasources.map((datasource) => [datasource.uid, datasource]));
    assert.equal(byUid.get('crumbtrail')?.type, plugins.datasource);
    assert.equal(byUid.get('prometheus')?.type, 'prometheus');
    for (const file of ['crumbtrail.yml', 'prometheus.yml']) {
      const [entry] = objectsAt(readParsed(repoPath('provisioning/datasources', file)), 'datasources');
      assert.equal(stringAt(entry, 'access'), 'proxy', `${file}: Grafana's server must call the datasource`);
      assert.ok(stringAt(entry, 'name'), `${file}: needs a name`);
    }
  });

  it('plugin ids come from the plugins, and the panel is nested in the datasource plugin', () => {
    assert.equal(plugins.datasource, 'crumbtrail-audit-datasource');
    assert.equal(plugins.panel, 'crumbtrail-eventhistory-panel');
    // Grafana loads a nested plugin (dist/panel) with its parent: one folder to mount.
    assert.ok(existsSync(repoPath('plugin/src/panel/plugin.json')));
    assert.ok(
      !plugins.grafanaDependencies.includes(''),
      'each plugin.json names the Grafana versions it supports',
    );
  });

  it("the frame field names the checks rely on are the ones the datasource's frame builders write", () => {
    // The events frame's names are the plugin's EventField constant itself; the other two are copies.
    for (const queryType of [QueryType.Insights, QueryType.CallRate]) {
      const source = readFileSync(repoPath(FRAME_SOURCES[queryType]), 'utf8');
      for (const field of frameFields(queryType)) {
        assert.ok(
          source.includes(`name: '${field}'`),
          `${FRAME_SOURCES[queryType]} no longer writes a field "${field}"`,
        );
      }
    }
  });
});

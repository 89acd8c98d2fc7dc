import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { grafanaRulesOf, ruleQueries } from './support/alert-rule-checks.js';
import { type JsonObject, objectAt, objectsAt, stringsAt } from './support/json-shapes.js';
import { prometheusAlertsOf } from './support/prometheus-rules.js';
import { loadProvisioning, PROMETHEUS_CONFIG } from './support/provisioning-model.js';
import { readParsed, repoPath } from './support/repo-files.js';
import { promtool } from './support/tools.js';

const RULES_DIR = repoPath('provisioning/prometheus/rules');
const RULES_FILE = join(RULES_DIR, 'crumbtrail.rules.yml');
const RULES_TEST = join(RULES_DIR, 'crumbtrail.rules.test.yml');

function assertSucceeds(args: string[], cwd?: string) {
  const run = promtool(args, cwd);
  assert.equal(run.status, 0, `promtool ${args.join(' ')} failed:\n${run.output}`);
}

/** Annotations Grafana uses for itself (dashboard and panel links) have no Prometheus counterpart. */
function withoutGrafanaAnnotations(annotations: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => !key.startsWith('__')));
}

/** The threshold of a Grafana rule's threshold expression: [evaluator type, first param]. */
function threshold(rule: JsonObject): [string, number] {
  const node = objectsAt(rule, 'data').find((data) => objectAt(data, 'model').type === 'threshold');
  const [condition] = objectsAt(objectAt(node, 'model'), 'conditions');
  const evaluator = objectAt(condition, 'evaluator');
  const params = evaluator.params;
  return [String(evaluator.type), Array.isArray(params) ? Number(params[0]) : Number.NaN];
}

describe('Prometheus configuration and alert rules', () => {
  it('promtool check config accepts prometheus.yml and its rule file', () => {
    assertSucceeds(['check', 'config', PROMETHEUS_CONFIG]);
  });

  it('promtool check rules accepts the rule file', () => {
    assertSucceeds(['check', 'rules', RULES_FILE]);
  });

  it('promtool test rules: an insight goes pending, fires and resolves; error rates; no alert for others', () => {
    assertSucceeds(['test', 'rules', 'crumbtrail.rules.test.yml'], RULES_DIR);
  });

  it('scrapes the collector /metrics every 15 s and loads the rule file', () => {
    const config = readParsed(PROMETHEUS_CONFIG);
    assert.equal(objectAt(config, 'global').scrape_interval, '15s');
    assert.deepEqual(stringsAt(config, 'rule_files'), ['rules/crumbtrail.rules.yml']);
    const [scrape] = objectsAt(config, 'scrape_configs');
    assert.equal(scrape?.metrics_path, '/metrics');
    assert.deepEqual(objectsAt(scrape, 'static_configs')[0]?.targets, ['collector:8790']);
  });

  it('the rule file stands alone: no group interval overrides the evaluation interval a config sets', () => {
    for (const group of objectsAt(readParsed(RULES_FILE), 'groups')) assert.equal(group.interval, undefined);
  });

  it('Grafana and Prometheus alert on the same conditions, with the same names, labels and annotations', () => {
    const prometheus = prometheusAlertsOf(readParsed(RULES_FILE));
    const grafana = loadProvisioning().alertRuleFiles.flatMap(({ document }) => grafanaRulesOf(document));
    assert.deepEqual(
      grafana.map((rule) => rule.title).sort(),
      prometheus.map((alert) => alert.alert).sort(),
      'Grafana rule titles and Prometheus alert names differ',
    );
    assert.deepEqual(prometheus.map((alert) => alert.alert).sort(), [
      'CrumbtrailInsightsStalled',
      'CrumbtrailTrailStalled',
      'CrumbtrailUnusualCallRate',
      'CrumbtrailUnusualErrorRate',
    ]);
    for (const alert of prometheus) {
      const rule = grafana.find((candidate) => candidate.title === alert.alert)?.rule ?? {};
      assert.equal(rule.for, alert.for, `${alert.alert}: for`);
      assert.deepEqual(objectAt(rule, 'labels'), alert.labels, `${alert.alert}: labels`);
      assert.deepEqual(
        withoutGrafanaAnnotations(objectAt(rule, 'annotations')),
        alert.annotations,
        `${alert.alert}: annotations`,
      );
      // Prometheus: "<Grafana's query> <comparison>"; Grafana: the query, then a threshold.
      const [query] = ruleQueries(rule);
      assert.ok(
        query !== undefined && alert.expr.startsWith(query),
        `${alert.alert}: ${alert.expr} is not ${String(query)} compared`,
      );
      const comparison = alert.expr.slice(query.length).trim();
      const [type, limit] = threshold(rule);
      if (comparison === '== 1') {
        // A 0/1 gauge: "== 1" is "above anything between 0 and 1".
        assert.ok(
          type === 'gt' && limit >= 0 && limit < 1,
          `${alert.alert}: == 1 against ${type} ${String(limit)}`,
        );
      } else {
        assert.equal(comparison, `> ${String(limit)}`, `${alert.alert}: comparison`);
        assert.equal(type, 'gt');
      }
    }
  });
});

describe('promtool catches broken rules', () => {
  /** Runs the unit tests against a changed copy of the rule file. */
  function testRulesAfter(change: (rules: string) => string): { status: number | null; output: string } {
    const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-rules-'));
    try {
      cpSync(RULES_TEST, join(directory, 'crumbtrail.rules.test.yml'));
      const original = readFileSync(RULES_FILE, 'utf8');
      const changed = change(original);
      assert.notEqual(changed, original, 'the change did not apply');
      writeFileSync(join(directory, 'crumbtrail.rules.yml'), changed);
      return promtool(['test', 'rules', 'crumbtrail.rules.test.yml'], directory);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }

  it('an alert that fires at once instead of waiting for its `for`', () => {
    const run = testRulesAfter((rules) => rules.replace('for: 1m', 'for: 0s'));
    assert.notEqual(run.status, 0);
    assert.match(run.output, /CrumbtrailUnusualCallRate/);
  });

  it('an alert that fires for APIs without an insight', () => {
    const run = testRulesAfter((rules) =>
      rules.replace(
        'crumbtrail_insight_active{insight_type="ApiCallRateInsight"} == 1',
        'crumbtrail_insight_active >= 0',
      ),
    );
    assert.notEqual(run.status, 0);
    assert.match(run.output, /ListUsers/);
  });

  it('a renamed alert', () => {
    const run = testRulesAfter((rules) =>
      rules.replace('alert: CrumbtrailUnusualErrorRate', 'alert: CrumbtrailErrors'),
    );
    assert.notEqual(run.status, 0);
  });

  it('a rule file that does not parse', () => {
    const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-rules-'));
    try {
      writeFileSync(
        join(directory, 'bad.rules.yml'),
        'groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: rate(x[5m]\n',
      );
      assert.notEqual(promtool(['check', 'rules', join(directory, 'bad.rules.yml')]).status, 0);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

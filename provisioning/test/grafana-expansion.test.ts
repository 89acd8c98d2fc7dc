/*
 * The provisioned files as Grafana's server reads them: every label, annotation and setting after
 * Grafana's environment-variable expansion (support/grafana-expansion.ts models Grafana's code; no
 * Grafana server can run here). The final text of each alert label and annotation is then handed
 * to a real Prometheus template engine (promtool test rules, Go text/template like Grafana's
 * alerting), so "the label says which API" is checked on rendered text, not on the YAML.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

import { grafanaRulesOf } from './support/alert-rule-checks.js';
import {
  type Environment,
  goExpandEnv,
  grafanaInterpolate,
  type ProvisionedValue,
  type ProvisioningKind,
  provisionedValues,
  withBracedAnnotations,
} from './support/grafana-expansion.js';
import { objectAt, objectsAt } from './support/json-shapes.js';
import { prometheusAlertsOf } from './support/prometheus-rules.js';
import { grafanaProvisioningVariables } from './support/provisioning-model.js';
import { PROVISIONING_DIR, readParsed, relativeToRepo, repoPath } from './support/repo-files.js';
import { promtool } from './support/tools.js';

/** The environment docker-compose.yml and the README give Grafana, with values to recognise. */
const ENVIRONMENT: Environment = {
  CRUMBTRAIL_URL: 'http://collector:8790',
  CRUMBTRAIL_API_TOKEN: 'token-from-env',
  CRUMBTRAIL_ALERT_WEBHOOK_URL: 'https://hooks.example.com/crumbtrail',
};

const FILES: Array<{ kind: ProvisioningKind; file: string }> = [
  { kind: 'datasources', file: 'datasources/crumbtrail.yml' },
  { kind: 'datasources', file: 'datasources/prometheus.yml' },
  { kind: 'dashboard-providers', file: 'dashboards/crumbtrail.yml' },
  { kind: 'alert-rules', file: 'alerting/rules.yml' },
  { kind: 'contact-points', file: 'alerting/contact-points.yml' },
  { kind: 'policies', file: 'alerting/policies.yml' },
].map(({ kind, file }) => ({ kind: kind as ProvisioningKind, file: join(PROVISIONING_DIR, file) }));

/** What a value should become: the documented `${VAR}`s replaced, and nothing else touched. */
function intended(raw: string): string {
  return raw.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => ENVIRONMENT[name] ?? whole);
}

function valuesOf(kind: ProvisioningKind, file: string): ProvisionedValue[] {
  return provisionedValues(kind, readParsed(file), ENVIRONMENT);
}

describe("Grafana's expansion rules, as modelled", () => {
  it('follow Go os.ExpandEnv and the $$ escape', () => {
    const environment = { A: 'x', B_2: 'y' };
    assert.equal(goExpandEnv('$A ${B_2} $MISSING.', environment), 'x y .');
    assert.equal(goExpandEnv('{{ $labels.event_source }}', environment), '{{ .event_source }}');
    assert.equal(goExpandEnv('cost: 5$ and ${} and $ {', environment), 'cost: 5$ and  and $ {');
    assert.equal(goExpandEnv('$1$$', environment), '');
    assert.equal(grafanaInterpolate('{{ $$labels.x }} $$A $A', environment), '{{ $labels.x }} $A x');
    assert.equal(grafanaInterpolate('$__env{A}/$__env{B_2}', environment), 'x/y');
  });
});

describe('provisioned files after Grafana expands them', () => {
  for (const { kind, file } of FILES) {
    it(`${relativeToRepo(file)}: every value is as written, with only the documented \${VAR}s replaced`, () => {
      const changed = valuesOf(kind, file)
        .filter((value) => value.final !== intended(value.raw))
        .map(
          (value) =>
            `${value.path} (${value.expansion}): ${JSON.stringify(value.raw)} → ${JSON.stringify(value.final)}`,
        );
      assert.deepEqual(changed, [], 'Grafana would change these values: write a literal $ as $$, or avoid $');
    });
  }

  it('the documented variables are the only ones: each is set in the test environment', () => {
    assert.deepEqual(grafanaProvisioningVariables(), Object.keys(ENVIRONMENT).sort());
  });

  it('datasource and contact point settings come from the environment', () => {
    const final = (file: string, kind: ProvisioningKind) =>
      Object.fromEntries(
        valuesOf(kind, join(PROVISIONING_DIR, file)).map((value) => [value.path, value.final]),
      );
    const crumbtrail = final('datasources/crumbtrail.yml', 'datasources');
    assert.equal(crumbtrail['datasources[0].jsonData.collectorUrl'], 'http://collector:8790');
    assert.equal(crumbtrail['datasources[0].secureJsonData.apiToken'], 'token-from-env');
    const points = final('alerting/contact-points.yml', 'contact-points');
    assert.equal(
      points['contactPoints[0].receivers[0].settings.url'],
      'https://hooks.example.com/crumbtrail',
    );
  });

  it('alert labels and annotations keep their alert templates (today and with newer Grafana)', () => {
    const rulesFile = join(PROVISIONING_DIR, 'alerting/rules.yml');
    for (const override of [undefined, withBracedAnnotations]) {
      const final = provisionedValues('alert-rules', readParsed(rulesFile), ENVIRONMENT, override);
      const labels = final.filter((value) => /\.labels\./.test(value.path));
      assert.deepEqual(
        labels.filter((value) => value.path.endsWith('.api')).map((value) => value.final),
        [
          '{{ .Labels.event_source }}/{{ .Labels.event_name }}',
          '{{ .Labels.event_source }}/{{ .Labels.event_name }}',
        ],
      );
      for (const value of final.filter((candidate) => candidate.path.endsWith('annotations.summary'))) {
        assert.match(value.final, /\{\{ \$labels\.(event_name|instance) \}\}/, value.path);
      }
    }
  });
});

describe("the final alert labels and annotations, rendered by Prometheus' template engine", () => {
  it('say which API: promtool test rules against the Grafana rules as Grafana stores them', () => {
    const rulesFile = repoPath('provisioning/prometheus/rules/crumbtrail.rules.yml');
    const testFile = repoPath('provisioning/prometheus/rules/crumbtrail.rules.test.yml');
    const grafanaFile = join(PROVISIONING_DIR, 'alerting/rules.yml');
    const finalOf = new Map(
      provisionedValues('alert-rules', readParsed(grafanaFile), ENVIRONMENT).map((value) => [
        value.path,
        value.final,
      ]),
    );
    const grafana = grafanaRulesOf(readParsed(grafanaFile));
    // Prometheus' own file gives the expression (Grafana's is a query plus a threshold node; the
    // two are compared in prometheus.test.ts); labels and annotations are Grafana's final text.
    const alerts = prometheusAlertsOf(readParsed(rulesFile)).map((alert) => {
      const index = grafana.findIndex((rule) => rule.title === alert.alert);
      assert.ok(index >= 0, `no Grafana rule ${alert.alert}`);
      const { rule } = grafana[index] ?? { rule: {} };
      const final = (section: 'labels' | 'annotations') =>
        Object.fromEntries(
          Object.keys(objectAt(rule, section))
            .filter((key) => !key.startsWith('__'))
            .map((key) => [key, finalOf.get(`groups[0].rules[${String(index)}].${section}.${key}`)]),
        );
      return {
        alert: alert.alert,
        expr: alert.expr,
        for: alert.for,
        labels: final('labels'),
        annotations: final('annotations'),
      };
    });
    assert.equal(objectsAt(readParsed(grafanaFile), 'groups').length, 1, 'the paths above assume one group');
    const directory = mkdtempSync(join(tmpdir(), 'crumbtrail-grafana-rules-'));
    try {
      cpSync(testFile, join(directory, basename(testFile)));
      // JSON is YAML: the test file names the rule file by its base name.
      writeFileSync(
        join(directory, basename(rulesFile)),
        JSON.stringify({ groups: [{ name: 'crumbtrail', rules: alerts }] }),
      );
      const run = promtool(['test', 'rules', basename(testFile)], directory);
      assert.equal(
        run.status,
        0,
        `the rendered Grafana labels or annotations differ (${dirname(testFile)}):\n${run.output}`,
      );
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

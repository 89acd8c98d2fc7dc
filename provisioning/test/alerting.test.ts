import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  type AlertContext,
  alertRuleFileProblems,
  grafanaRulesOf,
  ruleProblems,
} from './support/alert-rule-checks.js';
import { type JsonObject, objectAt, objectsAt, stringAt } from './support/json-shapes.js';
import {
  contactPointProblems,
  contactPointsOf,
  hasMatchingRoute,
  policyProblems,
  policyTreesOf,
  receiverFor,
} from './support/notification-checks.js';
import { loadProvisioning } from './support/provisioning-model.js';
import { relativeToRepo } from './support/repo-files.js';

const provisioning = loadProvisioning();
const context: AlertContext = {
  datasources: provisioning.datasources,
  dashboards: new Map(provisioning.dashboards.map(({ json }) => [stringAt(json, 'uid') ?? '', json])),
};
const rules = provisioning.alertRuleFiles.flatMap(({ document }) => grafanaRulesOf(document));
const points = contactPointsOf(provisioning.contactPointFiles.map(({ document }) => document));
const trees = policyTreesOf(provisioning.policyFiles.map(({ document }) => document));

function rule(title: string): JsonObject {
  const found = rules.find((candidate) => candidate.title === title);
  assert.ok(found !== undefined, `no rule ${title}`);
  return found.rule;
}

/** The labels Grafana gives an alert of this rule, templates left as written. */
function alertLabels(title: string): Record<string, string> {
  const found = rules.find((candidate) => candidate.title === title);
  const labels = Object.fromEntries(
    Object.entries(objectAt(found?.rule, 'labels')).map(([key, value]) => [key, String(value)]),
  );
  return { ...labels, alertname: title, grafana_folder: found?.folder ?? '' };
}

describe('Grafana alerting provisioning', () => {
  for (const { file, document } of provisioning.alertRuleFiles) {
    it(`${relativeToRepo(file)}: conditions, expressions, datasources, states and descriptions are valid`, () => {
      assert.deepEqual(alertRuleFileProblems(document, context), []);
    });
  }

  it('alerts on unusual call rates, unusual error rates, a stalled Insights engine and a stalled trail, from Prometheus', () => {
    assert.deepEqual(
      rules.map((entry) => entry.title),
      [
        'CrumbtrailUnusualCallRate',
        'CrumbtrailUnusualErrorRate',
        'CrumbtrailInsightsStalled',
        'CrumbtrailTrailStalled',
      ],
    );
    const queries = (title: string) =>
      objectsAt(rule(title), 'data')
        .filter((data) => data.datasourceUid === 'prometheus')
        .map((data) => stringAt(objectAt(data, 'model'), 'expr'));
    assert.deepEqual(queries('CrumbtrailUnusualCallRate'), [
      'crumbtrail_insight_active{insight_type="ApiCallRateInsight"}',
    ]);
    assert.deepEqual(queries('CrumbtrailUnusualErrorRate'), [
      'crumbtrail_insight_active{insight_type="ApiErrorRateInsight"}',
    ]);
    assert.match(
      queries('CrumbtrailInsightsStalled')[0] ?? '',
      /time\(\) - crumbtrail_insight_last_evaluated_timestamp_seconds/,
    );
    assert.deepEqual(queries('CrumbtrailTrailStalled'), [
      'time() - crumbtrail_trail_last_digest_timestamp_seconds',
    ]);
  });

  it('a webhook contact point whose URL users set, and a policy routing every crumbtrail rule to it', () => {
    assert.deepEqual(contactPointProblems(points), []);
    assert.deepEqual(policyProblems(trees, points), []);
    const [webhook] = points.flatMap((point) => point.receivers);
    assert.equal(stringAt(objectAt(webhook, 'settings'), 'url'), '${CRUMBTRAIL_ALERT_WEBHOOK_URL}');
    const [tree] = trees;
    assert.ok(tree !== undefined, 'no notification policy');
    for (const { title } of rules) {
      assert.ok(hasMatchingRoute(tree, alertLabels(title)), `${title} is only caught by the default route`);
      assert.equal(receiverFor(tree, alertLabels(title)), 'crumbtrail-webhook', title);
    }
  });
});

describe('the alerting checks catch broken rules and policies', () => {
  const problemsAfter = (title: string, change: (copy: JsonObject) => void) => {
    const copy = structuredClone(rule(title));
    change(copy);
    return ruleProblems(copy, context);
  };
  const expectProblem = (problems: string[], pattern: RegExp) => {
    assert.ok(
      problems.some((problem) => pattern.test(problem)),
      `expected a problem matching ${String(pattern)}, got ${JSON.stringify(problems)}`,
    );
  };
  const data = (copy: JsonObject, refId: string) => {
    const found = objectsAt(copy, 'data').find((item) => item.refId === refId);
    assert.ok(found !== undefined);
    return found;
  };

  it('a condition or an expression input that is not a refId of the rule', () => {
    expectProblem(
      problemsAfter('CrumbtrailUnusualCallRate', (copy) => (copy.condition = 'D')),
      /condition "D" is not one of the refIds A, B, C/,
    );
    expectProblem(
      problemsAfter(
        'CrumbtrailUnusualCallRate',
        (copy) => (objectAt(data(copy, 'C'), 'model').expression = 'X'),
      ),
      /C: its input "X" is not another refId/,
    );
    expectProblem(
      problemsAfter('CrumbtrailUnusualCallRate', (copy) => {
        const model = objectAt(data(copy, 'C'), 'model');
        Object.assign(model, { type: 'math', expression: '$B > 0 && $Z' });
      }),
      /C: its input "Z"/,
    );
  });

  it('a datasource that is not provisioned, an invalid state or duration', () => {
    expectProblem(
      problemsAfter('CrumbtrailUnusualErrorRate', (copy) => (data(copy, 'A').datasourceUid = 'mimir')),
      /A: no datasource with uid "mimir"/,
    );
    expectProblem(
      problemsAfter('CrumbtrailUnusualErrorRate', (copy) => (copy.noDataState = 'Ok')),
      /noDataState must be one of/,
    );
    expectProblem(
      problemsAfter('CrumbtrailUnusualErrorRate', (copy) => (copy.for = '1 minute')),
      /for must be a duration/,
    );
  });

  it('a per-API rule whose summary does not say which API, or which insight', () => {
    expectProblem(
      problemsAfter(
        'CrumbtrailUnusualCallRate',
        (copy) => (objectAt(copy, 'annotations').summary = 'Unusual API call rate'),
      ),
      /summary must name the API: \{\{ \$labels\.event_source \}\}/,
    );
    expectProblem(
      problemsAfter('CrumbtrailUnusualErrorRate', (copy) => {
        const annotations = objectAt(copy, 'annotations');
        annotations.description = 'Something is wrong with {{ $labels.event_name }}.';
      }),
      /must name the insight ApiErrorRateInsight/,
    );
  });

  it('a link to a panel that is not on the dashboard', () => {
    expectProblem(
      problemsAfter(
        'CrumbtrailUnusualCallRate',
        (copy) => (objectAt(copy, 'annotations').__panelId__ = '99'),
      ),
      /__panelId__ 99 is not a panel/,
    );
  });

  it('a policy naming a missing contact point, and rules no route catches', () => {
    const [tree] = trees;
    assert.ok(tree !== undefined);
    const broken = structuredClone(tree);
    const [route] = objectsAt(broken, 'routes');
    assert.ok(route !== undefined);
    route.receiver = 'pagerduty';
    assert.match(
      policyProblems([broken], points).join('\n'),
      /route 1: receiver "pagerduty" is not a contact point/,
    );
    const labels = { ...alertLabels('CrumbtrailUnusualCallRate'), source: 'other' };
    assert.equal(hasMatchingRoute(tree, labels), false);
  });
});

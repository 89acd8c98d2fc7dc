import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { type DashboardContext, dashboardProblems } from './support/dashboard-checks.js';
import { annotationsOf, panelsOf, queriesOf, variablesOf } from './support/dashboard-walk.js';
import { type JsonObject, objectAt, objectsAt, stringAt } from './support/json-shapes.js';
import { loadPluginIds, loadProvisioning } from './support/provisioning-model.js';
import { relativeToRepo } from './support/repo-files.js';

const provisioning = loadProvisioning();
const dashboards = new Map(provisioning.dashboards.map(({ json }) => [stringAt(json, 'uid') ?? '', json]));
const context: DashboardContext = {
  datasources: provisioning.datasources,
  plugins: loadPluginIds(),
  dashboards,
};

function dashboard(uid: string): JsonObject {
  const json = dashboards.get(uid);
  assert.ok(json !== undefined, `dashboard ${uid} is not provisioned`);
  return json;
}

function panelByTitle(json: JsonObject, title: string): JsonObject {
  const panel = panelsOf(json).find((candidate) => candidate.title === title);
  assert.ok(panel !== undefined, `no panel "${title}"`);
  return panel;
}

/** The problems of a changed copy of a dashboard (the original stays as provisioned). */
function problemsAfter(uid: string, change: (copy: JsonObject) => void): string[] {
  const copy = structuredClone(dashboard(uid));
  change(copy);
  return dashboardProblems(copy, { ...context, dashboards: new Map([...dashboards, [uid, copy]]) });
}

function firstTarget(json: JsonObject, title: string): JsonObject {
  const [target] = objectsAt(panelByTitle(json, title), 'targets');
  assert.ok(target !== undefined);
  return target;
}

describe('provisioned dashboards', () => {
  it('there is a provider and the dashboards it loads', () => {
    assert.deepEqual([...dashboards.keys()].sort(), ['crumbtrail-audit-trail', 'crumbtrail-event-details']);
  });

  for (const { file, json } of provisioning.dashboards) {
    it(`${relativeToRepo(file)}: datasources, panels, queries, variables, options and links are valid`, () => {
      assert.deepEqual(dashboardProblems(json, context), []);
    });
  }

  it('Audit trail: fixed uid, 30 s refresh, the last 6 hours', () => {
    const json = dashboard('crumbtrail-audit-trail');
    assert.equal(json.title, 'Audit trail');
    assert.equal(json.refresh, '30s');
    assert.deepEqual(json.time, { from: 'now-6h', to: 'now' });
  });

  it('Audit trail: event history, call rate, errors, top users, insights, insight state', () => {
    const json = dashboard('crumbtrail-audit-trail');
    const query = (title: string) => firstTarget(json, title);
    assert.equal(panelByTitle(json, 'Event history').type, 'crumbtrail-eventhistory-panel');
    assert.equal(query('Event history').queryType, 'events');
    assert.deepEqual(
      [query('API calls by event name').queryType, query('API calls by event name').groupBy],
      ['callRate', 'eventName'],
    );
    assert.deepEqual(
      [query('Failed calls by error code').queryType, query('Failed calls by error code').groupBy],
      ['callRate', 'errorCode'],
    );
    assert.equal(panelByTitle(json, 'Top users').type, 'bargauge');
    assert.deepEqual(objectAt(objectAt(panelByTitle(json, 'Top users'), 'options'), 'reduceOptions').calcs, [
      'sum',
    ]);
    assert.equal(query('Top users').groupBy, 'username');
    assert.deepEqual(
      [panelByTitle(json, 'Insights').type, query('Insights').queryType],
      ['table', 'insights'],
    );
    assert.equal(panelByTitle(json, 'Insight state').type, 'state-timeline');
    assert.match(stringAt(query('Insight state'), 'expr') ?? '', /crumbtrail_insight_active/);
  });

  it('Audit trail: insights are Start→End annotation regions from the crumbtrail datasource', () => {
    const annotation = annotationsOf(dashboard('crumbtrail-audit-trail')).find(
      (entry) => entry.name === 'Insights',
    );
    assert.ok(annotation !== undefined);
    assert.deepEqual(annotation.datasource, { type: 'crumbtrail-audit-datasource', uid: 'crumbtrail' });
    assert.equal(objectAt(annotation, 'target').queryType, 'insights');
    assert.equal(annotation.enable, true);
  });

  it('Audit trail: event source → event name → user variables, chained, multi-value with All', () => {
    const variables = variablesOf(dashboard('crumbtrail-audit-trail')).filter(
      (variable) => variable.type === 'query',
    );
    assert.deepEqual(
      variables.map((variable) => [
        variable.name,
        objectAt(variable, 'query').field,
        variable.multi,
        variable.includeAll,
      ]),
      [
        ['eventSource', 'eventSource', true, true],
        ['eventName', 'eventName', true, true],
        ['username', 'username', true, true],
      ],
    );
    assert.deepEqual(objectAt(objectAt(variables[1], 'query'), 'filters'), { eventSource: ['$eventSource'] });
  });

  it('Audit trail: a change drills down to the Event details dashboard by event ID', () => {
    const links = JSON.stringify(
      panelByTitle(dashboard('crumbtrail-audit-trail'), 'Changes (write calls)').fieldConfig,
    );
    assert.match(links, /\/d\/crumbtrail-event-details\/event-details\?var-eventId=\$\{__data\.fields\.id\}/);
    const [eventId] = variablesOf(dashboard('crumbtrail-event-details'));
    assert.deepEqual([eventId?.name, eventId?.type], ['eventId', 'textbox']);
    for (const { query } of queriesOf(dashboard('crumbtrail-event-details'))) {
      assert.deepEqual(objectAt(query, 'filters').eventId, ['$eventId']);
    }
  });
});

describe('the dashboard checks catch broken dashboards', () => {
  const uid = 'crumbtrail-audit-trail';
  const expectProblem = (problems: string[], pattern: RegExp) => {
    assert.ok(
      problems.some((problem) => pattern.test(problem)),
      `expected a problem matching ${String(pattern)}, got ${JSON.stringify(problems)}`,
    );
  };

  it('a misspelt or unknown filter field, and an invalid query type', () => {
    expectProblem(
      problemsAfter(uid, (copy) => {
        const target = firstTarget(copy, 'Event history');
        target.filter = target.filters;
      }),
      /Event history.*unknown property "filter"/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        objectAt(firstTarget(copy, 'Top users'), 'filters').user = ['$username'];
      }),
      /Top users.*filters\.user: not a lookup field/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        const annotation = annotationsOf(copy).find((entry) => entry.name === 'Insights');
        objectAt(annotation, 'target').queryType = 'insight';
      }),
      /annotation "Insights": queryType must be one of/,
    );
  });

  it('a datasource that is not provisioned, or of another type', () => {
    expectProblem(
      problemsAfter(uid, (copy) => {
        firstTarget(copy, 'Top users').datasource = { type: 'crumbtrail-audit-datasource', uid: 'audit' };
      }),
      /no datasource with uid "audit"/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        panelByTitle(copy, 'Insight state').datasource = { type: 'loki', uid: 'prometheus' };
      }),
      /datasource "prometheus" is a prometheus, not a loki/,
    );
  });

  it('an unknown panel type, duplicate ids, an event-history column or option the panel lacks', () => {
    expectProblem(
      problemsAfter(uid, (copy) => (panelByTitle(copy, 'Event history').type = 'crumbtrail-history-panel')),
      /neither a core panel/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => (panelByTitle(copy, 'Top users').id = 1)),
      /id 1 is used twice/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        objectAt(panelByTitle(copy, 'Event history'), 'options').columns = ['eventTime', 'user'];
      }),
      /column "user" is not one of/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        objectAt(panelByTitle(copy, 'Event history'), 'options').valueClick = 'filter';
      }),
      /valueClick must be one of adhoc, variable/,
    );
  });

  it('an undefined variable, a variable that does not narrow a query, an invalid variable query', () => {
    expectProblem(
      problemsAfter(uid, (copy) => {
        objectAt(firstTarget(copy, 'Event history'), 'filters').errorCode = ['$errorCode'];
      }),
      /\$errorCode is not a variable of this dashboard/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        delete objectAt(firstTarget(copy, 'API calls by event name'), 'filters').username;
      }),
      /API calls by event name.*filters\.username must include \$username/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        const [first] = variablesOf(copy);
        objectAt(first, 'query').field = 'service';
      }),
      /variable \$eventSource: field must be a lookup field/,
    );
  });

  it('a link to a dashboard or variable that does not exist, a field the queries do not return', () => {
    expectProblem(
      problemsAfter(
        uid,
        (copy) => (copy.links = [{ title: 'x', type: 'link', url: '/d/crumbtrail-details/x' }]),
      ),
      /links to dashboard "crumbtrail-details"/,
    );
    expectProblem(
      problemsAfter(
        uid,
        (copy) =>
          (copy.links = [{ title: 'x', type: 'link', url: '/d/crumbtrail-event-details/x?var-id=1' }]),
      ),
      /has no variable id/,
    );
    expectProblem(
      problemsAfter(uid, (copy) => {
        const [override] = objectsAt(objectAt(panelByTitle(copy, 'Insights'), 'fieldConfig'), 'overrides');
        objectAt(override, 'matcher').options = 'summary';
      }),
      /Insights.*names field "summary"/,
    );
  });
});

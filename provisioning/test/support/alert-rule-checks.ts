/*
 * Grafana alert rule provisioning files, checked as Grafana would load them: every rule's
 * condition and expression inputs name refIds of the rule, queries use provisioned datasources,
 * states and durations are valid, per-API rules say which API and insight in their labels and
 * annotations, and dashboard/panel links resolve.
 */
import { panelsOf } from './dashboard-walk.js';
import { EXPRESSION_DATASOURCE_UID } from './grafana-builtins.js';
import { isObject, type JsonObject, objectAt, objectsAt, stringAt, stringsIn } from './json-shapes.js';
import type { Datasource } from './provisioning-model.js';

export interface AlertContext {
  datasources: Datasource[];
  dashboards: Map<string, JsonObject>;
}

export interface GrafanaRule {
  uid: string;
  title: string;
  folder: string;
  rule: JsonObject;
}

const NO_DATA_STATES = ['NoData', 'Alerting', 'OK', 'KeepLast'];
const EXEC_ERROR_STATES = ['Error', 'Alerting', 'OK', 'KeepLast'];
const EXPRESSION_TYPES = ['math', 'reduce', 'resample', 'threshold', 'classic_conditions', 'sql'];
const REDUCERS = ['last', 'mean', 'min', 'max', 'sum', 'count', 'median'];
const THRESHOLD_EVALUATORS = [
  'gt',
  'lt',
  'within_range',
  'outside_range',
  'within_range_included',
  'outside_range_included',
];
const DURATION = /^(\d+(ms|s|m|h|d|w))+$/;
/** Metrics labelled per API (event_source, event_name, insight_type). */
const PER_API_METRIC = /crumbtrail_insight_(active|score|observed|expected)\b/;

export function grafanaRulesOf(document: unknown): GrafanaRule[] {
  return objectsAt(document, 'groups').flatMap((group) =>
    objectsAt(group, 'rules').map((rule) => ({
      uid: stringAt(rule, 'uid') ?? '',
      title: stringAt(rule, 'title') ?? '',
      folder: stringAt(group, 'folder') ?? '',
      rule,
    })),
  );
}

/** The PromQL of a rule's queries (not its expressions). */
export function ruleQueries(rule: JsonObject): string[] {
  return objectsAt(rule, 'data')
    .filter((data) => data.datasourceUid !== EXPRESSION_DATASOURCE_UID)
    .map((data) => stringAt(objectAt(data, 'model'), 'expr') ?? '');
}

export function alertRuleFileProblems(document: unknown, context: AlertContext): string[] {
  const problems: string[] = [];
  if (!isObject(document) || document.apiVersion !== 1) problems.push('apiVersion must be 1');
  const groups = objectsAt(document, 'groups');
  if (groups.length === 0) problems.push('no rule groups');
  for (const group of groups) {
    const name = stringAt(group, 'name') ?? '?';
    if (typeof group.orgId !== 'number') problems.push(`group ${name}: orgId must be a number`);
    if (!stringAt(group, 'folder')) problems.push(`group ${name}: needs a folder`);
    if (!DURATION.test(stringAt(group, 'interval') ?? ''))
      problems.push(`group ${name}: interval must be a duration`);
    if (objectsAt(group, 'rules').length === 0) problems.push(`group ${name}: has no rules`);
  }
  for (const { title, rule } of grafanaRulesOf(document)) {
    problems.push(...ruleProblems(rule, context).map((problem) => `rule ${title || '?'}: ${problem}`));
  }
  return problems;
}

export function ruleProblems(rule: JsonObject, context: AlertContext): string[] {
  const problems: string[] = [];
  if (!stringAt(rule, 'uid')) problems.push('needs a fixed uid');
  else if ((stringAt(rule, 'uid') ?? '').length > 40) problems.push('uid is longer than Grafana allows (40)');
  if (!stringAt(rule, 'title')) problems.push('needs a title');
  const data = objectsAt(rule, 'data');
  const refIds = data.map((item) => stringAt(item, 'refId') ?? '');
  if (data.length === 0) problems.push('has no data (queries and expressions)');
  if (new Set(refIds).size !== refIds.length) problems.push(`refIds must be unique: ${refIds.join(', ')}`);
  const condition = stringAt(rule, 'condition') ?? '';
  if (!refIds.includes(condition))
    problems.push(`condition "${condition}" is not one of the refIds ${refIds.join(', ')}`);
  for (const item of data) problems.push(...dataProblems(item, refIds, context));
  if (!NO_DATA_STATES.includes(stringAt(rule, 'noDataState') ?? '')) {
    problems.push(`noDataState must be one of ${NO_DATA_STATES.join(', ')}`);
  }
  if (!EXEC_ERROR_STATES.includes(stringAt(rule, 'execErrState') ?? '')) {
    problems.push(`execErrState must be one of ${EXEC_ERROR_STATES.join(', ')}`);
  }
  if (!DURATION.test(stringAt(rule, 'for') ?? '')) problems.push('for must be a duration such as 1m');
  problems.push(...descriptionProblems(rule), ...dashboardLinkProblems(rule, context));
  return problems;
}

function dataProblems(item: JsonObject, refIds: string[], context: AlertContext): string[] {
  const refId = stringAt(item, 'refId') ?? '?';
  const model = objectAt(item, 'model');
  const uid = stringAt(item, 'datasourceUid') ?? '';
  const problems: string[] = [];
  if (model.refId !== refId) problems.push(`${refId}: model.refId must be ${refId}`);
  const modelDatasource = model.datasource;
  if (modelDatasource !== undefined && stringAt(modelDatasource, 'uid') !== uid) {
    problems.push(`${refId}: model.datasource.uid differs from datasourceUid ${uid}`);
  }
  if (uid !== EXPRESSION_DATASOURCE_UID) {
    const datasource = context.datasources.find((candidate) => candidate.uid === uid);
    if (datasource === undefined) problems.push(`${refId}: no datasource with uid "${uid}" is provisioned`);
    else if (modelDatasource !== undefined && stringAt(modelDatasource, 'type') !== datasource.type) {
      problems.push(`${refId}: datasource "${uid}" is a ${datasource.type}`);
    }
    const range = objectAt(item, 'relativeTimeRange');
    if (typeof range.from !== 'number' || typeof range.to !== 'number' || range.from <= range.to) {
      problems.push(`${refId}: relativeTimeRange must go back from "from" seconds to "to" seconds ago`);
    }
    if (!stringAt(model, 'expr')) problems.push(`${refId}: the query has no expr`);
    return problems;
  }
  return [...problems, ...expressionProblems(refId, model, refIds)];
}

function expressionProblems(refId: string, model: JsonObject, refIds: string[]): string[] {
  const type = stringAt(model, 'type') ?? '';
  if (!EXPRESSION_TYPES.includes(type))
    return [`${refId}: expression type must be one of ${EXPRESSION_TYPES.join(', ')}`];
  const expression = stringAt(model, 'expression') ?? '';
  const inputs =
    type === 'math'
      ? [...expression.matchAll(/\$\{?([A-Za-z0-9_]+)\}?/g)].map((match) => match[1] ?? '')
      : [expression];
  const problems = inputs
    .filter((input) => input === refId || !refIds.includes(input))
    .map((input) => `${refId}: its input "${input}" is not another refId of the rule`);
  if (type === 'reduce' && !REDUCERS.includes(stringAt(model, 'reducer') ?? '')) {
    problems.push(`${refId}: reducer must be one of ${REDUCERS.join(', ')}`);
  }
  if (type === 'threshold') {
    const conditions = objectsAt(model, 'conditions');
    const valid =
      conditions.length > 0 &&
      conditions.every((condition) => {
        const evaluator = objectAt(condition, 'evaluator');
        const params = evaluator.params;
        return (
          THRESHOLD_EVALUATORS.includes(stringAt(evaluator, 'type') ?? '') &&
          Array.isArray(params) &&
          params.length > 0 &&
          params.every((param) => typeof param === 'number')
        );
      });
    if (!valid)
      problems.push(`${refId}: threshold needs conditions [{evaluator: {type, params: [numbers]}}]`);
  }
  return problems;
}

/**
 * A rule on a per-API metric fires once per API: its notification must say which API (event source
 * and name) and which insight type, or on-call cannot tell alerts apart.
 */
function descriptionProblems(rule: JsonObject): string[] {
  const queries = ruleQueries(rule).join('\n');
  const annotations = objectAt(rule, 'annotations');
  const summary = stringAt(annotations, 'summary') ?? '';
  const problems: string[] = [];
  if (!summary) problems.push('needs a summary annotation');
  if (!PER_API_METRIC.test(queries)) return problems;
  const text = [...stringsIn(objectAt(rule, 'labels')), ...stringsIn(annotations)]
    .map((entry) => entry.text)
    .join('\n');
  for (const label of ['event_source', 'event_name']) {
    if (!summary.includes(`$labels.${label}`))
      problems.push(`the summary must name the API: {{ $labels.${label} }}`);
  }
  for (const [, insightType] of queries.matchAll(/insight_type="([A-Za-z]+)"/g)) {
    if (!text.includes(insightType ?? ''))
      problems.push(`labels or annotations must name the insight ${insightType ?? ''}`);
  }
  return problems;
}

function dashboardLinkProblems(rule: JsonObject, context: AlertContext): string[] {
  const annotations = objectAt(rule, 'annotations');
  const uid = stringAt(annotations, '__dashboardUid__');
  const panelId = stringAt(annotations, '__panelId__');
  if (uid === undefined) return panelId === undefined ? [] : ['__panelId__ needs __dashboardUid__'];
  const dashboard = context.dashboards.get(uid);
  if (dashboard === undefined) return [`__dashboardUid__ "${uid}" is not a provisioned dashboard`];
  if (panelId !== undefined && !panelsOf(dashboard).some((panel) => String(panel.id) === panelId)) {
    return [`__panelId__ ${panelId} is not a panel of dashboard ${uid}`];
  }
  return [];
}

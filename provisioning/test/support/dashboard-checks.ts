/*
 * Everything about a provisioned dashboard that can be checked without a Grafana server: its
 * datasource references resolve to provisioned datasources of the right type, panel types exist,
 * every crumbtrail query is valid for the plugin's query model, variables are defined and used,
 * the event-history panel's options are ones the panel knows, and links point at real dashboards,
 * variables and frame fields. Each function returns problems as sentences; none means valid.
 */
import { EVENT_COLUMNS, type Options, type ValueClickAction } from '../../../plugin/src/panel/types.js';
import { queryProblems } from '../../../plugin/src/query-validation.js';
import { QueryType } from '../../../plugin/src/types.js';
import {
  annotationsOf,
  datasourceRefsOf,
  linkUrlsOf,
  overridePropertiesOf,
  panelLabel,
  panelsOf,
  queriesOf,
  variablesOf,
} from './dashboard-walk.js';
import { frameFields } from './frame-fields.js';
import {
  BUILT_IN_DATASOURCES,
  CORE_PANEL_TYPES,
  isBuiltInVariable,
  variableReferences,
} from './grafana-builtins.js';
import { isObject, type JsonObject, objectAt, objectsAt, stringAt, stringsIn } from './json-shapes.js';
import type { Datasource, PluginIds } from './provisioning-model.js';
import { variableQueryProblems } from './variable-query-checks.js';

export interface DashboardContext {
  datasources: Datasource[];
  plugins: PluginIds;
  /** Every provisioned dashboard, by uid: link targets. */
  dashboards: Map<string, JsonObject>;
}

/** The collector refuses more values per filter (collector/src/api/query-params.ts MAX_VALUES_PER_FIELD). */
const MAX_FILTER_VALUES = 100;
const VALUE_CLICK_ACTIONS = ['adhoc', 'variable'] as const satisfies readonly ValueClickAction[];
const PANEL_OPTION_KEYS: ReadonlySet<string> = new Set(['columns', 'valueClick'] satisfies Array<
  keyof Options
>);

export function dashboardProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  return [
    ...modelProblems(dashboard),
    ...datasourceProblems(dashboard, context),
    ...panelProblems(dashboard, context),
    ...crumbtrailQueryProblems(dashboard, context),
    ...variableProblems(dashboard, context),
    ...eventHistoryProblems(dashboard, context),
    ...linkProblems(dashboard, context),
    ...fieldReferenceProblems(dashboard, context),
  ];
}

function modelProblems(dashboard: JsonObject): string[] {
  const problems: string[] = [];
  if (!stringAt(dashboard, 'uid')) problems.push('the dashboard needs a fixed uid');
  if (!stringAt(dashboard, 'title')) problems.push('the dashboard needs a title');
  if (typeof dashboard.schemaVersion !== 'number') problems.push('schemaVersion must be a number');
  const time = objectAt(dashboard, 'time');
  if (!stringAt(time, 'from') || !stringAt(time, 'to')) problems.push('time needs from and to');
  return problems;
}

function datasourceByUid(context: DashboardContext, uid: string): string | undefined {
  return (
    BUILT_IN_DATASOURCES.get(uid) ?? context.datasources.find((datasource) => datasource.uid === uid)?.type
  );
}

function isCrumbtrail(ref: unknown, context: DashboardContext): boolean {
  return isObject(ref) && ref.type === context.plugins.datasource;
}

function datasourceProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  return datasourceRefsOf(dashboard).flatMap(({ where, value }) => {
    const uid = stringAt(value, 'uid');
    const type = stringAt(value, 'type');
    if (uid === undefined || type === undefined) {
      return [
        `${where}: datasource must be {"type": "<plugin id>", "uid": "<fixed uid>"}, not ${JSON.stringify(value)}`,
      ];
    }
    const provisionedType = datasourceByUid(context, uid);
    if (provisionedType === undefined) return [`${where}: no datasource with uid "${uid}" is provisioned`];
    if (provisionedType !== type)
      return [`${where}: datasource "${uid}" is a ${provisionedType}, not a ${type}`];
    return [];
  });
}

function panelProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  const problems: string[] = [];
  const ids = new Set<number>();
  for (const panel of panelsOf(dashboard)) {
    const type = stringAt(panel, 'type') ?? '';
    if (!CORE_PANEL_TYPES.has(type) && type !== context.plugins.panel) {
      problems.push(
        `${panelLabel(panel)}: panel type "${type}" is neither a core panel nor ${context.plugins.panel}`,
      );
    }
    if (typeof panel.id !== 'number') problems.push(`${panelLabel(panel)}: needs a numeric id`);
    else if (ids.has(panel.id)) problems.push(`${panelLabel(panel)}: id ${String(panel.id)} is used twice`);
    else ids.add(panel.id);
    const grid = objectAt(panel, 'gridPos');
    const [x, w] = [grid.x, grid.w];
    if (typeof x !== 'number' || typeof w !== 'number' || x < 0 || w < 1 || x + w > 24) {
      problems.push(`${panelLabel(panel)}: gridPos must fit Grafana's 24 columns`);
    }
  }
  for (const annotation of annotationsOf(dashboard)) {
    const shown = objectAt(annotation, 'filter').ids;
    for (const id of Array.isArray(shown) ? shown : []) {
      if (typeof id !== 'number' || !ids.has(id)) {
        problems.push(
          `annotation "${stringAt(annotation, 'name') ?? '?'}": filter names panel ${String(id)}, which does not exist`,
        );
      }
    }
  }
  return problems;
}

function crumbtrailQueryProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  return queriesOf(dashboard)
    .filter(({ datasource }) => isCrumbtrail(datasource, context))
    .flatMap(({ where, query }) => queryProblems(query).map((problem) => `${where}: ${problem}`));
}

function variableProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  const problems: string[] = [];
  const variables = variablesOf(dashboard);
  const defined = new Set(variables.map((variable) => stringAt(variable, 'name') ?? ''));
  for (const variable of variables) {
    const name = stringAt(variable, 'name') ?? '?';
    if (variable.type === 'query' && isCrumbtrail(variable.datasource, context)) {
      problems.push(
        ...variableQueryProblems(variable.query).map((problem) => `variable $${name}: ${problem}`),
      );
      // Grafana expands "All" into every value the variable offers, one filter value each.
      const limit = objectAt(variable, 'query').limit;
      if (variable.includeAll === true && typeof limit === 'number' && limit > MAX_FILTER_VALUES) {
        problems.push(
          `variable $${name}: with "All", at most ${String(MAX_FILTER_VALUES)} values fit a filter`,
        );
      }
    }
  }
  for (const { path, text } of stringsIn(dashboard)) {
    for (const reference of variableReferences(text)) {
      if (!isBuiltInVariable(reference) && !defined.has(reference)) {
        problems.push(`${path}: $${reference} is not a variable of this dashboard`);
      }
    }
  }
  problems.push(...variableUseProblems(dashboard, context));
  return problems;
}

/** The lookup field each crumbtrail query variable offers values of, by variable name. */
function lookupVariables(dashboard: JsonObject, context: DashboardContext): Map<string, string> {
  const result = new Map<string, string>();
  for (const variable of variablesOf(dashboard)) {
    const field = stringAt(objectAt(variable, 'query'), 'field');
    const name = stringAt(variable, 'name');
    if (variable.type === 'query' && isCrumbtrail(variable.datasource, context) && field && name) {
      result.set(name, field);
    }
  }
  return result;
}

/**
 * A variable for a lookup field narrows every crumbtrail query of the dashboard. Insights queries
 * honour only the API filters (event source and name), so only those are required of them.
 */
function variableUseProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  const problems: string[] = [];
  const byName = lookupVariables(dashboard, context);
  for (const { where, datasource, query } of queriesOf(dashboard)) {
    if (!isCrumbtrail(datasource, context)) continue;
    const isInsights = query.queryType === QueryType.Insights;
    const filters = objectAt(query, 'filters');
    for (const [name, field] of byName) {
      if (isInsights && field !== 'eventSource' && field !== 'eventName') continue;
      const values = filters[field];
      if (!Array.isArray(values) || !values.includes(`$${name}`)) {
        problems.push(`${where}: filters.${field} must include $${name}, or the variable does not narrow it`);
      }
    }
  }
  // Chained variables: a variable's own filters may only use the variables before it.
  const seen = new Set<string>();
  for (const variable of variablesOf(dashboard)) {
    const name = stringAt(variable, 'name') ?? '';
    for (const { text } of stringsIn(objectAt(variable, 'query'))) {
      for (const reference of variableReferences(text)) {
        if (!isBuiltInVariable(reference) && !seen.has(reference)) {
          problems.push(`variable $${name}: uses $${reference}, which is not defined before it`);
        }
      }
    }
    seen.add(name);
  }
  return problems;
}

function eventHistoryProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  const problems: string[] = [];
  for (const panel of panelsOf(dashboard).filter((candidate) => candidate.type === context.plugins.panel)) {
    const label = panelLabel(panel);
    const options = objectAt(panel, 'options');
    for (const key of Object.keys(options).filter((option) => !PANEL_OPTION_KEYS.has(option))) {
      problems.push(`${label}: unknown option "${key}"`);
    }
    const columns = options.columns;
    if (!Array.isArray(columns) || columns.length === 0) {
      problems.push(`${label}: options.columns must list columns`);
    } else {
      for (const column of columns) {
        if (!(EVENT_COLUMNS as readonly unknown[]).includes(column)) {
          problems.push(
            `${label}: column ${JSON.stringify(column)} is not one of ${EVENT_COLUMNS.join(', ')}`,
          );
        }
      }
      if (new Set(columns).size !== columns.length) problems.push(`${label}: a column is listed twice`);
    }
    if (!(VALUE_CLICK_ACTIONS as readonly unknown[]).includes(options.valueClick)) {
      problems.push(`${label}: options.valueClick must be one of ${VALUE_CLICK_ACTIONS.join(', ')}`);
    }
    for (const target of objectsAt(panel, 'targets')) {
      const queryType = target.queryType ?? QueryType.Events;
      if (queryType !== QueryType.Events || !isCrumbtrail(target.datasource ?? panel.datasource, context)) {
        problems.push(`${label}: the event-history panel renders crumbtrail events queries only`);
      }
    }
  }
  return problems;
}

/** `/d/<uid>/…?var-<name>=…`: the dashboard exists and has the variable. */
function linkProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  const problems: string[] = [];
  for (const { where, value } of linkUrlsOf(dashboard)) {
    const match = /^\/d\/([^/?#]+)/.exec(value);
    if (match === null) continue;
    const uid = match[1] ?? '';
    const target = context.dashboards.get(uid);
    if (target === undefined) {
      problems.push(`${where}: links to dashboard "${uid}", which is not provisioned`);
      continue;
    }
    const names = new Set(variablesOf(target).map((variable) => stringAt(variable, 'name')));
    for (const [, name] of value.matchAll(/[?&]var-([A-Za-z0-9_]+)=/g)) {
      if (!names.has(name)) problems.push(`${where}: dashboard "${uid}" has no variable ${name ?? ''}`);
    }
  }
  return problems;
}

/** The fields a panel's crumbtrail queries return, or undefined for panels with other queries. */
function panelFrameFields(panel: JsonObject, context: DashboardContext): Set<string> | undefined {
  const targets = objectsAt(panel, 'targets');
  if (
    targets.length === 0 ||
    !targets.every((target) => isCrumbtrail(target.datasource ?? panel.datasource, context))
  ) {
    return undefined;
  }
  return new Set(
    targets.flatMap((target) => {
      const queryType = Object.values(QueryType).find(
        (known) => known === (target.queryType ?? QueryType.Events),
      );
      return queryType === undefined ? [] : frameFields(queryType);
    }),
  );
}

/** Overrides, transformations and `${__data.fields.x}` name fields the queries really return. */
function fieldReferenceProblems(dashboard: JsonObject, context: DashboardContext): string[] {
  const problems: string[] = [];
  for (const panel of panelsOf(dashboard)) {
    const fields = panelFrameFields(panel, context);
    if (fields === undefined) continue;
    const label = panelLabel(panel);
    const referenced: string[] = [];
    for (const override of objectsAt(objectAt(panel, 'fieldConfig'), 'overrides')) {
      const matcher = objectAt(override, 'matcher');
      const options = stringAt(matcher, 'options') ?? '';
      if (matcher.id === 'byName') referenced.push(options);
      if (matcher.id === 'byRegexp' && !fieldsMatch(options, fields)) {
        problems.push(`${label}: override pattern ${options} matches no field name`);
      }
    }
    for (const transformation of objectsAt(panel, 'transformations')) {
      if (transformation.id !== 'organize') continue;
      const options = objectAt(transformation, 'options');
      for (const key of ['excludeByName', 'indexByName', 'renameByName'])
        referenced.push(...Object.keys(objectAt(options, key)));
    }
    for (const links of overridePropertiesOf(panel, 'links')) {
      for (const { text } of stringsIn(links)) {
        for (const [, name] of text.matchAll(/\$\{__data\.fields\.([A-Za-z0-9_]+)/g))
          referenced.push(name ?? '');
      }
    }
    for (const name of referenced.filter((field) => !fields.has(field))) {
      problems.push(
        `${label}: names field "${name}", which its queries do not return (${[...fields].join(', ')})`,
      );
    }
  }
  return problems;
}

/** A `/regex/` override pattern must match some field (call-rate series are named after the field). */
function fieldsMatch(pattern: string, fields: Set<string>): boolean {
  const body = /^\/(.*)\/([a-z]*)$/.exec(pattern);
  const regex = new RegExp(body?.[1] ?? pattern, body?.[2] ?? '');
  return [...fields].some((field) => regex.test(field));
}

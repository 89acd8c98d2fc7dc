/*
 * Every crumbtrail query of the provisioned dashboards (panels, annotations and the variables'
 * own queries), interpolated as Grafana's dashboards do it (ScenesTemplateSrv: no Grafana server
 * can run here) and run through the real datasource against the real collector serving the
 * audit story: each variable at All, at one value and at several values. Each query must give
 * exactly what the same query gives with the selection written out as literal filters, or with
 * the filter left out for All.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataFrame, DataQueryRequest, DataQueryResponse } from '@grafana/data';
import { lastValueFrom, type Observable } from 'rxjs';
import { column, onlyFrame } from '../../test-support/frame-readers';
import { dashboardVariable, type DashboardVariable, ScenesTemplateSrv } from '../../test-support/scenes-template-srv';
import { storyDatasource, storyRequest } from '../../test-support/story-datasource';
import { TestTemplateSrv } from '../../test-support/template-srv';
import type { CrumbtrailDataSource } from '../datasource/datasource';
import type { AuditQuery, AuditVariableQuery, LookupFilters } from '../types';

type Json = Record<string, unknown>;

const DASHBOARDS = join(__dirname, '../../../provisioning/dashboards');
const dashboards = ['audit-trail.json', 'event-details.json'].map((file) => ({
  file,
  json: JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Json,
}));

function listAt(value: unknown, key: string): Json[] {
  const child = (value as Json | undefined)?.[key];
  return Array.isArray(child) ? (child as Json[]) : [];
}

function isCrumbtrail(datasource: unknown): boolean {
  return (datasource as Json | undefined)?.type === 'crumbtrail-audit-datasource';
}

function crumbtrailTargets(dashboard: Json): Array<{ where: string; query: AuditQuery }> {
  const panels = listAt(dashboard, 'panels').flatMap((panel) => [panel, ...listAt(panel, 'panels')]);
  const fromPanels = panels.flatMap((panel) =>
    listAt(panel, 'targets')
      .filter((target) => isCrumbtrail(target.datasource ?? panel.datasource))
      .map((target) => ({
        where: `panel ${String(panel.id)} (${String(panel.title)})`,
        query: target as unknown as AuditQuery,
      }))
  );
  const fromAnnotations = listAt((dashboard as { annotations?: unknown }).annotations, 'list')
    .filter((annotation) => isCrumbtrail(annotation.datasource) && annotation.target !== undefined)
    .map((annotation) => ({ where: `annotation ${String(annotation.name)}`, query: annotation.target as AuditQuery }));
  return [...fromPanels, ...fromAnnotations];
}

/** The selection written out: a variable's values as literal filter values, none for All. */
function literalFilters(
  filters: LookupFilters | undefined,
  selection: Record<string, 'all' | string[]>
): LookupFilters {
  const result: LookupFilters = {};
  for (const [field, values] of Object.entries(filters ?? {}) as Array<[keyof LookupFilters, string[]]>) {
    const literal: string[] = [];
    let any = false;
    for (const value of values) {
      const name = /^\$\{?(\w+)\}?$/.exec(value)?.[1];
      const chosen = name === undefined ? [value] : selection[name];
      if (chosen === 'all') {
        any = true;
      } else {
        literal.push(...(chosen ?? [value]));
      }
    }
    if (!any) {
      result[field] = literal;
    }
  }
  return result;
}

/** A response as comparable data: each frame's fields and values. */
function digest(response: DataQueryResponse): unknown {
  return (response.data as DataFrame[]).map((frame) => ({
    name: frame.name,
    fields: frame.fields.map((field) => [field.name, [...field.values]]),
  }));
}

async function variableOptions(datasource: CrumbtrailDataSource, query: AuditVariableQuery): Promise<string[]> {
  const variables = datasource.variables as unknown as {
    query(request: DataQueryRequest<AuditVariableQuery>): Observable<DataQueryResponse>;
  };
  const response = await lastValueFrom(variables.query({ ...storyRequest([]), targets: [query] } as never));
  return column(onlyFrame(response), 'value').map(String);
}

interface Scenario {
  label: string;
  selection: Record<string, 'all' | string[]>;
}

function scenarios(options: Record<string, string[]>): Scenario[] {
  const names = Object.keys(options);
  const allAtAll = Object.fromEntries(names.map((name) => [name, 'all' as const]));
  const list: Scenario[] = [{ label: 'every variable at All', selection: allAtAll }];
  for (const name of names) {
    const values = options[name] ?? [];
    list.push({ label: `${name} = ${values[0]}`, selection: { ...allAtAll, [name]: values.slice(0, 1) } });
    list.push({
      label: `${name} = ${values.slice(-2).join(' + ')}`,
      selection: { ...allAtAll, [name]: values.slice(-2) },
    });
  }
  list.push({
    label: 'every variable at one value',
    selection: Object.fromEntries(names.map((name) => [name, (options[name] ?? []).slice(0, 1)])),
  });
  return list;
}

describe('the audit trail dashboard: variables, as Grafana interpolates them, through the datasource', () => {
  const [{ json }] = dashboards as [{ file: string; json: Json }];
  const variableJson = listAt(json.templating, 'list').filter((variable) => variable.type === 'query');
  const options: Record<string, string[]> = {};

  beforeAll(async () => {
    // The variables' options, from their own queries at All (chained filters dropped).
    const atAll = storyDatasource(
      new ScenesTemplateSrv(variableJson.map((variable) => dashboardVariable(variable, 'all', [])))
    );
    for (const variable of variableJson) {
      options[String(variable.name)] = await variableOptions(atAll, variable.query as AuditVariableQuery);
    }
  });

  it('has values to choose from for every variable (the checks below are not vacuous)', () => {
    expect(Object.keys(options).sort()).toEqual(['eventName', 'eventSource', 'username']);
    for (const values of Object.values(options)) {
      expect(values.length).toBeGreaterThanOrEqual(2);
    }
  });

  it('every panel, annotation and variable query gives what the selection written out gives', async () => {
    const literal = storyDatasource(new TestTemplateSrv());
    const problems: string[] = [];
    let nonEmpty = 0;
    for (const scenario of scenarios(options)) {
      const variables: DashboardVariable[] = variableJson.map((variable) =>
        dashboardVariable(
          variable,
          scenario.selection[String(variable.name)] ?? 'all',
          options[String(variable.name)] ?? []
        )
      );
      const datasource = storyDatasource(new ScenesTemplateSrv(variables));
      for (const { where, query } of crumbtrailTargets(json)) {
        const viaVariables = await datasource.query(storyRequest([query]));
        const written = await literal.query(
          storyRequest([{ ...query, filters: literalFilters(query.filters, scenario.selection) }])
        );
        if (JSON.stringify(digest(viaVariables)) !== JSON.stringify(digest(written))) {
          problems.push(`${scenario.label}: ${where} differs from its filters written out`);
        }
        if ((viaVariables.data as DataFrame[]).some((frame) => frame.length > 0)) {
          nonEmpty++;
        }
      }
      for (const variable of variableJson) {
        const query = variable.query as AuditVariableQuery;
        const viaVariables = await variableOptions(datasource, query);
        const written = await variableOptions(literal, {
          ...query,
          filters: literalFilters(query.filters, scenario.selection),
        });
        if (JSON.stringify(viaVariables) !== JSON.stringify(written)) {
          problems.push(
            `${scenario.label}: variable ${String(variable.name)} lists ${viaVariables} instead of ${written}`
          );
        }
      }
    }
    expect(problems).toEqual([]);
    expect(nonEmpty).toBeGreaterThan(10);
  });
});

describe('the event details dashboard', () => {
  const [, { json }] = dashboards as [unknown, { file: string; json: Json }];

  it('shows the one event whose id the textbox variable holds', async () => {
    const literal = storyDatasource(new TestTemplateSrv());
    const [first] = (
      (await literal.query(storyRequest([{ refId: 'A', queryType: 'events', maxResults: 1 } as AuditQuery])))
        .data as DataFrame[]
    ).map((frame) => column(frame, 'id')[0]);
    expect(typeof first).toBe('string');
    const variable = listAt(json.templating, 'list')[0] as Json;
    const datasource = storyDatasource(new ScenesTemplateSrv([dashboardVariable(variable, [String(first)], [])]));
    for (const { query } of crumbtrailTargets(json)) {
      const frame = onlyFrame(await datasource.query(storyRequest([query])));
      expect(column(frame, 'id')).toEqual([first]);
    }
  });
});

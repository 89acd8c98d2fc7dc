/*
 * Finds the parts of a dashboard JSON model the checks look at: panels (also inside rows), their
 * queries, variables, annotation queries, datasource references and link URLs.
 */
import { isObject, type JsonObject, objectAt, objectsAt, stringAt } from './json-shapes.js';

export interface Located<T> {
  /** Where in the dashboard, for messages: "panel 3 (Top users) target A". */
  where: string;
  value: T;
}

export interface DashboardQuery {
  where: string;
  /** The query's datasource reference, or its panel's when the query has none. */
  datasource: unknown;
  query: JsonObject;
  panel?: JsonObject;
}

export function panelLabel(panel: JsonObject): string {
  const id = panel.id;
  return `panel ${typeof id === 'number' ? String(id) : '?'} (${stringAt(panel, 'title') ?? 'untitled'})`;
}

/** Top-level panels and the panels of collapsed rows. */
export function panelsOf(dashboard: JsonObject): JsonObject[] {
  return objectsAt(dashboard, 'panels').flatMap((panel) => [panel, ...objectsAt(panel, 'panels')]);
}

export function variablesOf(dashboard: JsonObject): JsonObject[] {
  return objectsAt(objectAt(dashboard, 'templating'), 'list');
}

export function annotationsOf(dashboard: JsonObject): JsonObject[] {
  return objectsAt(objectAt(dashboard, 'annotations'), 'list');
}

export function queriesOf(dashboard: JsonObject): DashboardQuery[] {
  const panelQueries = panelsOf(dashboard).flatMap((panel) =>
    objectsAt(panel, 'targets').map((query) => ({
      where: `${panelLabel(panel)} target ${stringAt(query, 'refId') ?? '?'}`,
      datasource: query.datasource ?? panel.datasource,
      query,
      panel,
    })),
  );
  const annotationQueries = annotationsOf(dashboard)
    .filter((annotation) => isObject(annotation.target))
    .map((annotation) => ({
      where: `annotation "${stringAt(annotation, 'name') ?? '?'}"`,
      datasource: annotation.datasource,
      query: objectAt(annotation, 'target'),
    }));
  return [...panelQueries, ...annotationQueries];
}

/** Every datasource reference: panels, queries, variables, annotations. */
export function datasourceRefsOf(dashboard: JsonObject): Array<Located<unknown>> {
  const refs: Array<Located<unknown>> = [];
  for (const panel of panelsOf(dashboard)) {
    if (panel.datasource !== undefined) refs.push({ where: panelLabel(panel), value: panel.datasource });
  }
  for (const query of queriesOf(dashboard)) {
    if (query.query.datasource !== undefined)
      refs.push({ where: query.where, value: query.query.datasource });
  }
  for (const variable of variablesOf(dashboard)) {
    if (variable.datasource !== undefined) {
      refs.push({ where: `variable $${stringAt(variable, 'name') ?? '?'}`, value: variable.datasource });
    }
  }
  for (const annotation of annotationsOf(dashboard)) {
    refs.push({ where: `annotation "${stringAt(annotation, 'name') ?? '?'}"`, value: annotation.datasource });
  }
  return refs;
}

/** Field-config overrides' properties with this id, per panel. */
export function overridePropertiesOf(panel: JsonObject, id: string): unknown[] {
  return objectsAt(objectAt(panel, 'fieldConfig'), 'overrides').flatMap((override) =>
    objectsAt(override, 'properties')
      .filter((property) => property.id === id)
      .map((property) => property.value),
  );
}

/** Every link URL: dashboard links, panel links, field-config and override data links. */
export function linkUrlsOf(dashboard: JsonObject): Array<Located<string>> {
  const urls: Array<Located<string>> = [];
  const add = (where: string, links: unknown) => {
    if (!Array.isArray(links)) return;
    for (const link of links) {
      const url = stringAt(link, 'url');
      if (url !== undefined && url !== '') urls.push({ where, value: url });
    }
  };
  add('dashboard links', dashboard.links);
  for (const panel of panelsOf(dashboard)) {
    add(panelLabel(panel), panel.links);
    add(panelLabel(panel), objectAt(objectAt(panel, 'fieldConfig'), 'defaults').links);
    for (const links of overridePropertiesOf(panel, 'links')) add(panelLabel(panel), links);
  }
  return urls;
}

/*
 * What Grafana itself provides, so references to it are not mistaken for broken ones: core panel
 * types, built-in datasources, and built-in `$__…` variables.
 */

/** Panel types shipped with Grafana 12 and 13 (plugin panels are checked against plugin.json). */
export const CORE_PANEL_TYPES: ReadonlySet<string> = new Set([
  'alertlist',
  'annolist',
  'barchart',
  'bargauge',
  'candlestick',
  'canvas',
  'dashlist',
  'datagrid',
  'flamegraph',
  'gauge',
  'geomap',
  'heatmap',
  'histogram',
  'logs',
  'news',
  'nodeGraph',
  'piechart',
  'row',
  'stat',
  'state-timeline',
  'status-history',
  'table',
  'text',
  'timeseries',
  'traces',
  'trend',
  'xychart',
]);

/** Datasources every Grafana has, by uid, with their type. */
export const BUILT_IN_DATASOURCES: ReadonlyMap<string, string> = new Map([
  ['-- Grafana --', 'grafana'],
  ['-- Mixed --', 'datasource'],
  ['-- Dashboard --', 'datasource'],
]);

/** Server-side expressions in alert rules (reduce, threshold, math…). */
export const EXPRESSION_DATASOURCE_UID = '__expr__';

/** `$__range`, `${__data.fields.id}`, `$__all`…: Grafana's own variables all start with two underscores. */
export function isBuiltInVariable(name: string): boolean {
  return name.startsWith('__');
}

/** The names of the variables a string refers to: `$name`, `${name}`, `${name:format}`, `${name.path}`, `[[name]]`. */
export function variableReferences(text: string): string[] {
  const pattern =
    /\$\{([A-Za-z0-9_]+)(?:[.:][^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]/g;
  return [...text.matchAll(pattern)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

/*
 * The provisioning files as the checks see them: datasources by uid, dashboards, alert rule
 * groups, contact points and policies, and the plugin ids from the plugins' plugin.json files.
 * Each checker takes these as plain arguments, so a test can hand it a mutated copy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, type JsonObject, objectAt, objectsAt, stringAt } from './json-shapes.js';
import { PROVISIONING_DIR, readJson, readParsed, repoPath } from './repo-files.js';

export interface Datasource {
  uid: string;
  type: string;
  name: string;
  file: string;
}

export interface Dashboard {
  file: string;
  json: JsonObject;
}

export interface PluginIds {
  datasource: string;
  panel: string;
  /** The Grafana versions each plugin supports (plugin.json dependencies.grafanaDependency). */
  grafanaDependencies: string[];
}

export interface Provisioning {
  datasources: Datasource[];
  dashboards: Dashboard[];
  alertRuleFiles: Array<{ file: string; document: unknown }>;
  contactPointFiles: Array<{ file: string; document: unknown }>;
  policyFiles: Array<{ file: string; document: unknown }>;
}

function filesIn(folder: string, extensions: string[]): string[] {
  const directory = join(PROVISIONING_DIR, folder);
  return readdirSync(directory)
    .filter((name) => extensions.some((extension) => name.endsWith(extension)))
    .sort()
    .map((name) => join(directory, name));
}

const YAML = ['.yml', '.yaml'];

export function loadDatasources(): Datasource[] {
  return filesIn('datasources', YAML).flatMap((file) =>
    objectsAt(readParsed(file), 'datasources').map((entry) => ({
      uid: stringAt(entry, 'uid') ?? '',
      type: stringAt(entry, 'type') ?? '',
      name: stringAt(entry, 'name') ?? '',
      file,
    })),
  );
}

/** Alerting files are told apart by their top-level key, as Grafana does. */
function alertingFiles(key: string): Array<{ file: string; document: unknown }> {
  return filesIn('alerting', YAML)
    .map((file) => ({ file, document: readParsed(file) }))
    .filter(({ document }) => objectsAt(document, key).length > 0);
}

export function loadProvisioning(): Provisioning {
  return {
    datasources: loadDatasources(),
    dashboards: filesIn('dashboards', ['.json']).map((file) => {
      const json = readJson(file);
      return { file, json: isObject(json) ? json : {} };
    }),
    alertRuleFiles: alertingFiles('groups'),
    contactPointFiles: alertingFiles('contactPoints'),
    policyFiles: alertingFiles('policies'),
  };
}

export function loadPluginIds(): PluginIds {
  const datasource = readJson(repoPath('plugin/src/plugin.json'));
  const panel = readJson(repoPath('plugin/src/panel/plugin.json'));
  return {
    datasource: stringAt(datasource, 'id') ?? '',
    panel: stringAt(panel, 'id') ?? '',
    grafanaDependencies: [datasource, panel].map(
      (json) => stringAt(objectAt(json, 'dependencies'), 'grafanaDependency') ?? '',
    ),
  };
}

/** `${VAR}` in the YAML files Grafana provisions from ($$ escapes a literal dollar). */
export function grafanaProvisioningVariables(): string[] {
  const names = ['datasources', 'dashboards', 'alerting'].flatMap((folder) =>
    filesIn(folder, YAML).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?<!\$)\$\{([A-Za-z0-9_]+)\}/g)].map(
        (match) => match[1] ?? '',
      ),
    ),
  );
  return [...new Set(names)].sort();
}

export function dashboardProviderPaths(): string[] {
  return filesIn('dashboards', YAML).flatMap((file) =>
    objectsAt(readParsed(file), 'providers').map(
      (provider) => stringAt(objectAt(provider, 'options'), 'path') ?? '',
    ),
  );
}

export const PROMETHEUS_CONFIG = join(PROVISIONING_DIR, 'prometheus', 'prometheus.yml');

/** host:port of every static scrape target. */
export function prometheusTargets(): string[] {
  return objectsAt(readParsed(PROMETHEUS_CONFIG), 'scrape_configs').flatMap((scrape) =>
    objectsAt(scrape, 'static_configs').flatMap((config) => {
      const targets = config.targets;
      return Array.isArray(targets)
        ? targets.filter((target): target is string => typeof target === 'string')
        : [];
    }),
  );
}

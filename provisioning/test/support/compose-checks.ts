/*
 * docker-compose.yml as `docker-compose config` resolves it (Debian's docker-compose 1.29; no
 * Docker engine is needed to resolve a file), cross-checked with the repository: mounted paths
 * exist, the Grafana image supports the plugins, the plugins are mounted and allowed unsigned,
 * provisioning lands where Grafana reads it, the variables provisioning needs are set, and every
 * service-to-service address names a service and a port it listens on.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { isObject, type JsonObject, objectAt, stringAt } from './json-shapes.js';
import type { PluginIds } from './provisioning-model.js';
import { dockerCompose, type ToolRun } from './tools.js';
import { parseText } from './repo-files.js';
import { satisfiesRange } from './version-range.js';

export interface ComposeContext {
  /** The folder docker-compose resolved relative paths against. */
  projectDir: string;
  plugins: PluginIds;
  /** `${VAR}`s in the provisioning files Grafana reads: Grafana must have each in its environment. */
  grafanaProvisioningVariables: string[];
  /** options.path of every dashboard provider. */
  dashboardProviderPaths: string[];
  /** host:port targets of provisioning/prometheus/prometheus.yml. */
  prometheusTargets: string[];
}

export interface Mount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

export function composeConfig(file: string): ToolRun & { config?: JsonObject } {
  const run = dockerCompose(['-f', file, 'config'], dirname(file));
  if (run.status !== 0) return run;
  const config = parseText(run.stdout, 'config.yml');
  return isObject(config) ? { ...run, config } : run;
}

function services(config: JsonObject): Map<string, JsonObject> {
  return new Map(
    Object.entries(objectAt(config, 'services')).filter((entry): entry is [string, JsonObject] =>
      isObject(entry[1]),
    ),
  );
}

/** Short ("src:dst:mode") and long ({type, source, target}) volume syntax alike. */
export function mountsOf(service: JsonObject): Mount[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  return volumes.flatMap((volume): Mount[] => {
    if (typeof volume === 'string') {
      const [source = '', target = ''] = volume.split(':');
      return [{ type: source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume', source, target }];
    }
    const type = stringAt(volume, 'type');
    if (type !== 'bind' && type !== 'volume') return [];
    return [{ type, source: stringAt(volume, 'source') ?? '', target: stringAt(volume, 'target') ?? '' }];
  });
}

function environment(service: JsonObject): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env
        .filter((entry): entry is string => typeof entry === 'string')
        .map((entry) => [entry.split('=')[0] ?? '', entry.slice(entry.indexOf('=') + 1)]),
    );
  }
  return Object.fromEntries(
    Object.entries(objectAt(service, 'environment')).map(([key, value]) => [key, String(value)]),
  );
}

/** Ports a service listens on inside the network: published ports' container side, and `expose`. */
function containerPorts(service: JsonObject): Set<string> {
  const ports = new Set<string>();
  for (const port of Array.isArray(service.ports) ? service.ports : []) {
    if (typeof port === 'string' || typeof port === 'number')
      ports.add(String(port).split(':').pop()?.split('/')[0] ?? '');
    else if (isObject(port)) ports.add(String(port.target));
  }
  for (const port of Array.isArray(service.expose) ? service.expose : [])
    ports.add(String(port).split('/')[0] ?? '');
  return ports;
}

function dockerfileTargets(projectDir: string, build: JsonObject): string[] {
  const context = stringAt(build, 'context') ?? projectDir;
  const dockerfile = join(context, stringAt(build, 'dockerfile') ?? 'Dockerfile');
  if (!existsSync(dockerfile)) return [];
  return [...readFileSync(dockerfile, 'utf8').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map(
    (match) => match[1] ?? '',
  );
}

export function composeProblems(config: JsonObject, context: ComposeContext): string[] {
  const all = services(config);
  const problems: string[] = [];
  for (const name of ['collector', 'demo', 'prometheus', 'grafana']) {
    if (!all.has(name)) problems.push(`no ${name} service`);
  }
  const declaredVolumes = new Set(Object.keys(objectAt(config, 'volumes')));
  for (const [name, service] of all) {
    for (const mount of mountsOf(service)) {
      if (mount.type === 'volume' && !declaredVolumes.has(mount.source)) {
        problems.push(`${name}: volume ${mount.source} is not declared under volumes:`);
      }
      if (mount.type === 'bind' && !existsSync(mount.source)) {
        problems.push(`${name}: mounts ${relative(context.projectDir, mount.source)}, which does not exist`);
      }
    }
    const build = service.build;
    const target = stringAt(build, 'target');
    if (
      isObject(build) &&
      target !== undefined &&
      !dockerfileTargets(context.projectDir, build).includes(target)
    ) {
      problems.push(`${name}: builds target ${target}, which its Dockerfile does not define`);
    }
    problems.push(...addressProblems(name, service, all));
  }
  const grafana = all.get('grafana');
  if (grafana !== undefined) problems.push(...grafanaProblems(grafana, all, context));
  const prometheus = all.get('prometheus');
  if (prometheus !== undefined) problems.push(...prometheusProblems(prometheus, all, context));
  const collectorToken = environment(all.get('collector') ?? {}).CRUMBTRAIL_API_TOKEN;
  if (grafana !== undefined && collectorToken !== environment(grafana).CRUMBTRAIL_API_TOKEN) {
    problems.push('grafana and collector must get the same CRUMBTRAIL_API_TOKEN');
  }
  return problems;
}

/** `http://<service>:<port>` in a command or environment: the service exists and listens there. */
function addressProblems(name: string, service: JsonObject, all: Map<string, JsonObject>): string[] {
  const command = Array.isArray(service.command) ? service.command.map(String) : [];
  const texts = [...command, ...Object.values(environment(service))];
  const problems: string[] = [];
  for (const text of texts) {
    for (const [, host = '', port = ''] of text.matchAll(/https?:\/\/([a-z][a-z0-9-]*):(\d+)/g)) {
      const other = all.get(host);
      if (other === undefined) {
        if (!host.includes('.') && host !== 'localhost')
          problems.push(`${name}: ${text} names no service ${host}`);
      } else if (!containerPorts(other).has(port)) {
        problems.push(`${name}: ${text}: ${host} does not listen on port ${port}`);
      }
    }
  }
  return problems;
}

function grafanaProblems(
  grafana: JsonObject,
  all: Map<string, JsonObject>,
  context: ComposeContext,
): string[] {
  const problems: string[] = [];
  const image = stringAt(grafana, 'image') ?? '';
  const tag = /^(?:docker\.io\/)?grafana\/grafana(?:-oss)?:(\d+\.\d+\.\d+)$/.exec(image)?.[1];
  if (tag === undefined) {
    problems.push(`grafana: image must be the official grafana/grafana pinned to a version, not ${image}`);
  } else {
    for (const range of context.plugins.grafanaDependencies) {
      if (!satisfiesRange(tag, range))
        problems.push(`grafana: ${image} does not satisfy the plugins' grafanaDependency ${range}`);
    }
  }
  const env = environment(grafana);
  const unsigned = (env.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS ?? '').split(',').map((id) => id.trim());
  for (const id of [context.plugins.datasource, context.plugins.panel]) {
    if (!unsigned.includes(id))
      problems.push(`grafana: GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS must list ${id}`);
  }
  for (const variable of context.grafanaProvisioningVariables) {
    if (!(variable in env))
      problems.push(`grafana: provisioning reads \${${variable}}, which its environment does not set`);
  }
  const mounts = mountsOf(grafana);
  problems.push(...pluginMountProblems(grafana, mounts, all, context));
  for (const folder of ['datasources', 'dashboards', 'alerting']) {
    const mounted = mounts.some(
      (mount) =>
        mount.type === 'bind' &&
        mount.source === join(context.projectDir, 'provisioning', folder) &&
        mount.target === `/etc/grafana/provisioning/${folder}`,
    );
    if (!mounted)
      problems.push(`grafana: provisioning/${folder} must be mounted at /etc/grafana/provisioning/${folder}`);
  }
  const dashboardsSource = join(context.projectDir, 'provisioning', 'dashboards');
  for (const path of context.dashboardProviderPaths) {
    const inside = mounts.some(
      (mount) =>
        mount.source === dashboardsSource && (path === mount.target || path.startsWith(`${mount.target}/`)),
    );
    if (!inside)
      problems.push(
        `grafana: the dashboard provider reads ${path}, where provisioning/dashboards is not mounted`,
      );
  }
  return problems;
}

/**
 * The plugins sit in one folder under /var/lib/grafana/plugins: either the host's build
 * (plugin/dist, made by `npm run build`) or a volume a one-shot service fills before Grafana starts.
 */
function pluginMountProblems(
  grafana: JsonObject,
  mounts: Mount[],
  all: Map<string, JsonObject>,
  context: ComposeContext,
): string[] {
  const mount = mounts.find((candidate) => posix.dirname(candidate.target) === '/var/lib/grafana/plugins');
  if (mount === undefined) return ['grafana: no plugin folder is mounted under /var/lib/grafana/plugins/'];
  if (mount.type === 'bind') {
    const built = join(context.projectDir, 'plugin', 'dist');
    return mount.source === built
      ? []
      : [`grafana: the plugin mount must be plugin/dist, not ${mount.source}`];
  }
  const filler = [...all.entries()].find(
    ([name, service]) =>
      name !== 'grafana' &&
      isObject(service.build) &&
      mountsOf(service).some((other) => other.source === mount.source),
  );
  if (filler === undefined) return [`grafana: nothing fills the plugin volume ${mount.source}`];
  const condition = stringAt(objectAt(objectAt(grafana, 'depends_on'), filler[0]), 'condition');
  return condition === 'service_completed_successfully'
    ? []
    : [
        `grafana: must wait for ${filler[0]} to fill ${mount.source} (depends_on condition service_completed_successfully)`,
      ];
}

function prometheusProblems(
  prometheus: JsonObject,
  all: Map<string, JsonObject>,
  context: ComposeContext,
): string[] {
  const problems: string[] = [];
  const command = Array.isArray(prometheus.command) ? prometheus.command.map(String) : [];
  const configFile =
    command.find((arg) => arg.startsWith('--config.file='))?.slice('--config.file='.length) ??
    '/etc/prometheus/prometheus.yml';
  const source = join(context.projectDir, 'provisioning', 'prometheus');
  if (
    !mountsOf(prometheus).some(
      (mount) => mount.source === source && mount.target === posix.dirname(configFile),
    )
  ) {
    problems.push(
      `prometheus: provisioning/prometheus must be mounted where --config.file is (${posix.dirname(configFile)})`,
    );
  }
  for (const target of context.prometheusTargets) {
    const [host = '', port = ''] = target.split(':');
    const service = all.get(host);
    if (service === undefined) problems.push(`prometheus scrapes ${target}, but there is no ${host} service`);
    else if (!containerPorts(service).has(port))
      problems.push(`prometheus scrapes ${target}, but ${host} does not listen on ${port}`);
  }
  return problems;
}

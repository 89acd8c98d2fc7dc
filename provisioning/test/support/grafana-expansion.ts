/*
 * What Grafana's server does to the text of provisioned YAML files before it uses them, so the
 * tests can assert the final text instead of the text as written. No Grafana server can run on
 * these machines: this is a model of Grafana's code, checked against its source
 * (pkg/services/provisioning/values/values.go and the provisioning types that use it, Grafana
 * 9.2 to 13.1; see plugin/README.md for the list).
 *
 * - A "values" field (values.StringValue, JSONValue, StringMapValue…) is split on `$$` (the escape
 *   for a literal `$`), each part has its `$__env{NAME}` / `$__file{path}` expanders replaced
 *   (setting.ExpandVar) and then goes through Go's os.ExpandEnv, and the parts are joined with `$`.
 *   os.ExpandEnv replaces `$NAME` as well as `${NAME}`, and an unset variable becomes empty: this
 *   is how `{{ $labels.x }}` in an alert label becomes `{{ .x }}` (grafana/grafana#78118).
 * - Alert rule annotations are mapped from the raw text (grafana/grafana#54975, Grafana 9.2+), so
 *   alert templates in them survive; newer Grafana expands `${NAME}` there and nothing else
 *   (grafana/grafana#127214). Alert queries (`data[].model`) are raw as well.
 * - Notification policies (definitions.Route) and dashboard JSON files are not expanded at all.
 */
import { readFileSync } from 'node:fs';
import { isObject } from './json-shapes.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/** How Grafana treats one provisioned string. */
export type Expansion = 'expanded' | 'raw' | 'braced-only';

export interface ProvisionedValue {
  /** Where in the file, e.g. "groups[0].rules[1].labels.api". */
  path: string;
  raw: string;
  expansion: Expansion;
  /** The text Grafana stores and uses. */
  final: string;
}

/** Go's isShellSpecialVar (os/env.go). */
function isShellSpecial(character: string | undefined): boolean {
  return character !== undefined && '*#$@!?-0123456789'.includes(character);
}

function isAlphaNumeric(character: string | undefined): boolean {
  return character !== undefined && /^[A-Za-z0-9_]$/.test(character);
}

/** Go's getShellName: the name after a `$` and how many characters it spans (0: not a name). */
function shellName(rest: string): { name: string; width: number } {
  if (rest.startsWith('{')) {
    if (rest.length > 2 && isShellSpecial(rest[1]) && rest[2] === '}')
      return { name: rest.slice(1, 2), width: 3 };
    const close = rest.indexOf('}', 1);
    if (close === 1) return { name: '', width: 2 }; // "${}": bad syntax, eaten
    if (close === -1) return { name: '', width: 1 }; // "${" without a close: "{" eaten
    return { name: rest.slice(1, close), width: close + 1 };
  }
  if (isShellSpecial(rest[0])) return { name: rest.slice(0, 1), width: 1 };
  let width = 0;
  while (isAlphaNumeric(rest[width])) width++;
  return { name: rest.slice(0, width), width };
}

/** Go's os.Expand(text, os.Getenv), character for character. */
export function goExpandEnv(text: string, environment: Environment): string {
  let result = '';
  let index = 0;
  while (index < text.length) {
    const character = text[index] ?? '';
    if (character !== '$' || index + 1 >= text.length) {
      result += character;
      index++;
      continue;
    }
    const { name, width } = shellName(text.slice(index + 1));
    if (name === '' && width === 0)
      result += '$'; // "$" before a non-name: kept
    else if (name !== '') result += environment[name] ?? '';
    index += 1 + width;
  }
  return result;
}

/** setting.ExpandVar: `$__env{NAME}` and `$__file{path}` (Vault is not used here). */
function expandProviders(text: string, environment: Environment): string {
  return text.replace(/\$__(\w+)\{([^}]*)\}/g, (whole, provider: string, argument: string) => {
    if (provider === 'env') return environment[argument] ?? '';
    if (provider === 'file') return readFileSync(argument, 'utf8').trim();
    throw new Error(`${whole}: the $__${provider} expander is not modelled by these tests`);
  });
}

/** values.interpolateValue: what Grafana makes of a "values" field. */
export function grafanaInterpolate(text: string, environment: Environment): string {
  return text
    .split('$$')
    .map((part) => goExpandEnv(expandProviders(part, environment), environment))
    .join('$');
}

/** Newer Grafana's annotation expansion: `${NAME}` only, so `$labels` and `$value` survive. */
function expandBracedOnly(text: string, environment: Environment): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_whole, name: string) => environment[name] ?? '');
}

export function finalText(raw: string, expansion: Expansion, environment: Environment): string {
  if (expansion === 'expanded') return grafanaInterpolate(raw, environment);
  if (expansion === 'braced-only') return expandBracedOnly(raw, environment);
  return raw;
}

/** The kinds of file Grafana provisions from YAML, told apart by folder and top-level key. */
export type ProvisioningKind =
  'datasources' | 'dashboard-providers' | 'alert-rules' | 'contact-points' | 'policies';

/**
 * Which Grafana treatment a string at `path` gets. Datasource, dashboard-provider and contact-point
 * files use "values" types throughout; alert rules too, but for annotations and query models;
 * notification policies use plain types.
 */
export function expansionAt(kind: ProvisioningKind, path: string[]): Expansion {
  if (kind === 'policies') return path.length === 2 && path[1] === 'orgId' ? 'expanded' : 'raw';
  if (kind === 'alert-rules') {
    if (path.includes('annotations')) return 'raw';
    if (path.includes('model')) return 'raw';
  }
  return 'expanded';
}

/** Every string of a provisioned document with the treatment Grafana gives it and its final text. */
export function provisionedValues(
  kind: ProvisioningKind,
  document: unknown,
  environment: Environment,
  expansionOverride?: (expansion: Expansion, path: string[]) => Expansion,
): ProvisionedValue[] {
  const values: ProvisionedValue[] = [];
  const walk = (value: unknown, path: string[]) => {
    if (typeof value === 'string') {
      const base = expansionAt(kind, path);
      const expansion = expansionOverride?.(base, path) ?? base;
      values.push({
        path: path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]'),
        raw: value,
        expansion,
        final: finalText(value, expansion, environment),
      });
    } else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) walk(item, [...path, String(index)]);
    } else if (isObject(value)) {
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
    }
  };
  walk(document, []);
  return values;
}

/** Newer Grafana (grafana/grafana#127214): annotations get `${NAME}` expanded, nothing else. */
export function withBracedAnnotations(expansion: Expansion, path: string[]): Expansion {
  return path.includes('annotations') && !path.includes('model') ? 'braced-only' : expansion;
}

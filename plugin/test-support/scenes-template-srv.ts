/*
 * Grafana's dashboard variable interpolation as Grafana 11 to 13 dashboards (Scenes) do it, for
 * tests that interpolate the provisioned dashboards' queries (no Grafana server can run here).
 * Modelled on @grafana/scenes' sceneInterpolator / formatValue / CustomAllValue and checked
 * against its source (see plugin/README.md for the versions):
 *
 * - `$name`, `${name}`, `${name:format}` and `[[name]]`; scoped variables first.
 * - A variable at "All" with a custom all value gives that value *unformatted* to every format
 *   and to the datasource's format function (only `text`, `percentencode` and `queryparam` format
 *   it). Without a custom all value, "All" is the list of every option's value.
 * - A format function (a datasource's) gets (value, { name, type, multi, includeAll }); a value is
 *   a string for a single-value variable and an array for a multi-value one.
 * - No format: `glob` ({a,b} for several values).
 */
import type { ScopedVars, TimeRange, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

export interface DashboardVariable {
  name: string;
  type: string;
  multi: boolean;
  includeAll: boolean;
  allValue?: string;
  /** The values "All" stands for without a custom all value (the variable's options). */
  options: string[];
  /** The current selection: 'all', or the selected values. */
  current: 'all' | string[];
}

/** What a format function receives as its second argument. */
export interface FormatVariable {
  name: string;
  type: string;
  multi: boolean;
  includeAll: boolean;
}

export type FormatFunction = (value: string | string[], variable: FormatVariable) => string;

// Grafana's variableRegex: $var, [[var:fmt]], ${var.field:fmt}.
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

function glob(value: string | string[]): string {
  if (Array.isArray(value)) {
    return value.length > 1 ? `{${value.join(',')}}` : (value[0] ?? '');
  }
  return value;
}

function regexEscape(text: string): string {
  return text.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

/** The named formats the provisioned dashboards could use (Grafana's formatRegistry). */
const FORMATS: Record<string, (value: string | string[]) => string> = {
  glob,
  raw: (value) => (Array.isArray(value) ? value.join(',') : value),
  csv: (value) => (Array.isArray(value) ? value.join(',') : value),
  pipe: (value) => (Array.isArray(value) ? value.join('|') : value),
  regex: (value) => {
    const values = Array.isArray(value) ? value : [value];
    return values.length === 1 ? regexEscape(values[0] ?? '') : `(${values.map(regexEscape).join('|')})`;
  },
  json: (value) => JSON.stringify(value),
  singlequote: (value) => (Array.isArray(value) ? value : [value]).map((v) => `'${v.replace(/'/g, "\\'")}'`).join(','),
  doublequote: (value) => (Array.isArray(value) ? value : [value]).map((v) => `"${v.replace(/"/g, '\\"')}"`).join(','),
  percentencode: (value) =>
    Array.isArray(value) ? encodeURIComponent(`{${value.join(',')}}`) : encodeURIComponent(value),
};

export class ScenesTemplateSrv implements TemplateSrv {
  constructor(private readonly variables: DashboardVariable[]) {}

  getVariables(): TypedVariableModel[] {
    return this.variables.map(
      (variable) =>
        ({
          name: variable.name,
          type: variable.type,
          multi: variable.multi,
          includeAll: variable.includeAll,
          current: { value: variable.current === 'all' ? ['$__all'] : variable.current },
        }) as unknown as TypedVariableModel
    );
  }

  containsTemplate(target?: string): boolean {
    return target !== undefined && new RegExp(VARIABLE.source).test(target);
  }

  updateTimeRange(_range: TimeRange): void {}

  replace(target?: string, scopedVars: ScopedVars = {}, format?: string | FormatFunction): string {
    if (target === undefined) {
      return '';
    }
    return target.replace(
      VARIABLE,
      (
        match: string,
        simple?: string,
        bracketName?: string,
        bracketFormat?: string,
        bracedName?: string,
        _field?: string,
        bracedFormat?: string
      ) => {
        const name = simple ?? bracketName ?? bracedName ?? '';
        const formatName = bracketFormat ?? bracedFormat;
        const scoped = scopedVars[name];
        if (scoped !== undefined) {
          return String(scoped.value);
        }
        const variable = this.variables.find((candidate) => candidate.name === name);
        if (variable === undefined) {
          return match;
        }
        return this.formatted(variable, formatName ?? format);
      }
    );
  }

  private formatted(variable: DashboardVariable, format: string | FormatFunction | undefined): string {
    if (variable.current === 'all' && variable.allValue !== undefined && variable.allValue !== '') {
      // Scenes' CustomAllValue: unformatted, but for these three formats.
      if (format === 'text') {
        return 'All';
      }
      if (format === 'percentencode') {
        return encodeURIComponent(variable.allValue);
      }
      if (format === 'queryparam') {
        return `var-${variable.name}=All`;
      }
      return this.replace(variable.allValue);
    }
    const values = variable.current === 'all' ? variable.options : variable.current;
    const value: string | string[] = variable.multi || variable.current === 'all' ? values : (values[0] ?? '');
    if (typeof format === 'function') {
      const { name, type, multi, includeAll } = variable;
      return format(value, { name, type, multi, includeAll });
    }
    if (format === 'text') {
      return Array.isArray(value) ? value.join(' + ') : value;
    }
    if (format === 'queryparam') {
      return (Array.isArray(value) ? value : [value])
        .map((v) => `var-${variable.name}=${encodeURIComponent(v)}`)
        .join('&');
    }
    const formatter = FORMATS[format ?? 'glob'];
    if (formatter === undefined) {
      throw new Error(`\${${variable.name}:${String(format)}}: a format these tests do not model`);
    }
    return formatter(value);
  }
}

/** A dashboard JSON variable (templating.list entry) at a given selection. */
export function dashboardVariable(
  json: Record<string, unknown>,
  current: 'all' | string[],
  options: string[]
): DashboardVariable {
  const allValue = typeof json.allValue === 'string' && json.allValue !== '' ? json.allValue : undefined;
  return {
    name: String(json.name),
    type: String(json.type),
    multi: json.multi === true,
    includeAll: json.includeAll === true,
    ...(allValue === undefined ? {} : { allValue }),
    options,
    current,
  };
}

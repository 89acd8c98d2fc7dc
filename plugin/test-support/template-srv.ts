/*
 * Grafana's TemplateSrv for tests (it lives in Grafana's app, not in a package): dashboard
 * variables with current values, `$name` / `${name}` / `${name:format}` syntax, scoped variables
 * first, and a format function called with (value, variable) as Grafana does. "All" passes every
 * option's value, as Grafana does for a variable without a custom all value.
 */
import type { ScopedVars, TimeRange, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

export interface TestVariable {
  name: string;
  /** One value, several (multi-value) or '$__all'. */
  value: string | string[];
  /** The values "All" stands for. */
  options?: string[];
}

const VARIABLE = /\$(\w+)|\$\{(\w+)(?::(\w+))?\}/g;

type Formatter = (value: string | string[], variable: unknown) => string;

export class TestTemplateSrv implements TemplateSrv {
  constructor(private readonly variables: TestVariable[] = []) {}

  getVariables(): TypedVariableModel[] {
    return this.variables.map((variable) => this.model(variable) as unknown as TypedVariableModel);
  }

  containsTemplate(target?: string): boolean {
    return target !== undefined && new RegExp(VARIABLE.source).test(target);
  }

  updateTimeRange(_range: TimeRange): void {}

  replace(target?: string, scopedVars: ScopedVars = {}, format?: string | Formatter): string {
    if (target === undefined) {
      return '';
    }
    return target.replace(VARIABLE, (match, simple: string | undefined, braced: string | undefined) => {
      const name = simple ?? braced ?? '';
      const scoped = scopedVars[name];
      if (scoped !== undefined) {
        return String(scoped.value);
      }
      const variable = this.variables.find((candidate) => candidate.name === name);
      if (variable === undefined) {
        return match;
      }
      const isAll = variable.value === '$__all' || (Array.isArray(variable.value) && variable.value.includes('$__all'));
      const value = isAll ? (variable.options ?? []) : variable.value;
      if (typeof format === 'function') {
        return format(value, this.model(variable));
      }
      return Array.isArray(value) ? value.join(',') : value;
    });
  }

  private model(variable: TestVariable) {
    return { name: variable.name, type: 'query', current: { value: variable.value, text: variable.value } };
  }
}

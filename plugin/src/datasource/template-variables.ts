/*
 * `$variable` interpolation for filter values. A multi-value variable expands into several values
 * of one filter (the collector ORs them); "All" removes the filter, because "any value" is no
 * filter at all and the collector caps a filter at 100 values.
 *
 * How "All" is recognised: Grafana's dashboards (Scenes) pass a custom all value unformatted, to
 * every datasource of the dashboard, and do not pass the variable's current value to a format
 * function. So a variable should set its custom all value to `.*` (ALL_VALUE), which this
 * datasource reads as "any value" and which is also a valid regular expression matching anything
 * for the Prometheus panels of the same dashboard (`*` alone, read the same way here, is not: a
 * Prometheus query with `=~"*"` fails). The older dashboard code passes the variable, whose
 * current value is `$__all`; all of these work.
 */
import type { AdHocVariableFilter, ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import { isLookupField, type LookupFilters } from '../types';

/** Separates the values of a multi-value variable inside one interpolated string. */
const VALUE_SEPARATOR = '\u001f';
/** Stands for "All" while interpolating; a filter containing it is dropped. */
const ANY_VALUE = '\u001e';
/** The custom all value dashboards should give crumbtrail variables ("Custom all value": .*). */
export const ALL_VALUE = '.*';
/** Custom all values read as "any value": `.*`, and `*` from dashboards made before it. */
const ALL_VALUES = new Set([ALL_VALUE, '*', '$__all']);

interface VariableLike {
  current?: { value?: unknown };
}

function isAllSelected(variable: unknown): boolean {
  const value = (variable as VariableLike | undefined)?.current?.value;
  return value === '$__all' || (Array.isArray(value) && value.includes('$__all'));
}

/** Grafana calls this for each variable in a string: keep values apart instead of joining them. */
function formatValues(value: string | string[], variable: unknown): string {
  const values = Array.isArray(value) ? value : [value];
  if (isAllSelected(variable) || values.some((candidate) => ALL_VALUES.has(candidate))) {
    return ANY_VALUE;
  }
  return Array.isArray(value) ? value.join(VALUE_SEPARATOR) : value;
}

/** Expands one saved value into the values it stands for; undefined means "any value". */
function interpolateValue(templateSrv: TemplateSrv, value: string, scopedVars: ScopedVars): string[] | undefined {
  const replaced = templateSrv.replace(value, scopedVars, formatValues);
  if (replaced.includes(ANY_VALUE)) {
    return undefined;
  }
  const parts = replaced.split(VALUE_SEPARATOR).filter((part) => part.length > 0);
  // Scenes hands a custom all value over as it is, without calling formatValues: a variable that
  // became `.*` (or `*`) is "All". A value typed without a variable is taken literally.
  if (templateSrv.containsTemplate(value) && parts.some((part) => ALL_VALUES.has(part))) {
    return undefined;
  }
  return parts;
}

export function interpolateFilters(
  templateSrv: TemplateSrv,
  filters: LookupFilters | undefined,
  scopedVars: ScopedVars
): LookupFilters {
  const result: LookupFilters = {};
  for (const [field, values] of Object.entries(filters ?? {})) {
    if (!isLookupField(field) || values === undefined || values.length === 0) {
      continue;
    }
    const expanded: string[] = [];
    let matchesAnything = false;
    for (const value of values) {
      const interpolated = interpolateValue(templateSrv, value, scopedVars);
      if (interpolated === undefined) {
        matchesAnything = true;
        break;
      }
      expanded.push(...interpolated);
    }
    if (!matchesAnything && expanded.length > 0) {
      result[field] = [...new Set(expanded)];
    }
  }
  return result;
}

/**
 * Dashboard ad-hoc filters narrow every query: `key = value` on a lookup field. The collector has
 * no negation, so other operators cannot be honoured; they are reported instead of ignored.
 */
export function applyAdHocFilters(filters: LookupFilters, adHoc: AdHocVariableFilter[] | undefined): LookupFilters {
  const result: LookupFilters = { ...filters };
  for (const filter of adHoc ?? []) {
    if (!isLookupField(filter.key)) {
      throw new Error(`ad-hoc filter "${filter.key}" is not a crumbtrail lookup field`);
    }
    if (filter.operator !== '=') {
      throw new Error(`ad-hoc filter ${filter.key} ${filter.operator} …: crumbtrail filters support "=" only`);
    }
    const existing = result[filter.key];
    // An ad-hoc filter narrows: with the same field already filtered, keep only the common value.
    result[filter.key] = existing === undefined ? [filter.value] : existing.filter((value) => value === filter.value);
  }
  return result;
}

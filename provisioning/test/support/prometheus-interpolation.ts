/*
 * How Grafana's Prometheus datasource formats a dashboard variable inside a PromQL expression:
 * its interpolateQueryExpr, as in @grafana/prometheus 13.1.4 (dist/esm/escaping.mjs) with the
 * prometheusSpecialCharsInLabelValues feature toggle off (its default). A multi-value or
 * include-all variable is regex-escaped and several values become (a|b); the result then sits
 * inside a PromQL string literal, hence the doubled backslashes. A custom all value never reaches
 * this function (Scenes passes it unformatted; see plugin/test-support/scenes-template-srv.ts).
 */
import type { FormatVariable } from '../../../plugin/test-support/scenes-template-srv.js';

function regularEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

function specialRegexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');
}

export function prometheusInterpolateQueryExpr(value: string | string[], variable: FormatVariable): string {
  if (!variable.multi && !variable.includeAll) {
    return Array.isArray(value) ? value.map(regularEscape).join(',') : regularEscape(value);
  }
  if (typeof value === 'string') return specialRegexEscape(value);
  const escaped = value.map(specialRegexEscape);
  return escaped.length === 1 ? (escaped[0] ?? '') : `(${escaped.join('|')})`;
}

/**
 * The variables Grafana's Prometheus datasource adds to every query (its query range), in the
 * unit Prometheus' range selectors take.
 */
export function prometheusRangeVariables(
  rangeSeconds: number,
): Record<string, { text: string; value: string }> {
  const seconds = String(rangeSeconds);
  return {
    __range: { text: `${seconds}s`, value: `${seconds}s` },
    __range_s: { text: seconds, value: seconds },
    __range_ms: { text: String(rangeSeconds * 1000), value: String(rangeSeconds * 1000) },
    __interval: { text: '15s', value: '15s' },
    __rate_interval: { text: '1m', value: '1m' },
  };
}

/* The alerting rules of a Prometheus rule file, as plain records. */
import { type JsonObject, objectAt, objectsAt, stringAt } from './json-shapes.js';

export interface PrometheusAlert {
  alert: string;
  expr: string;
  for: string;
  labels: JsonObject;
  annotations: JsonObject;
}

export function prometheusAlertsOf(document: unknown): PrometheusAlert[] {
  return objectsAt(document, 'groups').flatMap((group) =>
    objectsAt(group, 'rules')
      .filter((rule) => typeof rule.alert === 'string')
      .map((rule) => ({
        alert: stringAt(rule, 'alert') ?? '',
        expr: stringAt(rule, 'expr') ?? '',
        for: stringAt(rule, 'for') ?? '0s',
        labels: objectAt(rule, 'labels'),
        annotations: objectAt(rule, 'annotations'),
      })),
  );
}

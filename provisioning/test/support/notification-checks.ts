/*
 * Contact points and the notification policy tree: every receiver a policy names exists, and each
 * alert rule's labels are routed (Alertmanager's first-matching-route rule) to a contact point.
 */
import { isObject, type JsonObject, objectsAt, stringAt } from './json-shapes.js';

export interface ContactPoint {
  name: string;
  receivers: JsonObject[];
}

export function contactPointsOf(documents: unknown[]): ContactPoint[] {
  return documents.flatMap((document) =>
    objectsAt(document, 'contactPoints').map((point) => ({
      name: stringAt(point, 'name') ?? '',
      receivers: objectsAt(point, 'receivers'),
    })),
  );
}

export function contactPointProblems(points: ContactPoint[]): string[] {
  const problems: string[] = [];
  for (const point of points) {
    if (!point.name) problems.push('a contact point has no name');
    if (point.receivers.length === 0) problems.push(`contact point ${point.name}: no receivers`);
    for (const receiver of point.receivers) {
      if (!stringAt(receiver, 'uid')) problems.push(`contact point ${point.name}: a receiver has no uid`);
      if (!stringAt(receiver, 'type')) problems.push(`contact point ${point.name}: a receiver has no type`);
      const settings = receiver.settings;
      if (receiver.type === 'webhook' && !(isObject(settings) && stringAt(settings, 'url'))) {
        problems.push(`contact point ${point.name}: a webhook needs settings.url`);
      }
    }
  }
  return problems;
}

type Matcher = [string, string, string];

function matchersOf(route: JsonObject): Matcher[] {
  const list = route.object_matchers;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (matcher): matcher is Matcher =>
      Array.isArray(matcher) && matcher.length === 3 && matcher.every((part) => typeof part === 'string'),
  );
}

function matches(labels: Record<string, string>, [name, operator, value]: Matcher): boolean {
  const actual = labels[name] ?? '';
  switch (operator) {
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case '=~':
      return new RegExp(`^(?:${value})$`).test(actual);
    case '!~':
      return !new RegExp(`^(?:${value})$`).test(actual);
    default:
      return false;
  }
}

export function policyTreesOf(documents: unknown[]): JsonObject[] {
  return documents.flatMap((document) => objectsAt(document, 'policies'));
}

/** Receivers named anywhere in a policy tree that are not contact points, and malformed matchers. */
export function policyProblems(trees: JsonObject[], points: ContactPoint[]): string[] {
  const names = new Set(points.map((point) => point.name));
  const problems: string[] = [];
  const visit = (route: JsonObject, where: string) => {
    const receiver = stringAt(route, 'receiver');
    if (receiver !== undefined && !names.has(receiver))
      problems.push(`${where}: receiver "${receiver}" is not a contact point`);
    const declared = route.object_matchers;
    if (
      declared !== undefined &&
      (!Array.isArray(declared) || matchersOf(route).length !== declared.length)
    ) {
      problems.push(`${where}: object_matchers must be [label, operator, value] triples`);
    }
    objectsAt(route, 'routes').forEach((child, index) => {
      visit(child, `${where} → route ${String(index + 1)}`);
    });
  };
  for (const tree of trees) {
    if (!stringAt(tree, 'receiver')) problems.push('the root policy needs a receiver');
    visit(tree, 'root policy');
  }
  return problems;
}

/** The receiver Alertmanager's routing picks for these labels: the deepest first-matching route. */
export function receiverFor(tree: JsonObject, labels: Record<string, string>): string | undefined {
  const route = (node: JsonObject, inherited: string | undefined): string | undefined => {
    const receiver = stringAt(node, 'receiver') ?? inherited;
    for (const child of objectsAt(node, 'routes')) {
      if (matchersOf(child).every((matcher) => matches(labels, matcher))) return route(child, receiver);
    }
    return receiver;
  };
  return route(tree, undefined);
}

/** Whether some child route (not just the root's default) matches these labels. */
export function hasMatchingRoute(tree: JsonObject, labels: Record<string, string>): boolean {
  return objectsAt(tree, 'routes').some((child) =>
    matchersOf(child).every((matcher) => matches(labels, matcher)),
  );
}

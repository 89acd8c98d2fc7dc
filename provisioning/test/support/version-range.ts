/*
 * Does a Grafana version satisfy a plugin.json grafanaDependency such as ">=12.3.0"? Covers the
 * comparators plugin.json uses (>=, >, <=, <, =, space-separated ranges that must all hold, and
 * "||" alternatives); pre-release suffixes compare as the release.
 */
function parts(version: string): number[] {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim());
  if (match === null) throw new Error(`not a version: ${version}`);
  return [match[1], match[2], match[3]].map((part) => Number(part ?? 0));
}

function compare(a: string, b: string): number {
  const [left, right] = [parts(a), parts(b)];
  for (let index = 0; index < 3; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

function satisfiesComparator(version: string, comparator: string): boolean {
  const match = /^(>=|<=|>|<|=)?\s*(.+)$/.exec(comparator);
  if (match === null) throw new Error(`not a version range: ${comparator}`);
  const order = compare(version, match[2] ?? '');
  switch (match[1]) {
    case '>=':
      return order >= 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '<':
      return order < 0;
    default:
      return order === 0;
  }
}

export function satisfiesRange(version: string, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .replace(/([<>=]+)\s+/g, '$1')
      .trim()
      .split(/\s+/)
      .filter((comparator) => comparator !== '')
      .every((comparator) => satisfiesComparator(version, comparator)),
  );
}

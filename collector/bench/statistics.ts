/** Small helpers for reporting benchmark figures. */

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Peak resident set size of a process, from /proc (Linux), in MiB. */
export async function peakRssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match === null ? Number.NaN : Number(match[1]) / 1024;
}

export interface ResultRow {
  section: string;
  measure: string;
  value: string;
  baseline: string;
  ratio: string;
  target: string;
}

export function printTable(rows: readonly ResultRow[]): void {
  const headers: ResultRow = {
    section: 'section',
    measure: 'measure',
    value: 'value',
    baseline: 'baseline (same run)',
    ratio: 'ratio',
    target: 'target',
  };
  const keys = Object.keys(headers) as (keyof ResultRow)[];
  const widths = keys.map((key) => Math.max(...[headers, ...rows].map((row) => row[key].length)));
  const line = (row: ResultRow): string => keys.map((key, i) => row[key].padEnd(widths[i]!)).join(' | ');
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

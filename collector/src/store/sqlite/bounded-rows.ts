/*
 * Reads a statement's rows up to a budget of text, so one lookup page never holds more than a
 * bounded number of bytes however large its records are (each is at most 256 KB, but a thousand
 * of them would be 256 MB in one reply). At least one row is always returned, so paging advances.
 */
import type Database from 'better-sqlite3';
import type { SqlValue } from './filter-sql.js';

export interface TextBudget {
  /** The column whose text is counted. */
  column: string;
  /** Characters of that column, summed over rows, after which no further row is read. */
  maxChars: number;
}

export interface BoundedRows {
  rows: unknown[];
  /** True when the budget stopped the read before the statement's last row. */
  stoppedEarly: boolean;
}

export function readRows(
  statement: Database.Statement,
  params: readonly SqlValue[],
  budget: TextBudget | undefined,
): BoundedRows {
  if (budget === undefined) return { rows: statement.all(...params), stoppedEarly: false };
  const rows: unknown[] = [];
  let chars = 0;
  for (const row of statement.iterate(...params) as IterableIterator<Record<string, unknown>>) {
    const text = row[budget.column];
    const size = typeof text === 'string' ? text.length : 0;
    if (rows.length > 0 && chars + size > budget.maxChars) {
      // Leaving the loop early closes the iterator (and resets the statement).
      return { rows, stoppedEarly: true };
    }
    chars += size;
    rows.push(row);
  }
  return { rows, stoppedEarly: false };
}

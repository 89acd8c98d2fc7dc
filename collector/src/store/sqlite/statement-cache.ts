/*
 * Prepared statements reused by SQL text. Lookups produce a bounded number of shapes (which
 * fields, how many values each), so the cache stays small; it is cleared if it ever grows large.
 */
import type Database from 'better-sqlite3';

const LIMIT = 256;

export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      if (this.statements.size >= LIMIT) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

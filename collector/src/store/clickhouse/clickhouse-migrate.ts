/*
 * Applies the ClickHouse schema's migrations that a database lacks, in order, and records each in
 * schema_migrations. Every statement is idempotent (IF NOT EXISTS), so collectors starting at once,
 * or a DBA who ran the printed DDL, leave the same schema. A database a newer crumbtrail wrote is refused.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { CLICKHOUSE_SCHEMA_VERSION, migrations, migrationsTableDdl } from './clickhouse-schema.js';
import type { SchemaTarget } from './clickhouse-schema.js';

export async function migrateClickHouse(client: ClickHouseClient, target: SchemaTarget): Promise<number> {
  // Insert and DDL acknowledged on every shard before the next step reads.
  const settings = target.cluster === undefined ? {} : { insert_distributed_sync: 1 as const };
  for (const statement of migrationsTableDdl(target)) await client.command({ query: statement });
  const result = await client.query({
    query: `SELECT max(version) AS version, count() AS n FROM ${target.database}.schema_migrations`,
    format: 'JSONEachRow',
  });
  const [row] = await result.json<{ version: number | string; n: number | string }>();
  const current = Number(row?.n ?? 0) === 0 ? 0 : Number(row?.version);
  if (current > CLICKHOUSE_SCHEMA_VERSION) {
    throw new Error(
      `the ClickHouse database ${target.database} was written by a newer crumbtrail (schema ${current}, this one knows ${CLICKHOUSE_SCHEMA_VERSION})`,
    );
  }
  for (const [version, statements] of migrations(target)) {
    if (version <= current) continue;
    for (const statement of statements) await client.command({ query: statement });
    await client.insert({
      table: `${target.database}.schema_migrations`,
      values: [{ version, applied_ms: Date.now() }],
      format: 'JSONEachRow',
      clickhouse_settings: settings,
    });
  }
  return Math.max(current, CLICKHOUSE_SCHEMA_VERSION);
}

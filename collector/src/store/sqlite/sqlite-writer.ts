/*
 * The write side of the SQLite store: batched inserts (one transaction per batch) and
 * retention deletes. Runs on the writer thread (writer-thread.ts), or inline.
 */
import type Database from 'better-sqlite3';
import type { InsertOutcome } from '../event-store.js';
import type { EventRow } from './event-row.js';

export class SqliteWriter {
  private readonly insertBatch: (rows: readonly EventRow[]) => InsertOutcome;
  private readonly deleteBatch: (cutoffMs: number, maxEvents: number) => number;

  constructor(private readonly db: Database.Database) {
    const insertEvent = db.prepare(
      `INSERT OR IGNORE INTO events (event_id, event_time, event_name, event_source, username, access_key_id,
         read_only, error_code, source_ip, event_category, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertResource = db.prepare(
      'INSERT INTO event_resources (seq, position, event_time, resource_type, resource_name) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertBatch = db.transaction((rows: readonly EventRow[]) => {
      let inserted = 0;
      for (const row of rows) {
        const result = insertEvent.run(
          row.eventId,
          row.eventTimeMs,
          row.eventName,
          row.eventSource,
          row.username,
          row.accessKeyId,
          row.readOnly,
          row.errorCode,
          row.sourceIp,
          row.eventCategory,
          row.record,
        );
        // INSERT OR IGNORE on the unique eventID: a retried export changes nothing.
        if (result.changes === 0) continue;
        inserted++;
        row.resources.forEach(([type, name], position) => {
          insertResource.run(result.lastInsertRowid, position, row.eventTimeMs, type, name);
        });
      }
      return { inserted, duplicates: rows.length - inserted };
    });

    const selectExpired = db
      .prepare('SELECT seq FROM events WHERE event_time < ? ORDER BY event_time LIMIT ?')
      .pluck();
    const deleteEvent = db.prepare('DELETE FROM events WHERE seq = ?');
    const deleteResources = db.prepare('DELETE FROM event_resources WHERE seq = ?');
    this.deleteBatch = db.transaction((cutoffMs: number, maxEvents: number) => {
      const doomed = selectExpired.all(cutoffMs, maxEvents) as number[];
      for (const seq of doomed) {
        deleteEvent.run(seq);
        deleteResources.run(seq);
      }
      return doomed.length;
    });
  }

  insert(rows: readonly EventRow[]): InsertOutcome {
    return this.insertBatch(rows);
  }

  deleteOlderThan(cutoffMs: number, maxEvents: number): number {
    return this.deleteBatch(cutoffMs, maxEvents);
  }
}

/*
 * The write side of the SQLite store: batched inserts (one transaction per batch) and
 * retention deletes. Runs on the writer thread (writer-thread.ts), or inline.
 */
import type Database from 'better-sqlite3';
import type { InsertOutcome } from '../event-store.js';
import type { EventRow } from '../event-row.js';
import { TEXT_INDEX_TABLE, TextIndexer } from './text-index.js';

/** One API's calls in one minute, summed over a transaction's new events. */
interface MinuteTally {
  minute: number;
  eventSource: string;
  eventName: string;
  writeCalls: number;
  readCalls: number;
  errors: number;
}

const INSIGHT_CATEGORY = 'Insight';
/** store_meta entry: the highest seq retention ever deleted. */
const SEQ_HIGH_WATER = 'seq-high-water';

export class SqliteWriter {
  private readonly insertBatch: (rows: readonly EventRow[]) => InsertOutcome;
  private readonly deleteBatch: (cutoffMs: number, maxEvents: number) => number;

  readonly textIndexer: TextIndexer;

  constructor(private readonly db: Database.Database) {
    this.textIndexer = new TextIndexer(db);
    const insertEvent = db.prepare(
      `INSERT OR IGNORE INTO events (seq, event_id, event_time, event_name, event_source, username, access_key_id,
         read_only, error_code, source_ip, event_category, record)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // SQLite numbers a row one past the table's highest seq, so an emptied table would start at 1
    // again; a trail that delivered "through seq N" would then never see the new rows. The writer
    // is the only one inserting, so it numbers rows itself, past the highest seq retention deleted.
    const highestDeleted = db
      .prepare(`SELECT value FROM store_meta WHERE name = '${SEQ_HIGH_WATER}'`)
      .pluck();
    const highestStored = db.prepare('SELECT MAX(seq) FROM events').pluck();
    const recordHighestDeleted = db.prepare(
      `INSERT INTO store_meta (name, value) VALUES ('${SEQ_HIGH_WATER}', ?)
       ON CONFLICT DO UPDATE SET value = MAX(value, excluded.value)`,
    );
    const numberFrom = (): number =>
      Math.max(Number(highestStored.get() ?? 0), Number(highestDeleted.get() ?? 0)) + 1;
    const insertResource = db.prepare(
      'INSERT INTO event_resources (seq, position, event_time, resource_type, resource_name) VALUES (?, ?, ?, ?, ?)',
    );
    const addMinuteCounts = db.prepare(
      `INSERT INTO minute_counts (minute, event_source, event_name, write_calls, read_calls, errors)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET write_calls = write_calls + excluded.write_calls,
         read_calls = read_calls + excluded.read_calls, errors = errors + excluded.errors`,
    );
    const addSeries = db.prepare(
      `INSERT INTO api_series (event_source, event_name, first_minute) VALUES (?, ?, ?)
       ON CONFLICT DO UPDATE SET first_minute = MIN(first_minute, excluded.first_minute)`,
    );
    this.insertBatch = db.transaction((rows: readonly EventRow[]) => {
      let inserted = 0;
      let seq = numberFrom();
      // Counted in memory, written once per (minute, API): a batch holds a few thousand events
      // but only a handful of such pairs.
      const tallies = new Map<string, MinuteTally>();
      for (const row of rows) {
        const result = insertEvent.run(
          seq,
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
        seq++;
        inserted++;
        if (row.eventCategory !== INSIGHT_CATEGORY) countMinute(tallies, row);
        row.resources.forEach(([type, name], position) => {
          insertResource.run(result.lastInsertRowid, position, row.eventTimeMs, type, name);
        });
      }
      for (const tally of tallies.values()) {
        addMinuteCounts.run(
          tally.minute,
          tally.eventSource,
          tally.eventName,
          tally.writeCalls,
          tally.readCalls,
          tally.errors,
        );
        addSeries.run(tally.eventSource, tally.eventName, tally.minute);
      }
      return { inserted, duplicates: rows.length - inserted };
    });

    const selectExpired = db
      .prepare('SELECT seq FROM events WHERE event_time < ? ORDER BY event_time LIMIT ?')
      .pluck();
    const deleteEvent = db.prepare('DELETE FROM events WHERE seq = ?');
    const deleteResources = db.prepare('DELETE FROM event_resources WHERE seq = ?');
    const deleteIndexed = db.prepare(`DELETE FROM ${TEXT_INDEX_TABLE} WHERE rowid = ?`);
    const deleteMinuteCounts = db.prepare('DELETE FROM minute_counts WHERE minute < ?');
    this.deleteBatch = db.transaction((cutoffMs: number, maxEvents: number) => {
      const doomed = selectExpired.all(cutoffMs, maxEvents) as number[];
      const indexedThrough = this.textIndexer.highWater();
      for (const seq of doomed) {
        deleteEvent.run(seq);
        deleteResources.run(seq);
        // Only indexed events have index rows (the indexer moves rows and high-water together).
        if (seq <= indexedThrough) deleteIndexed.run(seq);
      }
      if (doomed.length > 0) recordHighestDeleted.run(Math.max(...doomed));
      // Only whole minutes before the cutoff: their events are all gone (or going in this sweep).
      if (doomed.length < maxEvents) deleteMinuteCounts.run(Math.floor(cutoffMs / 60_000));
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

function countMinute(tallies: Map<string, MinuteTally>, row: EventRow): void {
  const minute = Math.floor(row.eventTimeMs / 60_000);
  const key = `${minute}\u0000${row.eventSource}\u0000${row.eventName}`;
  let tally = tallies.get(key);
  if (tally === undefined) {
    tally = {
      minute,
      eventSource: row.eventSource,
      eventName: row.eventName,
      writeCalls: 0,
      readCalls: 0,
      errors: 0,
    };
    tallies.set(key, tally);
  }
  if (row.readOnly === 1) tally.readCalls++;
  else tally.writeCalls++;
  if (row.errorCode !== null) tally.errors++;
}

/*
 * SQLite schema. The record is kept whole as JSON text (served as is); the lookup attributes are
 * copied into columns, each with an (attribute, event_time) index so that any lookup walks one
 * index newest-first and stops after a page. Resources live in their own table because one event
 * can touch several.
 */
import type Database from 'better-sqlite3';
import { TEXT_INDEX_HIGH_WATER, TEXT_INDEX_SCHEMA, TEXT_INDEX_TABLE } from './text-index.js';

export const SCHEMA_VERSION = 3;

/** Exported for the migration test, which writes a version-1 file with it. */
export const SCHEMA_V1 = `
CREATE TABLE events (
  seq            INTEGER PRIMARY KEY,
  event_id       TEXT    NOT NULL UNIQUE,
  event_time     INTEGER NOT NULL,
  event_name     TEXT    NOT NULL,
  event_source   TEXT    NOT NULL,
  username       TEXT,
  access_key_id  TEXT,
  read_only      INTEGER NOT NULL,
  error_code     TEXT,
  source_ip      TEXT,
  event_category TEXT    NOT NULL,
  record         TEXT    NOT NULL
);
CREATE INDEX events_by_time         ON events (event_time);
CREATE INDEX events_by_name         ON events (event_name, event_time);
CREATE INDEX events_by_source       ON events (event_source, event_time);
CREATE INDEX events_by_username     ON events (username, event_time);
CREATE INDEX events_by_access_key   ON events (access_key_id, event_time);
CREATE INDEX events_by_error_code   ON events (error_code, event_time);
CREATE INDEX events_by_source_ip    ON events (source_ip, event_time);
-- Insight events are few among millions of API calls: a partial index finds them without the
-- cost of a full category index on every insert (measured 13% of insert time).
CREATE INDEX events_insights        ON events (event_time) WHERE event_category = 'Insight';

-- Keyed by the event's seq: appends stay at the end of the tree and retention deletes by seq.
CREATE TABLE event_resources (
  seq           INTEGER NOT NULL,
  position      INTEGER NOT NULL,
  event_time    INTEGER NOT NULL,
  resource_type TEXT,
  resource_name TEXT,
  PRIMARY KEY (seq, position)
) WITHOUT ROWID;
CREATE INDEX resources_by_type ON event_resources (resource_type, event_time);
CREATE INDEX resources_by_name ON event_resources (resource_name, event_time);

CREATE TABLE store_meta (
  name  TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
`;

/*
 * Version 2: per-minute call counts per API, kept by the writer in the same transaction as the
 * events they count (so they can never disagree after a crash), for Insights. Keyed by minute
 * first: an evaluation reads a few minute ranges for every API at once.
 */
const SCHEMA_V2 = `
CREATE TABLE minute_counts (
  minute       INTEGER NOT NULL,
  event_source TEXT    NOT NULL,
  event_name   TEXT    NOT NULL,
  write_calls  INTEGER NOT NULL,
  read_calls   INTEGER NOT NULL,
  errors       INTEGER NOT NULL,
  PRIMARY KEY (minute, event_source, event_name)
) WITHOUT ROWID;

-- Every API seen, and its first minute: how much history its baseline has.
CREATE TABLE api_series (
  event_source TEXT    NOT NULL,
  event_name   TEXT    NOT NULL,
  first_minute INTEGER NOT NULL,
  PRIMARY KEY (event_source, event_name)
) WITHOUT ROWID;
`;

/** Counts for events stored before version 2 (a one-time scan when upgrading). */
const BACKFILL_V2 = `
INSERT INTO minute_counts (minute, event_source, event_name, write_calls, read_calls, errors)
  SELECT event_time / 60000, event_source, event_name, SUM(read_only = 0), SUM(read_only = 1),
         SUM(error_code IS NOT NULL)
  FROM events WHERE event_category != 'Insight' GROUP BY 1, 2, 3;
INSERT INTO api_series (event_source, event_name, first_minute)
  SELECT event_source, event_name, MIN(minute) FROM minute_counts GROUP BY 1, 2;
`;

/*
 * Version 3: a trigram index over the record text, for free-text lookups (text-index.ts). Built
 * off the ingest path: the writer indexes committed rows in the background, and the high-water
 * seq says which are in it. A file upgraded from version 2 starts at 0, so the same background
 * indexing builds the index for the events already stored while lookups scan what it lacks.
 */
const SCHEMA_V3 = `
CREATE VIRTUAL TABLE ${TEXT_INDEX_TABLE} USING fts5(${TEXT_INDEX_SCHEMA});
INSERT INTO store_meta (name, value) VALUES ('${TEXT_INDEX_HIGH_WATER}', 0);
`;

/** Creates or upgrades the schema; refuses a file written by a newer crumbtrail. */
export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `the database was written by a newer crumbtrail (schema ${version}, this one knows ${SCHEMA_VERSION})`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version < 1) db.exec(SCHEMA_V1);
    if (version < 2) {
      db.exec(SCHEMA_V2);
      db.exec(BACKFILL_V2);
    }
    if (version < 3) db.exec(SCHEMA_V3);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

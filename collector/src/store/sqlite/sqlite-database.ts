/*
 * Opening a crumbtrail SQLite file: the pragmas every connection needs, and the schema.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './schema.js';

export interface SqliteOpenOptions {
  /** File path, or ':memory:' (tests). */
  path: string;
  /** NORMAL survives a process crash; FULL also survives power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** Page cache in MiB. */
  cacheMiB?: number;
}

/** 8 KiB pages measured ~20% faster inserts than 4 KiB with our 1–2 KB records. */
const PAGE_SIZE = 8192;

export function openDatabase(options: SqliteOpenOptions): Database.Database {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  // Takes effect only on a new file (before the first table), which is when it matters.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
  db.pragma(`cache_size = -${(options.cacheMiB ?? 64) * 1024}`);
  // Fewer, larger checkpoints: measured ~25% more insert throughput than the 1000-page default.
  db.pragma('wal_autocheckpoint = 10000');
  // The writer and the readers are separate connections: wait for a lock rather than fail.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

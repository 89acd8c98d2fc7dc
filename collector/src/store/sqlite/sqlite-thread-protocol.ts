/** Messages between the SQLite store (main thread) and its worker threads. */
import type { InsertOutcome } from '../event-store.js';
import type { PackedRows } from '../packed-rows.js';
import type { TextBudget } from './bounded-rows.js';
import type { SqlValue } from './filter-sql.js';
import type { SqliteOpenOptions } from './sqlite-database.js';

/** What a thread is started with. */
export interface SqliteThreadData {
  open: SqliteOpenOptions;
  /** The writer inserts and deletes; the reader answers queries and checkpoints the WAL. */
  role: 'writer' | 'reader';
  /** 'background': the writer indexes free text when idle; 'manual': only on indexText (tests). */
  textIndexing: TextIndexing;
}

export type TextIndexing = 'background' | 'manual';

export type ThreadRequest =
  | { id: number; op: 'insert'; batches: readonly PackedRows[] }
  | { id: number; op: 'deleteOlderThan'; cutoffMs: number; maxEvents: number }
  | { id: number; op: 'query'; sql: string; params: SqlValue[]; budget?: TextBudget }
  /** A single write statement, on the writer thread (ordered after the inserts before it). */
  | { id: number; op: 'run'; sql: string; params: SqlValue[] }
  /** Indexes up to maxRows unindexed events now (the free-text index, text-index.ts). */
  | { id: number; op: 'indexText'; maxRows: number }
  | { id: number; op: 'close' };

/** A request without its id (the client assigns ids). */
export type ThreadCall = ThreadRequest extends infer R
  ? R extends ThreadRequest
    ? Omit<R, 'id'>
    : never
  : never;

export type ThreadReply =
  | {
      id: number;
      ok: true;
      outcome?: InsertOutcome;
      deleted?: number;
      indexed?: number;
      rows?: unknown[];
      /** A query's budget stopped it before its last row. */
      stoppedEarly?: boolean;
    }
  | { id: number; ok: false; message: string };

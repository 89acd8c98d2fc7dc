/** Messages between the SQLite store (main thread) and its writer thread. */
import type { InsertOutcome } from '../event-store.js';
import type { EventRow } from './event-row.js';

export type WriterRequest =
  | { id: number; op: 'insert'; rows: EventRow[] }
  | { id: number; op: 'deleteOlderThan'; cutoffMs: number; maxEvents: number }
  | { id: number; op: 'close' };

export type WriterReply =
  | { id: number; ok: true; outcome?: InsertOutcome; deleted?: number }
  | { id: number; ok: false; message: string };

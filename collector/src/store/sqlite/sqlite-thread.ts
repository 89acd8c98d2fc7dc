/*
 * Worker-thread entry of the SQLite store. The store runs two: a writer (inserts and retention,
 * on its own core while ingest threads decode and map the next requests) and a
 * reader (lookups, so a slow free-text scan never blocks ingest, and can be stopped when it
 * overruns its time limit). Each reply is sent after the work is done: for inserts, after commit.
 */
import type Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { unpackRows } from '../packed-rows.js';
import { readRows } from './bounded-rows.js';
import { openDatabase } from './sqlite-database.js';
import { SqliteWriter } from './sqlite-writer.js';
import { StatementCache } from './statement-cache.js';
import { IdleTextIndexing } from './text-index.js';
import type { SqliteThreadData, ThreadReply, ThreadRequest } from './sqlite-thread-protocol.js';

const CHECKPOINT_INTERVAL_MS = 1000;
const WRITER_CHECKPOINT_PAGES = 50_000;

const port = parentPort;
if (port === null) throw new Error('sqlite-thread.ts must run as a worker thread');
const { open, role, textIndexing } = workerData as SqliteThreadData;
const db: Database.Database = openDatabase(open);
const statements = new StatementCache(db);
const writer: SqliteWriter | undefined = role === 'writer' ? new SqliteWriter(db) : undefined;
const idleIndexing =
  writer !== undefined && textIndexing === 'background'
    ? new IdleTextIndexing(writer.textIndexer)
    : undefined;
// Events stored before this start (or a file upgraded from version 2) are indexed when idle.
idleIndexing?.noteRequest();

function theWriter(): SqliteWriter {
  if (writer === undefined) throw new Error('writes go to the writer thread');
  return writer;
}

/*
 * Checkpoints (copying the WAL back into the database file) cost the writer ~20% of its insert
 * time when it runs them itself at commit. So the reader thread runs a PASSIVE checkpoint (which
 * never blocks the writer) every second, and the writer checkpoints only as a safety net, when a
 * long lookup has kept the reader busy and the WAL has grown past ~400 MB.
 */
if (role === 'writer') {
  db.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
} else {
  setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // A full disk fails the checkpoint; lookups still work, and the next one retries. Thrown
      // from a timer it would end the thread and every lookup waiting on it.
    }
  }, CHECKPOINT_INTERVAL_MS).unref();
}

function handle(request: ThreadRequest): ThreadReply {
  switch (request.op) {
    case 'insert':
      return { id: request.id, ok: true, outcome: theWriter().insert(request.batches.flatMap(unpackRows)) };
    case 'deleteOlderThan':
      return {
        id: request.id,
        ok: true,
        deleted: theWriter().deleteOlderThan(request.cutoffMs, request.maxEvents),
      };
    case 'indexText':
      return { id: request.id, ok: true, indexed: theWriter().textIndexer.indexNext(request.maxRows) };
    case 'run':
      statements.get(request.sql).run(...request.params);
      return { id: request.id, ok: true };
    case 'query':
      return {
        id: request.id,
        ok: true,
        ...readRows(statements.get(request.sql), request.params, request.budget),
      };
    case 'close':
      idleIndexing?.stop();
      if (db.open) db.close();
      return { id: request.id, ok: true };
  }
}

// Id 0 says the thread is up and the database open: time limits count from here, not from a
// cold start of the thread.
port.postMessage({ id: 0, ok: true } satisfies ThreadReply);

port.on('message', (request: ThreadRequest) => {
  idleIndexing?.noteRequest();
  let reply: ThreadReply;
  try {
    reply = handle(request);
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message };
  }
  port.postMessage(reply);
});

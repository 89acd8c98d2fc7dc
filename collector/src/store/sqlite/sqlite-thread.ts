/*
 * Worker-thread entry of the SQLite store. The store runs two: a writer (inserts and retention,
 * on the second core while the main thread reads, decodes and maps the next requests) and a
 * reader (lookups, so a slow free-text scan never blocks ingest, and can be stopped when it
 * overruns its time limit). Each reply is sent after the work is done: for inserts, after commit.
 */
import type Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from './sqlite-database.js';
import type { SqliteOpenOptions } from './sqlite-database.js';
import { SqliteWriter } from './sqlite-writer.js';
import { StatementCache } from './statement-cache.js';
import type { ThreadReply, ThreadRequest } from './sqlite-thread-protocol.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-thread.ts must run as a worker thread');
const db: Database.Database = openDatabase(workerData as SqliteOpenOptions);
const statements = new StatementCache(db);
let writer: SqliteWriter | undefined;

function handle(request: ThreadRequest): ThreadReply {
  switch (request.op) {
    case 'insert':
      writer ??= new SqliteWriter(db);
      return { id: request.id, ok: true, outcome: writer.insert(request.rows) };
    case 'deleteOlderThan':
      writer ??= new SqliteWriter(db);
      return {
        id: request.id,
        ok: true,
        deleted: writer.deleteOlderThan(request.cutoffMs, request.maxEvents),
      };
    case 'query':
      return { id: request.id, ok: true, rows: statements.get(request.sql).all(...request.params) };
    case 'close':
      if (db.open) db.close();
      return { id: request.id, ok: true };
  }
}

port.on('message', (request: ThreadRequest) => {
  let reply: ThreadReply;
  try {
    reply = handle(request);
  } catch (error) {
    reply = { id: request.id, ok: false, message: (error as Error).message };
  }
  port.postMessage(reply);
});

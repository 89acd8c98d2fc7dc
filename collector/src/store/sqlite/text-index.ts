/*
 * The free-text index: an FTS5 table with the trigram tokenizer over each event's record JSON,
 * keyed by the event's seq. It only narrows the search: a lookup still checks every candidate
 * with the LIKE that defines free-text matching (filter-sql.ts), so the index may return more
 * than matches (it folds non-ASCII case, LIKE does not) but never fewer.
 *
 * detail=none keeps no positions (the smallest index); a term becomes an AND of its trigrams,
 * each one quoted as an FTS5 string, so no character of the term is ever FTS5 query syntax.
 * Contentless (the text is in events.record already), with contentless_delete so retention can
 * delete rows by seq.
 */
import type Database from 'better-sqlite3';

export const TEXT_INDEX_TABLE = 'events_text';
export const TEXT_INDEX_SCHEMA = "record, content='', contentless_delete=1, tokenize='trigram', detail=none";
/** store_meta entry: every event with seq ≤ this value is in the text index, none above it. */
export const TEXT_INDEX_HIGH_WATER = 'text-index-high-water';

/** Trigrams need three characters: shorter terms cannot use the index. */
const TRIGRAM = 3;

/**
 * The FTS5 MATCH expression for a term (as it appears in the record's JSON), or undefined when
 * the term is too short for trigrams. Characters are code points, as the tokenizer counts them.
 */
export function trigramQuery(term: string): string | undefined {
  const chars = Array.from(term);
  if (chars.length < TRIGRAM) return undefined;
  const trigrams = new Set<string>();
  for (let i = 0; i + TRIGRAM <= chars.length; i++) trigrams.add(chars.slice(i, i + TRIGRAM).join(''));
  // Inside an FTS5 string only '"' is special, written twice.
  return [...trigrams].map((trigram) => `"${trigram.replaceAll('"', '""')}"`).join(' AND ');
}

/**
 * Seqs that may match: those the index finds, plus every event past the high-water (committed
 * but not indexed yet). One statement reads both from the same snapshot, and the indexer moves
 * rows and high-water in one transaction, so no event is ever in neither set.
 */
export const TEXT_CANDIDATES = `SELECT rowid AS seq FROM ${TEXT_INDEX_TABLE} WHERE ${TEXT_INDEX_TABLE} MATCH ?
  UNION ALL SELECT seq FROM events
  WHERE seq > IFNULL((SELECT value FROM store_meta WHERE name = '${TEXT_INDEX_HIGH_WATER}'), 0)`;

/**
 * Moves committed events into the index, oldest first, in steps: each step's rows and the new
 * high-water are one transaction, so a crash leaves the index and its high-water in agreement.
 * Runs on the writer's connection (SQLite has one writer at a time).
 */
export class TextIndexer {
  private readonly indexStep: (maxRows: number) => number;
  private readonly readHighWater: () => number;

  constructor(db: Database.Database) {
    const highWater = db
      .prepare(`SELECT value FROM store_meta WHERE name = '${TEXT_INDEX_HIGH_WATER}'`)
      .pluck();
    const pending = db.prepare('SELECT seq, record FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    const add = db.prepare(`INSERT INTO ${TEXT_INDEX_TABLE} (rowid, record) VALUES (?, ?)`);
    const setHighWater = db.prepare(
      `UPDATE store_meta SET value = ? WHERE name = '${TEXT_INDEX_HIGH_WATER}'`,
    );
    this.readHighWater = () => Number(highWater.get() ?? 0);
    this.indexStep = db.transaction((maxRows: number) => {
      const rows = pending.all(this.readHighWater(), Math.trunc(maxRows)) as {
        seq: number;
        record: string;
      }[];
      for (const row of rows) add.run(row.seq, row.record);
      const last = rows.at(-1);
      if (last !== undefined) setHighWater.run(last.seq);
      return rows.length;
    });
  }

  /** Indexes up to maxRows of the oldest unindexed events; returns how many it indexed. */
  indexNext(maxRows: number): number {
    return this.indexStep(maxRows);
  }

  /** The highest seq in the index (inside the caller's transaction when there is one). */
  highWater(): number {
    return this.readHighWater();
  }
}

/** Rows per indexing step: ~0.1–0.4 s of work, so a request waits at most that long behind one. */
export const TEXT_INDEX_STEP_ROWS = 2000;
/** The writer indexes once it has had no request for this long. */
const IDLE_BEFORE_INDEXING_MS = 20;

/**
 * Indexing off the ingest path: the writer thread indexes only while no request is arriving.
 * Every request resets the idle timer and stops a run of steps after the current one, so inserts
 * keep their full throughput and the index catches up in the gaps. Under sustained saturation the
 * index lags and lookups scan the unindexed events (TEXT_CANDIDATES), slower but complete.
 */
export class IdleTextIndexing {
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;

  constructor(private readonly indexer: TextIndexer) {}

  /** A request arrived: stop indexing, and start again once the writer is idle. */
  noteRequest(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.run(this.generation);
    }, IDLE_BEFORE_INDEXING_MS);
    this.timer.unref();
  }

  private run(generation: number): void {
    if (generation !== this.generation) return;
    let indexed: number;
    try {
      indexed = this.indexer.indexNext(TEXT_INDEX_STEP_ROWS);
    } catch {
      // A full disk or a locked file fails the step; the next idle moment retries it. Thrown from
      // a timer it would end the writer thread.
      return;
    }
    // setImmediate lets waiting requests in before the next step (and they stop the run).
    if (indexed === TEXT_INDEX_STEP_ROWS) {
      setImmediate(() => {
        this.run(generation);
      }).unref();
    }
  }

  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
  }
}

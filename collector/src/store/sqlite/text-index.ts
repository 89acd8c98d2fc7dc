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
export const TEXT_INDEX_TABLE = 'events_text';
export const TEXT_INDEX_SCHEMA =
  "record, content='', contentless_delete=1, tokenize='trigram', detail=none";
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
export const TEXT_CANDIDATES = `SELECT rowid FROM ${TEXT_INDEX_TABLE} WHERE ${TEXT_INDEX_TABLE} MATCH ?
  UNION ALL SELECT seq FROM events
  WHERE seq > IFNULL((SELECT value FROM store_meta WHERE name = '${TEXT_INDEX_HIGH_WATER}'), 0)`;

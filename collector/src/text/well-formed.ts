/*
 * Text is normalised once, at ingest: a lone UTF-16 surrogate (which JSON can carry as "\ud800"
 * but UTF-8 cannot) becomes U+FFFD. Without this the SQLite columns (written as UTF-8, so U+FFFD)
 * and the stored record (JSON text, so "\ud800") would disagree, and a filter could never find
 * what the record shows.
 */

/** In a `u` regular expression a surrogate pair is one code point: only lone surrogates match. */
const LONE_SURROGATE = /\p{Surrogate}/gu;

export function wellFormed(text: string): string {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(text) ? text.replace(LONE_SURROGATE, '\uFFFD') : text;
}

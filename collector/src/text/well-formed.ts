/*
 * Text is normalised once, at ingest: a lone UTF-16 surrogate (which JSON can carry as "\ud800"
 * but UTF-8 cannot) becomes U+FFFD. Without this the SQLite columns (written as UTF-8, so U+FFFD)
 * and the stored record (JSON text, so "\ud800") would disagree, and a filter could never find
 * what the record shows.
 */

/** In a `u` regular expression a surrogate pair is one code point: only lone surrogates match. */
const LONE_SURROGATE = /\p{Surrogate}/gu;
/** A surrogate written as a JSON escape (a prefilter: pairs match too). */
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F]/;

/** ES2024's String.prototype.isWellFormed (native in Node 20, absent from the ES2023 lib types). */
type MaybeWellFormed = string & { isWellFormed?: () => boolean };

function isWellFormed(text: string): boolean {
  const native = (text as MaybeWellFormed).isWellFormed;
  if (native !== undefined) return native.call(text);
  LONE_SURROGATE.lastIndex = 0;
  return !LONE_SURROGATE.test(text);
}

export function wellFormed(text: string): string {
  return isWellFormed(text) ? text : text.replace(LONE_SURROGATE, '\uFFFD');
}

/** Whether JSON text parsed could hold a lone surrogate (raw, or escaped as \udxxx). */
export function mayHoldLoneSurrogate(jsonText: string): boolean {
  return !isWellFormed(jsonText) || ESCAPED_SURROGATE.test(jsonText);
}

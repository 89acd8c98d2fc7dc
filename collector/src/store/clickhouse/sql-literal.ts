/*
 * The one way a value becomes ClickHouse SQL. ClickHouse 18.16 (what Debian ships) has no query
 * parameters, so every value of a request is written into the query text as a literal made here;
 * no other code quotes or concatenates a value. Strings are sent as their UTF-8 bytes with every
 * byte that could end or bend a literal (quote, backslash, control bytes, DEL) written as \xHH, so
 * the literal holds exactly one token whatever the text: quotes, backslashes, NUL, newlines, lone
 * surrogates (made well-formed first, as the inserted columns are) or non-ASCII.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A JS string as the UTF-8 text ClickHouse stores: lone surrogates become U+FFFD, as on insert. */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

function needsEscape(byte: number): boolean {
  return byte < 0x20 || byte === 0x27 /* ' */ || byte === 0x5c /* \ */ || byte === 0x7f;
}

/** A ClickHouse string literal holding exactly `text` (as well-formed UTF-8). */
export function sqlString(text: string): string {
  const bytes = Buffer.from(wellFormed(text), 'utf8');
  let out = "'";
  let start = 0;
  for (const [i, byte] of bytes.entries()) {
    if (!needsEscape(byte)) continue;
    out += bytes.toString('utf8', start, i) + `\\x${byte.toString(16).padStart(2, '0')}`;
    start = i + 1;
  }
  return `${out}${bytes.toString('utf8', start)}'`;
}

/** An integer literal; anything but a safe integer is refused (never reaches the query). */
export function sqlInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${String(value)}`);
  return String(value);
}

/** `(lit, lit, …)` for IN; at least one value. */
export function sqlStringList(values: readonly string[]): string {
  if (values.length === 0) throw new RangeError('an IN list needs a value');
  return `(${values.map(sqlString).join(', ')})`;
}

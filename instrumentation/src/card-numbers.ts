/*
 * Payment card numbers found by value, wherever they are (a field named "card" or "note", inside
 * free text, as a JSON number): 13 to 19 digits, optionally grouped by single spaces or dashes,
 * that pass the Luhn check. The check keeps most order ids, phone numbers and timestamps, which
 * rarely pass it by chance (1 in 10).
 */

const MIN_DIGITS = 13;
const MAX_DIGITS = 19;
/** 13–19 digits with at most one space or dash between two, not part of a longer digit run. */
const CANDIDATE = /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g;

/** The Luhn (mod 10) check of a string of digits. */
function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index--) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Whether the text holds at least MIN_DIGITS digits: most strings are ruled out by this alone. */
function hasEnoughDigits(text: string): boolean {
  let digits = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 48 && code <= 57 && ++digits >= MIN_DIGITS) return true;
  }
  return false;
}

/** The text with every card number in it replaced by `marker`; the very same string when there is none. */
export function maskCardNumbers(text: string, marker: string): string {
  if (text.length < MIN_DIGITS || !hasEnoughDigits(text)) return text;
  return text.replace(CANDIDATE, (match) => {
    const digits = match.replace(/[ -]/g, '');
    return digits.length <= MAX_DIGITS && passesLuhn(digits) ? marker : match;
  });
}

/** Whether a JSON number is a card number (an integer of 13 to 19 digits passing the Luhn check). */
export function isCardNumber(value: number): boolean {
  if (!Number.isInteger(value) || value < 10 ** (MIN_DIGITS - 1)) return false;
  const digits = String(value);
  return /^\d+$/.test(digits) && digits.length <= MAX_DIGITS && passesLuhn(digits);
}

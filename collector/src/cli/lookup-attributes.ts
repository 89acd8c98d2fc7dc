/*
 * `--lookup-attributes` of `crumbtrail lookup-events`: the AWS CLI's syntax, in either form,
 *   shorthand  AttributeKey=EventName,AttributeValue=CreateUser
 *   JSON       [{"AttributeKey":"EventName","AttributeValue":"CreateUser"}]   (or one object)
 * with CloudTrail's PascalCase keys, mapped to the query API's camelCase parameters. Unlike AWS,
 * which allows one attribute, any number may be given: the same key ORs, different keys AND
 * (exactly what repeating / combining the API's parameters does).
 */
import type { LookupField } from '../store/event-store.js';
import { CLOUDTRAIL_LOOKUP_ATTRIBUTES } from '../store/event-store.js';

/** CloudTrail's AttributeKey names (and crumbtrail's additions) → the query API parameter. */
export const ATTRIBUTE_KEYS = {
  ...CLOUDTRAIL_LOOKUP_ATTRIBUTES,
  ErrorCode: 'errorCode',
  SourceIPAddress: 'sourceIPAddress',
  EventCategory: 'eventCategory',
} as const satisfies Record<string, LookupField>;

export type AttributeKey = keyof typeof ATTRIBUTE_KEYS;

export const VALID_ATTRIBUTE_KEYS = Object.keys(ATTRIBUTE_KEYS) as readonly AttributeKey[];

export interface LookupAttribute {
  key: AttributeKey;
  value: string;
}

/** A --lookup-attributes value that cannot be used; the message names the value and the problem. */
export class LookupAttributeError extends Error {
  override readonly name = 'LookupAttributeError';
}

const SYNTAX_HINT = 'expected AttributeKey=<key>,AttributeValue=<value>';
const MEMBER = /^\s*(\w+)=/;
/** Where an unquoted value ends: a comma that starts the other member. */
const NEXT_MEMBER = /,\s*(?=(?:AttributeKey|AttributeValue)=)/;

function isAttributeKey(name: string): name is AttributeKey {
  return Object.hasOwn(ATTRIBUTE_KEYS, name);
}

function attributeKey(name: string): AttributeKey {
  if (isAttributeKey(name)) return name;
  // Keys are case-sensitive, as in AWS; a near miss ("eventName") gets the right spelling.
  const suggestion = VALID_ATTRIBUTE_KEYS.find((key) => key.toLowerCase() === name.toLowerCase());
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
  throw new Error(`unknown AttributeKey "${name}"${hint}; valid keys: ${VALID_ATTRIBUTE_KEYS.join(', ')}`);
}

function attribute(key: string | undefined, value: string | undefined): LookupAttribute {
  if (key === undefined || value === undefined) throw new Error(SYNTAX_HINT);
  if (value.length === 0) throw new Error('AttributeValue must not be empty');
  return { key: attributeKey(key.trim()), value };
}

/** One member value: quoted ('…' or "…", so it may hold anything) or up to the next member. */
function readValue(rest: string): { value: string; rest: string } {
  const quote = rest[0];
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1);
    if (end < 0) throw new Error(`unterminated ${quote} quote`);
    const after = rest.slice(end + 1);
    if (after.length > 0 && !after.startsWith(',')) {
      throw new Error(`unexpected "${after}" after the quoted value`);
    }
    return { value: rest.slice(1, end), rest: after.replace(/^,\s*/, '') };
  }
  const next = NEXT_MEMBER.exec(rest);
  if (next === null) return { value: rest, rest: '' };
  return { value: rest.slice(0, next.index), rest: rest.slice(next.index + next[0].length) };
}

function parseShorthand(text: string): LookupAttribute {
  const members = new Map<string, string>();
  let rest = text;
  while (rest.length > 0) {
    const member = MEMBER.exec(rest);
    const name = member?.[1];
    if (member === null || name === undefined) throw new Error(SYNTAX_HINT);
    if (name !== 'AttributeKey' && name !== 'AttributeValue') {
      throw new Error(`unknown member "${name}"; ${SYNTAX_HINT}`);
    }
    if (members.has(name)) throw new Error(`${name} given twice; give one attribute per value`);
    const read = readValue(rest.slice(member[0].length));
    members.set(name, read.value);
    rest = read.rest;
  }
  return attribute(members.get('AttributeKey'), members.get('AttributeValue'));
}

function parseJsonItem(item: unknown): LookupAttribute {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new Error('expected {"AttributeKey": "<key>", "AttributeValue": "<value>"} objects');
  }
  const { AttributeKey: key, AttributeValue: value } = item as Record<string, unknown>;
  if (typeof key !== 'string' || typeof value !== 'string') {
    throw new Error('AttributeKey and AttributeValue must both be strings');
  }
  return attribute(key, value);
}

function parseJson(text: string): LookupAttribute[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('not valid JSON');
  }
  return Array.isArray(parsed) ? parsed.map(parseJsonItem) : [parseJsonItem(parsed)];
}

/** One --lookup-attributes value (JSON may hold several attributes). */
export function parseLookupAttribute(text: string): LookupAttribute[] {
  try {
    const trimmed = text.trim();
    return trimmed.startsWith('[') || trimmed.startsWith('{') ? parseJson(trimmed) : [parseShorthand(text)];
  } catch (error) {
    // The inner helpers say what is wrong; this says which value it was in.
    throw new LookupAttributeError(`invalid --lookup-attributes "${text}": ${(error as Error).message}`);
  }
}

export function parseLookupAttributes(texts: readonly string[]): LookupAttribute[] {
  return texts.flatMap(parseLookupAttribute);
}

/** Query-string pairs for the lookup API, in the order given (repeats are kept: they OR). */
export function lookupQueryParameters(attributes: readonly LookupAttribute[]): [LookupField, string][] {
  return attributes.map(({ key, value }) => [ATTRIBUTE_KEYS[key], value]);
}

import { SHAPE_KEY, SHAPE_QUOTE, SHAPE_SPACE, SHAPE_VALUE } from './byte-screen-kernels.js';

/**
 * A rule's optional `assignment` (README.md, "Rule file format"): a promise that every match of its
 * pattern is a name assigned a value — its fixed beginning (keyword) and a run of `keyChars`, at
 * most `maxKeyLength` characters in all, then optionally one quote (" ' `),
 * any white space (`\s`), an operator (`=`, `:`, `:=`, `=>`), any white space, optionally one
 * quote, and at least `minValueLength` characters of `valueChars`.
 *
 * Why: source code says "token" or "password" on most lines. The byte screen finds each of them,
 * and the rule's regex would be tried at every one; with this promise the screen itself drops the
 * places where no assignment can follow (byte-screen-kernels.ts), so the regex runs only where it
 * can match. The shape is necessary, not sufficient: the regex still decides.
 */
export interface AssignmentShape {
  /** As written in the rule file: the bodies of two character classes (`\w.-`) and two lengths. */
  readonly keyChars: string;
  readonly maxKeyLength: number;
  readonly valueChars: string;
  readonly minValueLength: number;
  /** For each byte value (a Latin-1 character): SHAPE_KEY | SHAPE_VALUE | SHAPE_SPACE | SHAPE_QUOTE. */
  readonly classes: Uint8Array;
  /** Equal for equal shapes (rules sharing a keyword share a check only when their shapes agree). */
  readonly key: string;
}

const SHAPE_KEYS = new Set(['keyChars', 'maxKeyLength', 'valueChars', 'minValueLength']);
const QUOTES = '"\'`';
const OPERATOR_BYTES = ':=';

/**
 * The shape of a rule's `assignment` value, or an error message naming the key and the fix.
 * `flags` are the rule's (`i` makes `a-z` match `A-Z` as in the pattern). `prefixes` are the
 * pattern's fixed beginnings (pattern-prefixes.ts): the check runs where one occurs, so the rule
 * needs them; they count as the name's first characters, whatever `keyChars` says of them.
 */
export function parseAssignmentShape(raw: unknown, flags: string, prefixes: readonly string[] | undefined, hasRequiresNearby: boolean): AssignmentShape | string {
  const form = '"assignment" must be { "keyChars": "\\\\w.-", "maxKeyLength": N, "valueChars": "A-Za-z0-9+/=_-", "minValueLength": N }';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return `${form}.`;
  const shape = raw as Record<string, unknown>;
  for (const key of Object.keys(shape)) if (!SHAPE_KEYS.has(key)) return `${form}; "${key}" is no key of it.`;
  const { keyChars, maxKeyLength, valueChars, minValueLength } = shape;
  if (typeof keyChars !== 'string' || keyChars === '' || typeof valueChars !== 'string' || valueChars === '') return `${form}: "keyChars" and "valueChars" are the insides of a character class ([…]).`;
  for (const [name, value] of [['maxKeyLength', maxKeyLength], ['minValueLength', minValueLength]] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000) return `${form}: "${name}" must be a whole number from 1 to 1000.`;
  }
  if (flags.includes('u')) return '"assignment" is checked on bytes: the rule cannot have the u flag.';
  const classFlags = flags.replace(/[^ims]/g, '');
  let keyClass: RegExp;
  let valueClass: RegExp;
  try {
    keyClass = new RegExp(`^[${keyChars}]$`, classFlags);
    valueClass = new RegExp(`^[${valueChars}]$`, classFlags);
  } catch (error) {
    return `"assignment": "keyChars" or "valueChars" is not the inside of a character class (${(error as Error).message}).`;
  }
  const classes = new Uint8Array(256);
  for (let code = 1; code < 256; code++) {
    const char = String.fromCharCode(code);
    if (keyClass.test(char)) classes[code]! |= SHAPE_KEY;
    if (valueClass.test(char)) classes[code]! |= SHAPE_VALUE;
    if (/\s/.test(char)) classes[code]! |= SHAPE_SPACE;
    if (QUOTES.includes(char)) classes[code]! |= SHAPE_QUOTE;
  }
  // The check ends the name at the first byte that is not a key character, and counts the value
  // after the white space: a class holding those bytes would make it drop real matches.
  const separators = [...QUOTES, ...OPERATOR_BYTES, ...' \t\n\r\v\f\u00a0'];
  if (separators.some((char) => keyClass.test(char))) return '"assignment": "keyChars" may not hold quotes, white space, ":" or "=" (they end the name).';
  if ([...' \t\n\r\v\f\u00a0'].some((char) => valueClass.test(char))) return '"assignment": "valueChars" may not hold white space.';
  if (hasRequiresNearby) return '"assignment" cannot be combined with "requiresNearby".';
  if (prefixes === undefined) return '"assignment" needs a pattern that starts with fixed text (its keywords, as `(?:password|token)…`): the check runs where that text occurs.';
  // The check counts the name from where the fixed text starts and takes that text as part of it
  // (the screen has just compared it, in either letter case).
  const longer = prefixes.find((prefix) => prefix.length > (maxKeyLength as number));
  if (longer !== undefined) return `"assignment": the pattern can start with "${longer}", longer than "maxKeyLength".`;
  return Object.freeze({ keyChars, maxKeyLength: maxKeyLength as number, valueChars, minValueLength: minValueLength as number, classes, key: JSON.stringify([keyChars, maxKeyLength, valueChars, minValueLength, classFlags]) });
}

import { CONDITION_KEYS, canonicalConditionKey } from './condition-keys.js';
import { PolicyError, quote } from './policy-error.js';

/**
 * A policy string compiled once, at parse time, into something cheap to match on every request:
 * IAM wildcards (`*` any run of characters, `?` exactly one) and policy variables (`${aws:username}`,
 * `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}` for a literal `*`, `?`, `$`).
 * No RegExp is built, at parse time or per call: a pattern is a list of fixed-length parts
 * separated by `*`, matched left to right (leftmost match of each middle part is enough for a
 * pattern with only `*` and `?`).
 *
 * Semantics: IAM JSON policy elements: Resource / Condition operators (string wildcards);
 * IAM policy elements: Variables and tags (escapes, default values, a variable without a value
 * makes the element not match). A value substituted for a variable is literal: a user named
 * `a*` does not become a wildcard. `?` matches one UTF-16 code unit.
 */

/** Where policy variables get their values: the request being evaluated. */
export interface VariableSource {
  /** The value of `key` in this request; undefined when it has none (or several). */
  variable(key: string): string | undefined;
}

export interface PatternSyntax {
  /** `*` and `?` are wildcards (Action, Resource, StringLike, ArnLike); otherwise literal (StringEquals). */
  readonly wildcards: boolean;
  /** `${...}` policy variables are substituted (policy Version 2012-10-17 only). */
  readonly variables: boolean;
  /** Literals and substituted values are lower-cased; the caller lower-cases the value it matches. */
  readonly lowerCase?: boolean;
}

const ONE = 0; // `?`
const RUN = 1; // `*`
interface Variable {
  readonly key: string;
  readonly fallback: string | undefined;
}
type Token = string | typeof ONE | typeof RUN | Variable;
type Unit = string | typeof ONE;

interface Part {
  readonly units: readonly Unit[];
  /** Characters the part covers; every unit has a fixed length. */
  readonly length: number;
  /** The part's text when it has no `?`: matched with startsWith/indexOf. */
  readonly literal: string | undefined;
}

export class Pattern {
  readonly source: string;
  readonly hasVariables: boolean;
  readonly #tokens: readonly Token[];
  readonly #lowerCase: boolean;
  /** Set when the pattern is one literal string. */
  readonly #exact: string | undefined;
  /** Set when the pattern has no variables. */
  readonly #parts: readonly Part[] | undefined;
  /** The literal text every match starts with: a cheap first test before resolving variables. */
  readonly #prefix: string;

  /** @param where names the place in the document for error messages, e.g. `Statement[0] "Resource"`. */
  constructor(source: string, syntax: PatternSyntax, where: string) {
    this.source = source;
    this.#lowerCase = syntax.lowerCase === true;
    this.#tokens = tokenize(source, syntax, where);
    this.hasVariables = this.#tokens.some(isVariable);
    const only = this.#tokens.length === 0 ? '' : this.#tokens.length === 1 ? this.#tokens[0] : undefined;
    this.#exact = typeof only === 'string' ? only : undefined;
    this.#parts = this.hasVariables ? undefined : toParts(this.#tokens);
    const first = this.#tokens[0];
    this.#prefix = typeof first === 'string' ? first : '';
    Object.freeze(this);
  }

  /** Does `value` match? Variables are looked up in `variables`; one without a value (and no default) never matches. */
  matches(value: string, variables?: VariableSource): boolean {
    if (this.#exact !== undefined) return value === this.#exact;
    if (this.#parts !== undefined) return matchParts(this.#parts, value);
    // Resolving variables allocates; most values fail on the literal text before the first one.
    if (!value.startsWith(this.#prefix)) return false;
    const parts = this.#resolve(variables);
    return parts !== undefined && matchParts(parts, value);
  }

  /**
   * Could some string `prefix + x` (x not empty) match? Variables count as `*`: they could
   * stand for anything. Used by the separation-of-duties check, where "could" must err wide.
   */
  couldMatchSomeExtensionOf(prefix: string): boolean {
    const { units, alive } = this.#consume(prefix, true);
    return alive.slice(0, units.length).includes(1);
  }

  /** Does every string `prefix + x` (x not empty) match? False when the pattern has variables. */
  matchesEveryExtensionOf(prefix: string): boolean {
    if (this.hasVariables) return false;
    const { units, alive } = this.#consume(prefix, false);
    // A literal left to match can be dodged by an x made of other characters, so only states with
    // nothing but `?` and `*` left count; together, the lengths they accept must be all n >= 1.
    const exactLengths = new Set<number>();
    let shortestOpen = Infinity;
    for (let i = 0; i < units.length; i++) {
      if (alive[i] !== 1) continue;
      let ones = 0;
      let open = false;
      let wildcardsOnly = true;
      for (let j = i; j < units.length && wildcardsOnly; j++) {
        if (units[j] === ONE) ones++;
        else if (units[j] === RUN) open = true;
        else wildcardsOnly = false;
      }
      if (!wildcardsOnly) continue;
      if (open) shortestOpen = Math.min(shortestOpen, ones);
      else exactLengths.add(ones);
    }
    if (shortestOpen === Infinity) return false;
    for (let n = 1; n < shortestOpen; n++) if (!exactLengths.has(n)) return false;
    return true;
  }

  #resolve(variables: VariableSource | undefined): readonly Part[] | undefined {
    const resolved: Token[] = [];
    for (const token of this.#tokens) {
      if (!isVariable(token)) {
        resolved.push(token);
        continue;
      }
      const value = variables?.variable(token.key) ?? token.fallback;
      if (value === undefined) return undefined;
      resolved.push(this.#lowerCase ? value.toLowerCase() : value);
    }
    return toParts(resolved);
  }

  /** Runs `prefix` through the pattern as an NFA; `alive[i]` is 1 when position i can be reached. */
  #consume(prefix: string, variablesAsRun: boolean): { units: readonly (Unit | typeof RUN)[]; alive: Uint8Array } {
    const units: (Unit | typeof RUN)[] = [];
    for (const token of this.#tokens) {
      if (isVariable(token)) {
        if (variablesAsRun && units[units.length - 1] !== RUN) units.push(RUN);
      } else if (typeof token === 'string') {
        for (let i = 0; i < token.length; i++) units.push(token.charAt(i));
      } else {
        units.push(token);
      }
    }
    let alive = new Uint8Array(units.length + 1);
    alive[0] = 1;
    alive = closeOverRuns(units, alive);
    for (let c = 0; c < prefix.length; c++) {
      const ch = prefix.charAt(c);
      const next = new Uint8Array(units.length + 1);
      for (let i = 0; i < units.length; i++) {
        if (alive[i] !== 1) continue;
        const unit = units[i];
        if (unit === RUN) next[i] = 1;
        else if (unit === ONE || unit === ch) next[i + 1] = 1;
      }
      alive = closeOverRuns(units, next);
    }
    return { units, alive };
  }
}

function isVariable(token: Token): token is Variable {
  return typeof token === 'object';
}

/** A `*` may match nothing: reaching it also reaches the position after it. */
function closeOverRuns<T extends Uint8Array>(units: readonly (Unit | typeof RUN)[], alive: T): T {
  for (let i = 0; i < units.length; i++) if (alive[i] === 1 && units[i] === RUN) alive[i + 1] = 1;
  return alive;
}

function tokenize(source: string, syntax: PatternSyntax, where: string): Token[] {
  const tokens: Token[] = [];
  const lower = (text: string) => (syntax.lowerCase === true ? text.toLowerCase() : text);
  // Collected as pieces and joined: a string grown one character at a time is a deep rope that
  // every later comparison would have to walk.
  let literal: string[] = [];
  const flush = () => {
    if (literal.length > 0) tokens.push(lower(literal.join('')));
    literal = [];
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source.charAt(i);
    if (syntax.variables && ch === '$' && source.charAt(i + 1) === '{') {
      const variable = parseVariable(source, i, where);
      i = variable.end - 1;
      if (typeof variable.token === 'string') {
        literal.push(variable.token);
      } else {
        flush();
        tokens.push({ key: variable.token.key, fallback: variable.token.fallback === undefined ? undefined : lower(variable.token.fallback) });
      }
    } else if (syntax.wildcards && ch === '*') {
      flush();
      if (tokens[tokens.length - 1] !== RUN) tokens.push(RUN);
    } else if (syntax.wildcards && ch === '?') {
      flush();
      tokens.push(ONE);
    } else {
      literal.push(ch);
    }
  }
  flush();
  return tokens;
}

const KEY_CHARACTER = /[A-Za-z0-9:/_.-]/;

/** Parses `${...}` starting at `start`; returns a literal (for the escapes) or a variable, and the index after `}`. */
function parseVariable(source: string, start: number, where: string): { token: string | Variable; end: number } {
  const malformed = (why: string) =>
    new PolicyError(
      `${where}: ${quote(source)} has a malformed policy variable at position ${start} (${why}); write \${key} or \${key, 'default'}, and \${*}, \${?}, \${$} for a literal *, ?, $.`,
    );
  let i = start + 2;
  const skipSpaces = () => {
    while (source.charAt(i) === ' ') i++;
  };
  skipSpaces();
  const escaped = source.charAt(i);
  if (escaped === '*' || escaped === '?' || escaped === '$') {
    i++;
    skipSpaces();
    if (source.charAt(i) !== '}') throw malformed(`expected } after ${escaped}`);
    return { token: escaped, end: i + 1 };
  }
  const keyStart = i;
  while (i < source.length && KEY_CHARACTER.test(source.charAt(i))) i++;
  const written = source.slice(keyStart, i);
  if (written === '') throw malformed('no key name');
  const key = canonicalConditionKey(written);
  if (key === undefined) {
    throw new PolicyError(`${where}: policy variable \${${written}} names a key Holdfast does not know; known keys: ${CONDITION_KEYS.join(', ')}.`);
  }
  skipSpaces();
  let fallback: string | undefined;
  if (source.charAt(i) === ',') {
    i++;
    skipSpaces();
    if (source.charAt(i) !== "'") throw malformed('a default value is written in single quotes');
    i++;
    const pieces: string[] = [];
    for (;;) {
      if (i >= source.length) throw malformed('unterminated default value');
      const ch = source.charAt(i);
      if (ch === "'" && source.charAt(i + 1) === "'") {
        pieces.push("'");
        i += 2;
      } else if (ch === "'") {
        i++;
        break;
      } else {
        pieces.push(ch);
        i++;
      }
    }
    fallback = pieces.join('');
    skipSpaces();
  }
  if (source.charAt(i) !== '}') throw malformed('missing }');
  return { token: { key, fallback }, end: i + 1 };
}

function toParts(tokens: readonly Token[]): Part[] {
  const parts: Part[] = [];
  let units: Unit[] = [];
  for (const token of tokens) {
    if (token === RUN) {
      parts.push(toPart(units));
      units = [];
    } else if (!isVariable(token)) {
      units.push(token);
    }
  }
  parts.push(toPart(units));
  return parts;
}

function toPart(units: Unit[]): Part {
  let length = 0;
  let literal: string | undefined = '';
  for (const unit of units) {
    length += unit === ONE ? 1 : unit.length;
    literal = unit === ONE || literal === undefined ? undefined : literal + unit;
  }
  return { units, length, literal };
}

/** Glob match: first part anchored at the start, last at the end, middle parts leftmost in order. */
function matchParts(parts: readonly Part[], value: string): boolean {
  const first = parts[0];
  if (first === undefined) return value === '';
  if (parts.length === 1) return first.length === value.length && partAt(first, value, 0);
  const last = parts[parts.length - 1] as Part;
  const end = value.length - last.length;
  if (first.length > end || !partAt(first, value, 0) || !partAt(last, value, end)) return false;
  let position = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as Part;
    const at = findPart(part, value, position, end - part.length);
    if (at < 0) return false;
    position = at + part.length;
  }
  return true;
}

function partAt(part: Part, value: string, at: number): boolean {
  if (part.literal !== undefined) return value.startsWith(part.literal, at);
  let i = at;
  for (const unit of part.units) {
    if (unit === ONE) {
      if (i >= value.length) return false;
      i++;
    } else {
      if (!value.startsWith(unit, i)) return false;
      i += unit.length;
    }
  }
  return true;
}

/** The leftmost start in [from, lastStart] where the part matches, or -1. */
function findPart(part: Part, value: string, from: number, lastStart: number): number {
  if (part.literal !== undefined) {
    const at = value.indexOf(part.literal, from);
    return at >= 0 && at <= lastStart ? at : -1;
  }
  for (let at = from; at <= lastStart; at++) if (partAt(part, value, at)) return at;
  return -1;
}

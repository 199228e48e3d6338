/**
 * The fixed beginnings of a rule's pattern: a set of lower-case strings such that every match of
 * the pattern starts with one of them (ASCII letters compared in either case). The scanner then
 * runs the rule's regex only where the byte screen found one of them, instead of over the whole
 * text: `(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}` → akia, asia, abia, acca.
 *
 * Only a plain beginning is read: look-arounds before it (zero-width, skipped), literal
 * characters, escaped punctuation, small character classes, groups of such alternatives, and `?`
 * on them. Anything else (\d, \w, ranges, `.`, `*`, back-references, anchors) ends the prefix
 * there; a pattern whose beginning gives no prefix of two characters or more has none
 * (undefined), and its regex runs over the whole text as before.
 */
const MAX_PREFIXES = 64;
const MAX_LENGTH = 12;
const SPECIAL = new Set([...'\\^$.|?*+()[]{}']);

interface Parsed {
  /** The prefixes read so far. */
  readonly prefixes: readonly string[];
  /** Whether the whole of the part was read as literals (so what follows it may extend them). */
  readonly complete: boolean;
}

class Reader {
  at = 0;
  constructor(readonly source: string) {}
  peek(offset = 0): string | undefined {
    return this.source[this.at + offset];
  }
}

/** Skips a group, class or escape starting at `reader.at`, balanced; false if it is unterminated. */
function skipBalanced(reader: Reader): boolean {
  let depth = 0;
  while (reader.at < reader.source.length) {
    const char = reader.source[reader.at]!;
    if (char === '\\') reader.at += 2;
    else if (char === '[') {
      reader.at++;
      while (reader.at < reader.source.length && reader.source[reader.at] !== ']') reader.at += reader.source[reader.at] === '\\' ? 2 : 1;
      reader.at++;
    } else {
      reader.at++;
      if (char === '(') depth++;
      else if (char === ')' && --depth === 0) return true;
    }
  }
  return false;
}

/** The characters of a class like `[?&]` or `[pousr]`, or undefined for ranges, negation, escapes like \w, or more than 8. */
function classChars(reader: Reader): string[] | undefined {
  const chars: string[] = [];
  let at = reader.at + 1;
  if (reader.source[at] === '^') return undefined;
  for (; at < reader.source.length && reader.source[at] !== ']'; at++) {
    let char = reader.source[at]!;
    if (char === '\\') {
      char = reader.source[++at] ?? '';
      if (/[A-Za-z0-9]/.test(char) || char === '') return undefined;
    } else if (char === '-' && chars.length > 0 && reader.source[at + 1] !== ']') return undefined;
    chars.push(char.toLowerCase());
  }
  if (at >= reader.source.length || chars.length === 0 || chars.length > 8) return undefined;
  reader.at = at + 1;
  return [...new Set(chars)];
}

/** A quantifier at the reader: 'optional' (?, *, {0,…}), 'once-or-more' (+, {n≥1,…}), 'none', or 'unknown'. */
function quantifier(reader: Reader): 'optional' | 'once-or-more' | 'exactly-once' | 'none' | 'unknown' {
  const char = reader.peek();
  if (char === '?' || char === '*') return 'optional';
  if (char === '+') return 'once-or-more';
  if (char === '{') {
    const match = /^\{(\d+)(,\d*)?\}/.exec(reader.source.slice(reader.at));
    if (match === null) return 'unknown';
    if (match[1] === '0') return 'optional';
    return match[1] === '1' && match[2] === undefined ? 'exactly-once' : 'once-or-more';
  }
  return 'none';
}

function product(prefixes: readonly string[], next: readonly string[]): string[] | undefined {
  if (prefixes.length * next.length > MAX_PREFIXES) return undefined;
  return [...new Set(prefixes.flatMap((prefix) => next.map((part) => (prefix + part).slice(0, MAX_LENGTH))))];
}

/** Reads alternatives until `)` or the end; returns their prefixes (union). */
function alternatives(reader: Reader): Parsed {
  const prefixes: string[] = [];
  let complete = true;
  for (;;) {
    const branch = sequence(reader);
    prefixes.push(...branch.prefixes);
    complete &&= branch.complete;
    if (reader.peek() !== '|') break;
    reader.at++;
  }
  return { prefixes: [...new Set(prefixes)], complete };
}

/** Moves to the end of the current alternative (the next `|` or `)` at this depth, or the end). */
function skipRestOfAlternative(reader: Reader): void {
  for (let char = reader.peek(); char !== undefined && char !== '|' && char !== ')'; char = reader.peek()) {
    if (char === '(' || char === '[') {
      if (char === '(' ? !skipBalanced(reader) : classEnd(reader) === undefined) return;
    } else reader.at += char === '\\' ? 2 : 1;
  }
}

/** Moves past a character class at the reader; undefined if it is unterminated. */
function classEnd(reader: Reader): number | undefined {
  let at = reader.at + 1;
  while (at < reader.source.length && reader.source[at] !== ']') at += reader.source[at] === '\\' ? 2 : 1;
  if (at >= reader.source.length) return undefined;
  reader.at = at + 1;
  return reader.at;
}

/**
 * Reads one alternative: atoms until `|`, `)` or the end. Once the prefix ends (an atom it cannot
 * read), the rest of the alternative is skipped, so the alternatives after it are still read.
 */
function sequence(reader: Reader): Parsed {
  let prefixes: string[] = [''];
  const ended = (): Parsed => {
    skipRestOfAlternative(reader);
    return { prefixes, complete: false };
  };
  for (;;) {
    const char = reader.peek();
    if (char === undefined || char === '|' || char === ')') return { prefixes, complete: true };
    let atom: Parsed | undefined;
    if (char === '(' && reader.peek(1) === '?' && (reader.peek(2) === '=' || reader.peek(2) === '!' || (reader.peek(2) === '<' && (reader.peek(3) === '=' || reader.peek(3) === '!')))) {
      // A look-around reads nothing: the prefix goes on after it.
      if (!skipBalanced(reader)) return ended();
      continue;
    }
    if (char === '(') {
      const named = /^\(\?<[A-Za-z_$][\w$]*>/.exec(reader.source.slice(reader.at));
      if (reader.peek(1) !== '?') reader.at += 1;
      else if (reader.peek(2) === ':') reader.at += 3;
      else if (named !== null) reader.at += named[0].length;
      else return ended();
      atom = alternatives(reader);
      if (reader.peek() !== ')') return ended();
      reader.at++;
    } else if (char === '[') {
      const chars = classChars(reader);
      atom = chars === undefined ? undefined : { prefixes: chars, complete: true };
    } else if (char === '\\') {
      const escaped = reader.peek(1);
      if (escaped === undefined || /[A-Za-z0-9]/.test(escaped)) return ended();
      reader.at += 2;
      atom = { prefixes: [escaped], complete: true };
    } else if (!SPECIAL.has(char)) {
      reader.at++;
      atom = { prefixes: [char.toLowerCase()], complete: true };
    }
    if (atom === undefined) return ended();
    const times = quantifier(reader);
    if (times === 'unknown') return ended();
    if (times !== 'none') {
      reader.at += reader.peek() === '{' ? reader.source.slice(reader.at).indexOf('}') + 1 : 1;
      if (reader.peek() === '?') reader.at++; // lazy
    }
    const next = times === 'optional' ? (atom.complete ? product(prefixes, ['', ...atom.prefixes]) : undefined) : product(prefixes, atom.prefixes);
    if (next === undefined) return ended();
    prefixes = next;
    if (!atom.complete || times === 'once-or-more' || prefixes.every((prefix) => prefix.length >= MAX_LENGTH)) return ended();
  }
}

/** The pattern's prefixes (lower case, two characters or more), or undefined when it has none. */
export function patternPrefixes(pattern: string, flags: string): string[] | undefined {
  if (flags.includes('u')) return undefined;
  const reader = new Reader(pattern);
  const { prefixes } = alternatives(reader);
  if (prefixes.length === 0 || prefixes.some((prefix) => prefix.length < 2 || /[^\x20-\x7e]/.test(prefix))) return undefined;
  return [...prefixes];
}

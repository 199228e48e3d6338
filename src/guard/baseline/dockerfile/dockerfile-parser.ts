/**
 * A Dockerfile reader for the checks, following the Dockerfile reference
 * (docs.docker.com/reference/dockerfile/): parser directives (`# syntax=`, `# escape=`) only
 * before anything else; comment lines (also inside a continued instruction, where they are
 * dropped); line continuation with the escape character (`\` or, after `# escape=\``, a
 * backtick); here-documents (`RUN <<EOF … EOF`, `<<-EOF` stripping tabs, several per line)
 * collected as bodies so their lines are never read as instructions.
 */
export interface DockerfileInstruction {
  /** Upper case: FROM, RUN, ENV, … */
  readonly keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  readonly args: string;
  /** 1-based line where the instruction starts. */
  readonly line: number;
  readonly heredocs: ReadonlyArray<{ readonly name: string; readonly body: string }>;
}

export interface Dockerfile {
  readonly directives: ReadonlyMap<string, string>;
  readonly escape: string;
  readonly instructions: readonly DockerfileInstruction[];
}

const DIRECTIVE = /^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*?)\s*$/;
const COMMENT = /^\s*#/;
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const directives = new Map<string, string>();
  let index = 0;
  for (; index < lines.length; index++) {
    const match = DIRECTIVE.exec(lines[index]!);
    if (match === null || directives.has(match[1]!.toLowerCase())) break;
    directives.set(match[1]!.toLowerCase(), match[2]!);
  }
  const escape = directives.get('escape') === '`' ? '`' : '\\';
  const continued = (line: string) => line.trimEnd().endsWith(escape);
  const instructions: DockerfileInstruction[] = [];
  while (index < lines.length) {
    const first = lines[index]!;
    if (first.trim() === '' || COMMENT.test(first)) {
      index++;
      continue;
    }
    const line = index + 1;
    let joined = '';
    let current = first;
    for (;;) {
      index++;
      if (!continued(current)) {
        joined += current;
        break;
      }
      joined += `${current.trimEnd().slice(0, -1)} `;
      // Comment and empty lines inside a continuation are dropped.
      while (index < lines.length && (COMMENT.test(lines[index]!) || lines[index]!.trim() === '')) index++;
      if (index >= lines.length) break;
      current = lines[index]!;
    }
    const trimmed = joined.trim();
    const space = trimmed.search(/\s/);
    const keyword = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase();
    const args = space === -1 ? '' : trimmed.slice(space + 1).trim();
    const heredocs: Array<{ name: string; body: string }> = [];
    if (HEREDOC_KEYWORDS.has(keyword)) {
      for (const match of args.matchAll(HEREDOC)) {
        const stripTabs = match[1] === '-';
        const name = match[3]!;
        const body: string[] = [];
        while (index < lines.length) {
          const raw = lines[index++]!;
          const candidate = stripTabs ? raw.replace(/^\t+/, '') : raw;
          if (candidate === name) break;
          body.push(candidate);
        }
        heredocs.push({ name, body: body.join('\n') });
      }
    }
    instructions.push({ keyword, args, line, heredocs });
  }
  return { directives, escape, instructions };
}

/**
 * Splits `KEY=value KEY2="two words"` (ENV, ARG, LABEL) honouring quotes and escapes; the legacy
 * `ENV KEY value with spaces` form is one pair.
 */
export function parseKeyValues(args: string, escape = '\\', legacyForm = true): Array<{ name: string; value: string | undefined }> {
  const words = splitWords(args, escape);
  if (legacyForm && words.length > 0 && !words[0]!.raw.includes('=')) {
    const first = words[0]!.text;
    const rest = args.trimStart().slice(words[0]!.raw.length).trim();
    return [{ name: first, value: words.length === 1 ? undefined : unquote(rest, escape) }];
  }
  return words.map((word) => {
    const equals = word.text.indexOf('=');
    return equals === -1 ? { name: word.text, value: undefined } : { name: word.text.slice(0, equals), value: word.text.slice(equals + 1) };
  });
}

function unquote(text: string, escape: string): string {
  return splitWords(text, escape).map((word) => word.text).join(' ');
}

/** Shell-like words: quotes removed, the escape character taken literally before the next one. */
export function splitWords(text: string, escape = '\\'): Array<{ text: string; raw: string }> {
  const words: Array<{ text: string; raw: string }> = [];
  let current = '';
  let raw = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === undefined && /\s/.test(char)) {
      if (inWord) words.push({ text: current, raw });
      current = '';
      raw = '';
      inWord = false;
      continue;
    }
    inWord = true;
    raw += char;
    if (char === escape && quote !== "'" && i + 1 < text.length) {
      current += text[++i];
      raw += text[i];
    } else if (quote === undefined && (char === '"' || char === "'")) quote = char;
    else if (char === quote) quote = undefined;
    else current += char;
  }
  if (inWord) words.push({ text: current, raw });
  return words;
}

/**
 * `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}`, `${NAME+alt}` with
 * the given values; a variable without a value is left as written (so it can be recognised as
 * unresolved).
 */
export function substituteVariables(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced: string | undefined, colon: string | undefined, operator: string | undefined, word: string | undefined, plain: string | undefined) => {
    const name = braced ?? plain!;
    const value = values.get(name);
    const set = value !== undefined && (colon !== ':' || value !== '');
    if (operator === '-') return set ? value : (word ?? '');
    if (operator === '+') return set ? (word ?? '') : '';
    return value ?? whole;
  });
}

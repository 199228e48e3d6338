import type { ConfigItem } from '../config-item.js';
import { isRecord, sha256Hex } from '../attribute-values.js';

/**
 * Environment-variable sets as items: each variable's name and the SHA-256 of its value
 * (`sha256:<hex>`), never the value — the collection is evidence that ends up in the vault and in
 * drift reports, and a rotated secret shows as a changed fingerprint. A SHA-256 of a weak value
 * can be guessed by hashing candidates; that is how the default-credential rule finds `postgres`
 * or `changeme`, and why strong secrets (which cannot be guessed) lose nothing by it.
 *
 * Inputs:
 * - `.env` files as dotenv and docker compose read them: `NAME=value`, an optional `export `
 *   prefix, blanks around `=`, `#` comments (whole lines, or after an unquoted value and a blank),
 *   'single' quotes (literal), "double" quotes (`\n`, `\"`, `\\` escapes) and `backticks`, any of
 *   them spanning lines;
 * - a platform's JSON export: an object of name → value (Heroku `config --json`, Vercel), an array
 *   of `{ "name"|"key": ..., "value": ... }`, or Render's API shape `[{ "envVar": { key, value } }]`.
 */
export interface EnvironmentEntry {
  readonly name: string;
  readonly value: string;
  readonly line?: number;
}

export class EnvironmentFormatError extends Error {
  override readonly name = 'EnvironmentFormatError';
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

export function parseDotenv(text: string): EnvironmentEntry[] {
  const out: EnvironmentEntry[] = [];
  const source = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  let index = 0;
  let line = 1;
  while (index < source.length) {
    const end = source.indexOf('\n', index);
    const rawLine = source.slice(index, end === -1 ? source.length : end);
    const startLine = line;
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*/.exec(rawLine);
    if (match === null || rawLine.trimStart().startsWith('#')) {
      index = end === -1 ? source.length : end + 1;
      line++;
      continue;
    }
    let cursor = index + match[0].length;
    const quote = source[cursor];
    let value: string;
    if (quote === '"' || quote === "'" || quote === '`') {
      let closing = cursor + 1;
      while (closing < source.length && source[closing] !== quote) closing += source[closing] === '\\' && quote !== "'" ? 2 : 1;
      if (closing >= source.length) throw new EnvironmentFormatError(`line ${startLine}: the ${quote} quote of ${match[1]} is not closed`);
      const body = source.slice(cursor + 1, closing);
      value = quote === '"' ? body.replace(/\\([nrt"\\$])/g, (_, escaped: string) => ({ n: '\n', r: '\r', t: '\t' })[escaped] ?? escaped) : body;
      line += (body.match(/\n/g) ?? []).length;
      cursor = closing + 1;
      const rest = source.indexOf('\n', cursor);
      index = rest === -1 ? source.length : rest + 1;
    } else {
      const lineEnd = end === -1 ? source.length : end;
      // An unquoted value ends at a comment that follows a blank (`A=b # note`), as dotenv reads it.
      value = source.slice(cursor, lineEnd).replace(/\s+#.*$/, '').trim();
      index = end === -1 ? source.length : end + 1;
    }
    line++;
    out.push({ name: match[1]!, value, line: startLine });
  }
  return out;
}

function scalar(value: unknown, name: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return '';
  throw new EnvironmentFormatError(`the value of ${name} is not a string, number or boolean`);
}

export function parsePlatformExport(raw: unknown): EnvironmentEntry[] {
  if (Array.isArray(raw)) {
    return raw.map((entry: unknown, index) => {
      const variable = isRecord(entry) && isRecord(entry.envVar) ? entry.envVar : entry;
      if (!isRecord(variable)) throw new EnvironmentFormatError(`entry ${index} is not an object with "name" (or "key") and "value"`);
      const name = variable.name ?? variable.key;
      if (typeof name !== 'string') throw new EnvironmentFormatError(`entry ${index} has no "name" or "key" string`);
      return { name, value: scalar(variable.value, name) };
    });
  }
  if (isRecord(raw)) return Object.entries(raw).map(([name, value]) => ({ name, value: scalar(value, name) }));
  throw new EnvironmentFormatError('expected an object of name → value, or an array of { "name", "value" }');
}

/** `sha256:<hex>` of a value: what items, rules and drift compare instead of the value. */
export function valueFingerprint(value: string): string {
  return `sha256:${sha256Hex(value)}`;
}

/** Items for one set; the set's name prefixes resource ids (`production/DATABASE_URL`). */
export function environmentItems(entries: readonly EnvironmentEntry[], setName: string, source: string): ConfigItem[] {
  const byName = new Map<string, EnvironmentEntry>();
  // The last definition wins, as every dotenv loader has it.
  for (const entry of entries) {
    if (!NAME.test(entry.name)) throw new EnvironmentFormatError(`"${entry.name}" is not a variable name`);
    byName.set(entry.name, entry);
  }
  return [...byName.values()].map((entry) =>
    Object.freeze({ component: 'environment' as const, resourceId: `${setName}/${entry.name}`, kind: 'env_var', source, attributes: Object.freeze({ name: entry.name, set: setName, valueSha256: valueFingerprint(entry.value) }) }),
  );
}

/** A file's variables: JSON when it parses as JSON (and looks like it), else dotenv. */
export function parseEnvironmentFile(text: string): EnvironmentEntry[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // Not the parser's message: V8 quotes the text around the error, which may be a value.
      throw new EnvironmentFormatError('starts like JSON but is not valid JSON; check it with `jq . FILE` (its values are not shown here)');
    }
    return parsePlatformExport(raw);
  }
  return parseDotenv(text);
}

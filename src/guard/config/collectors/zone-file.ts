/**
 * A reader for DNS zone files in the master-file format of RFC 1035 §5.1, as BIND writes them and
 * DNS providers export them (Cloudflare, Route 53 via cli53, ...):
 *
 * - `$ORIGIN` and `$TTL` (RFC 2308 §4) directives; `$INCLUDE` and BIND's `$GENERATE` are refused
 *   (the file would not describe the zone on its own);
 * - owner names absolute (`www.example.com.`), relative to the origin (`www`), `@` for the origin,
 *   or omitted (a line starting with a blank reuses the previous owner);
 * - TTL and class in either order, TTLs with BIND's units (`1h30m`, `2d`, `1w`);
 * - parentheses continuing a record over lines (SOA), `;` comments (not inside quotes);
 * - quoted character-strings with spaces, semicolons and escapes (`\"`, `\\`, `\DDD`), several per
 *   TXT record.
 */
export interface ZoneRecord {
  /** Absolute, lower case, with the trailing dot. */
  readonly name: string;
  readonly type: string;
  readonly ttl: number;
  readonly klass: string;
  /** Canonical presentation of the RDATA: names absolute and lower case, strings quoted. */
  readonly rdata: string;
  readonly line: number;
}

export interface ZoneFile {
  /** The zone's origin: the one given, else the first $ORIGIN, else the SOA owner. */
  readonly origin: string;
  readonly records: readonly ZoneRecord[];
}

export class ZoneFileError extends Error {
  override readonly name = 'ZoneFileError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

interface Token {
  readonly text: string;
  readonly quoted: boolean;
}

interface Entry {
  readonly tokens: Token[];
  /** The entry's first line started with a blank: the owner is omitted. */
  readonly blankOwner: boolean;
  readonly line: number;
}

/** Splits the file into entries (one record or directive, parentheses joined), tokens with quotes decoded. */
function entries(text: string): Entry[] {
  const out: Entry[] = [];
  let tokens: Token[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  let inQuote = false;
  let depth = 0;
  let line = 1;
  let entryLine = 1;
  let blankOwner = false;
  let atLineStart = true;
  const endToken = () => {
    if (inToken) tokens.push({ text: current, quoted });
    current = '';
    inToken = false;
    quoted = false;
  };
  const endEntry = () => {
    endToken();
    if (tokens.length > 0) out.push({ tokens, blankOwner, line: entryLine });
    tokens = [];
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (atLineStart && depth === 0 && !inQuote) {
      blankOwner = char === ' ' || char === '\t';
      entryLine = line;
      atLineStart = false;
    }
    if (inQuote) {
      if (char === '\\' && i + 1 < text.length) {
        current += char + text[++i]!;
      } else if (char === '"') {
        inQuote = false;
      } else {
        if (char === '\n') line++;
        current += char;
      }
      continue;
    }
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[++i]!;
      inToken = true;
    } else if (char === '"') {
      endToken();
      inQuote = true;
      inToken = true;
      quoted = true;
    } else if (char === ';') {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (char === '(') {
      endToken();
      depth++;
    } else if (char === ')') {
      endToken();
      if (depth === 0) throw new ZoneFileError(line, 'a ")" without its "("');
      depth--;
    } else if (char === '\n') {
      line++;
      if (depth === 0) {
        endEntry();
        atLineStart = true;
      } else endToken();
    } else if (char === ' ' || char === '\t' || char === '\r') {
      endToken();
    } else {
      current += char;
      inToken = true;
    }
  }
  if (inQuote) throw new ZoneFileError(line, 'a quoted string is not closed');
  if (depth > 0) throw new ZoneFileError(entryLine, 'a "(" is not closed');
  endEntry();
  return out;
}

/** `\DDD` and `\X` escapes of a character-string or name, decoded. */
function unescape(text: string): string {
  return text.replace(/\\(\d{3}|.)/g, (_, escaped: string) => (escaped.length === 3 ? String.fromCharCode(Number(escaped)) : escaped));
}

/** A character-string in canonical presentation: quoted, `"` and `\` escaped, non-printables as \DDD. */
function quote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code < 0x20 || code === 0x7f) out += `\\${String(code).padStart(3, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

const TTL_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `3600`, `1h`, `1h30m`, `2D` → seconds; undefined when it is not a TTL. */
export function parseTtl(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(?:\d+[smhdw])+$/i.test(text)) return undefined;
  let total = 0;
  for (const [, count, unit] of text.toLowerCase().matchAll(/(\d+)([smhdw])/g)) total += Number(count) * TTL_UNITS[unit!]!;
  return total;
}

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS']);
const NAME_RDATA: Readonly<Record<string, readonly number[]>> = {
  // Which RDATA fields are domain names (made absolute and lower case).
  NS: [0],
  CNAME: [0],
  PTR: [0],
  DNAME: [0],
  MX: [1],
  SRV: [3],
  SOA: [0, 1],
};

function absoluteName(name: string, origin: string | undefined, line: number): string {
  if (name === '@') {
    if (origin === undefined) throw new ZoneFileError(line, '"@" used before the origin is known: give $ORIGIN or --zone FILE:ORIGIN');
    return origin;
  }
  if (name.endsWith('.') && !name.endsWith('\\.')) return name.toLowerCase();
  if (origin === undefined) throw new ZoneFileError(line, `the relative name "${name}" needs an origin: give $ORIGIN or --zone FILE:ORIGIN`);
  return `${name}.${origin === '.' ? '' : origin}`.toLowerCase();
}

export function ensureAbsolute(origin: string): string {
  const trimmed = origin.trim().toLowerCase();
  return trimmed.endsWith('.') ? trimmed : `${trimmed}.`;
}

function canonicalRdata(type: string, tokens: readonly Token[], origin: string | undefined, line: number): string {
  if (type === 'TXT' || type === 'SPF') return tokens.map((token) => quote(unescape(token.text))).join(' ');
  const names = NAME_RDATA[type] ?? [];
  const fields = tokens.map((token, index) => {
    if (token.quoted) return quote(unescape(token.text));
    if (names.includes(index)) return absoluteName(token.text, origin, line);
    if (type === 'SOA' && index >= 2) return String(parseTtl(token.text) ?? token.text);
    if (type === 'AAAA' || type === 'CAA') return token.text.toLowerCase();
    return token.text;
  });
  return fields.join(' ');
}

/** Parses a zone file; `origin` is the zone's name when the file has no $ORIGIN. */
export function parseZoneFile(text: string, origin?: string): ZoneFile {
  let currentOrigin = origin === undefined ? undefined : ensureAbsolute(origin);
  let zoneOrigin = currentOrigin;
  let defaultTtl: number | undefined;
  let previousOwner: string | undefined;
  let previousTtl: number | undefined;
  const records: ZoneRecord[] = [];
  for (const entry of entries(text)) {
    const tokens = [...entry.tokens];
    const first = tokens[0]!;
    if (!first.quoted && first.text.startsWith('$') && !entry.blankOwner) {
      const directive = first.text.toUpperCase();
      const argument = tokens[1]?.text;
      if (directive === '$ORIGIN') {
        if (argument === undefined) throw new ZoneFileError(entry.line, '$ORIGIN needs a name');
        currentOrigin = absoluteName(argument, currentOrigin, entry.line);
        zoneOrigin ??= currentOrigin;
      } else if (directive === '$TTL') {
        defaultTtl = argument === undefined ? undefined : parseTtl(argument);
        if (defaultTtl === undefined) throw new ZoneFileError(entry.line, `$TTL needs a TTL (seconds or 1h/2d/1w), not "${argument ?? ''}"`);
      } else {
        throw new ZoneFileError(entry.line, `${directive} is not supported: export the zone as one self-contained file`);
      }
      continue;
    }
    let owner: string;
    if (entry.blankOwner) {
      if (previousOwner === undefined) throw new ZoneFileError(entry.line, 'the first record has no owner name');
      owner = previousOwner;
    } else {
      owner = absoluteName(tokens.shift()!.text, currentOrigin, entry.line);
    }
    let ttl: number | undefined;
    let klass = 'IN';
    // TTL and class come in either order before the type (RFC 1035 §5.1).
    for (let step = 0; step < 2 && tokens.length > 0; step++) {
      const next = tokens[0]!.text;
      const asTtl = parseTtl(next);
      if (asTtl !== undefined && ttl === undefined) {
        ttl = asTtl;
        tokens.shift();
      } else if (CLASSES.has(next.toUpperCase())) {
        klass = next.toUpperCase();
        tokens.shift();
      }
    }
    const typeToken = tokens.shift();
    if (typeToken === undefined) throw new ZoneFileError(entry.line, `no record type after "${owner}"`);
    const type = typeToken.text.toUpperCase();
    if (!/^[A-Z][A-Z0-9-]*$/.test(type)) throw new ZoneFileError(entry.line, `"${typeToken.text}" is not a record type`);
    if (type === 'SOA') zoneOrigin ??= owner;
    // RFC 2308: $TTL, else the last explicit TTL (RFC 1035), else the SOA minimum.
    const effectiveTtl = ttl ?? defaultTtl ?? previousTtl ?? (type === 'SOA' ? parseTtl(tokens.at(-1)?.text ?? '') : undefined) ?? 0;
    records.push({ name: owner, type, ttl: effectiveTtl, klass, rdata: canonicalRdata(type, tokens, currentOrigin, entry.line), line: entry.line });
    previousOwner = owner;
    if (ttl !== undefined) previousTtl = ttl;
  }
  if (zoneOrigin === undefined) throw new ZoneFileError(1, 'cannot tell the zone\'s name: the file has no $ORIGIN or SOA; give it as --zone FILE:ORIGIN');
  return { origin: zoneOrigin, records };
}

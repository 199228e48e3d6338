import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeBase64Runs } from './base64-candidates.js';
import { ByteScreen, prefilterTables, type ThirdBytes } from './byte-screen.js';
import { loadSecretRules } from './secret-rules.js';
import { scanText } from './secret-scanner.js';
import { redactSecret, secretFingerprint } from './secret-finding.js';

const rules = loadSecretRules();
const keywords = [...new Set(rules.rules.flatMap((rule) => rule.keywords))];

/** Every (offset, literal) where a literal occurs, ASCII-case-insensitively: what the screen must report. */
function expectedHits(text: string, literals: readonly string[]): string[] {
  const lower = text.replace(/[A-Z]/g, (char) => char.toLowerCase());
  const hits: string[] = [];
  for (let offset = 0; offset < lower.length; offset++) {
    literals.forEach((literal, index) => {
      if (lower.startsWith(literal, offset)) hits.push(`${offset}:${index}`);
    });
  }
  return hits;
}

function screenedHits(screen: ByteScreen, text: string): { literals: string[]; joins: number[] } {
  const { hits } = screen.screen(Buffer.from(text, 'latin1'));
  const literals: string[] = [];
  const joins: number[] = [];
  for (let at = 0; at < hits.length; at += 2) {
    if (hits[at + 1]! < 0) joins.push(hits[at]!);
    else literals.push(`${hits[at]}:${hits[at + 1]}`);
  }
  return { literals: literals.sort(), joins };
}

// Built from pieces so this file holds no secret.
const pieces = [...keywords, 'TOKEN', 'Sk-Ant-', 'ghp_', 'AKIA', 'x', ' ', '\n', '"', "'", '`', '+', '.', '&', '\\', '\r\n', '\t', '=', 'é', '\u00ff', 'QUJD', 'ZGVm', '0123', 'a/b+'];
const texts = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((parts) => parts.join(''));

test('the screen finds every occurrence of every literal, in any ASCII letter case, overlapping ones and those at the very end', () => {
  const screen = new ByteScreen(keywords);
  for (const text of ['', 'q~', 'xq~', 'Q~', 'TOKEN', 'tok', 'asiakia', 'SK-ANT-api03', `${'a'.repeat(100)}token`, 'é token ÿ']) {
    assert.deepEqual(screenedHits(screen, text).literals, expectedHits(text, keywords).sort(), JSON.stringify(text));
  }
  fc.assert(
    fc.property(texts, (text) => {
      assert.deepEqual(screenedHits(screen, text).literals, expectedHits(text, keywords).sort());
    }),
    { numRuns: 500 },
  );
});

test('literals of up to twelve bytes with digits and punctuation: the eight-byte quick test folds the case of letters alone', () => {
  // Bytes whose | 0x20 or & 0xdf is another printable byte ('@' and '`', '[' and '{', '_' and DEL,
  // '-' and CR, ':' and a letter's case twin none): a fold applied to them would report text that
  // differs from the literal.
  const literalBytes = fc.constantFrom(...'abkxz019_-@[:=/.`{~ '.split(''));
  const twin = (char: string) => {
    const code = char.charCodeAt(0);
    return /[a-z]/.test(char) ? char.toUpperCase() : String.fromCharCode(code ^ 0x20);
  };
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.array(literalBytes, { minLength: 2, maxLength: 12 }).map((chars) => chars.join('')), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(5), fc.nat(3), fc.nat(11)), { maxLength: 30 }),
      (literals, parts) => {
        const screen = new ByteScreen(literals);
        // Each part: a literal as it is, with a letter upper-cased, with one byte's twin, or cut short.
        const text = parts
          .map(([which, how, at]) => {
            const literal = literals[which % literals.length]!;
            const index = at % literal.length;
            if (how === 0) return literal;
            if (how === 1) return literal.toUpperCase();
            if (how === 2) return literal.slice(0, index) + twin(literal[index]!) + literal.slice(index + 1);
            return literal.slice(0, index);
          })
          .join('');
        assert.deepEqual(screenedHits(screen, text).literals, expectedHits(text, literals).sort(), JSON.stringify({ literals, text }));
      },
    ),
    { numRuns: 500 },
  );
});

test('the 16-position prefilter flags every (pair, third byte) its buckets were given, whatever their number', () => {
  const folded = fc.integer({ min: 0, max: 255 }).map((byte) => byte | 0x20);
  fc.assert(
    // Inner triples (which only make some merges cost more) must not change that either.
    fc.property(fc.array(fc.tuple(folded, folded, fc.option(fc.uniqueArray(folded, { minLength: 1, maxLength: 6 }))), { minLength: 1, maxLength: 60 }), fc.array(fc.tuple(folded, folded, folded).map(([a, b, c]) => a | (b << 8) | (c << 16)), { maxLength: 40 }), (entries, innerTriples) => {
      const pairs = new Map<number, ThirdBytes>();
      for (const [first, second, thirds] of entries) {
        const key = first | (second << 8);
        const known = pairs.get(key) ?? new Set<number>();
        pairs.set(key, thirds === null || known === 'any' ? 'any' : new Set([...known, ...thirds]));
      }
      const tables = prefilterTables(pairs, innerTriples);
      const flags = (a: number, b: number, c: number) => tables[a & 15]! & tables[16 + (a >> 4)]! & tables[32 + (b & 15)]! & tables[48 + (b >> 4)]! & tables[64 + (c & 15)]! & tables[80 + (c >> 4)]!;
      for (const [key, thirds] of pairs) {
        for (const third of thirds === 'any' ? Array.from({ length: 128 }, (_, byte) => byte | 0x20) : thirds) assert.notEqual(flags(key & 0xff, key >> 8, third), 0, `${key} ${third}`);
      }
    }),
    { numRuns: 300 },
  );
  // And it does filter: with the built-in literals' pairs, few positions of ordinary code are flagged.
  const pairs = new Map<number, ThirdBytes>();
  for (const literal of keywords) {
    const key = (literal.charCodeAt(0) | 0x20) | ((literal.charCodeAt(1) | 0x20) << 8);
    const known = pairs.get(key) ?? new Set<number>();
    pairs.set(key, literal.length === 2 || known === 'any' ? 'any' : known.add(literal.charCodeAt(2) | 0x20));
  }
  const tables = prefilterTables(pairs);
  const code = Buffer.from('export function parseHeaders(input: string): Map<string, number> { const result = new Map(); for (const line of input.split("\\n")) result.set(line, line.length); return result; }\n', 'latin1');
  let flagged = 0;
  for (let at = 0; at + 2 < code.length; at++) {
    const [a, b, c] = [code[at]! | 0x20, code[at + 1]! | 0x20, code[at + 2]! | 0x20];
    if ((tables[a & 15]! & tables[16 + (a >> 4)]! & tables[32 + (b & 15)]! & tables[48 + (b >> 4)]! & tables[64 + (c & 15)]! & tables[80 + (c >> 4)]!) !== 0) flagged++;
  }
  assert.ok(flagged < code.length * 0.15, `${flagged} of ${code.length} positions flagged`);
});

test('long texts (the 16-position blocks, the last positions one at a time): every occurrence of every literal and every join', () => {
  const screen = new ByteScreen(keywords);
  const longTexts = fc.array(fc.constantFrom(...pieces, 'abcdefghijklmnop', ' '.repeat(17), 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0'), { minLength: 20, maxLength: 200 }).map((parts) => parts.join(''));
  const join = /(["'`])[ \t]*[+.&]?[ \t]*\\?\r?\n[ \t]*[+.&]?[ \t]*\1|(["'`])[ \t]*[+.&][ \t]*\2|\\\r?\n[ \t]*/g;
  fc.assert(
    fc.property(longTexts, (text) => {
      const { literals, joins } = screenedHits(screen, text);
      assert.deepEqual(literals, expectedHits(text, keywords).sort());
      for (const match of text.matchAll(join)) assert.ok(joins.includes(match.index), `${JSON.stringify(text)} at ${match.index}`);
    }),
    { numRuns: 300 },
  );
});

test('a text screened after a longer one: nothing is reported from the bytes left past its end', () => {
  const screen = new ByteScreen(keywords);
  // Joins (backslash, line break) and keywords at every offset just past each cut.
  for (let length = 0; length < 80; length++) {
    for (const tail of ['\\\n'.repeat(12), `x${'\\\n'.repeat(12)}`, 'token'.repeat(6), `"${' + "'.repeat(8)}`]) {
      const text = `${'token b'.repeat(12)}`.slice(0, length);
      screen.screen(Buffer.from(text + tail, 'latin1'));
      const { literals, joins } = screenedHits(screen, text);
      assert.deepEqual(literals, expectedHits(text, keywords).sort(), JSON.stringify(text + tail));
      assert.deepEqual(joins, [], JSON.stringify(text + tail));
    }
  }
});

test('the memory grows for a large text and its output, and texts before and after it are screened as alone', () => {
  const screen = new ByteScreen(keywords);
  const run = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0';
  const small = `x token "a" +\n "b" ${run} y`;
  const alone = (text: string) => {
    const fresh = new ByteScreen(keywords).screen(Buffer.from(text, 'latin1'));
    return { hits: [...fresh.hits], base64Runs: [...fresh.base64Runs] };
  };
  const screened = (text: string) => {
    const result = screen.screen(Buffer.from(text, 'latin1'));
    return { hits: [...result.hits], base64Runs: [...result.base64Runs] };
  };
  // 3 MiB of text with a keyword every 64 bytes: past the first memory, and 96 Ki hits past the output guessed for it.
  const large = `${'abc token=1 '.padEnd(64, '.')}`.repeat(48 * 1024) + small;
  for (const text of [small, large, small]) {
    const result = screened(text);
    assert.deepEqual(result, alone(text));
    // Every keyword, and the one join (the quote after "a").
    assert.equal(result.hits.length / 2, expectedHits(text, keywords).length + 1);
    assert.deepEqual(result.base64Runs.length, 2);
  }
});

test('every place a string concatenation starts is among the join candidates', () => {
  const screen = new ByteScreen(keywords);
  // The JOIN expression of joined-lines.ts.
  const join = /(["'`])[ \t]*[+.&]?[ \t]*\\?\r?\n[ \t]*[+.&]?[ \t]*\1|(["'`])[ \t]*[+.&][ \t]*\2|\\\r?\n[ \t]*/g;
  fc.assert(
    fc.property(texts, (text) => {
      const { joins } = screenedHits(screen, text);
      for (const match of text.matchAll(join)) assert.ok(joins.includes(match.index), `${JSON.stringify(text)} at ${match.index}`);
    }),
    { numRuns: 500 },
  );
});

test('base64 runs: the maximal runs of 32 or more alphabet bytes that hold a digit, + or /', () => {
  const screen = new ByteScreen(keywords);
  const run = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0'; // 36 characters with digits
  const text = `x ${run}== ${'abcdefghij'.repeat(4)} y${run.slice(0, 30)} ${run}`;
  const { base64Runs } = screen.screen(Buffer.from(text, 'latin1'));
  const second = text.lastIndexOf(run);
  assert.deepEqual([...base64Runs], [2, 2 + run.length, second, second + run.length]);
});

test('base64 runs: the screen and decodeBase64Runs alone give the maximal runs a greedy regex finds, whatever the lengths of the runs and words around them', () => {
  const screen = new ByteScreen(keywords);
  // Built from pieces, so this file holds no credential-like assignment.
  const encoded = Buffer.from(['user=admin pass', 'word=Xq9v', 'T2mK8pL4wZ7n host=db.example.org'].join('')).toString('base64');
  // Runs and words of every length about 16 and 32 on either side of the probes, and bytes that
  // end a run: white space, punctuation, '=', non-ASCII.
  const parts = fc.oneof(
    fc.constantFrom(' ', '\n', '.', '"', '=', '==', '\u00e9', ':', 'é'),
    fc.integer({ min: 1, max: 48 }).map((length) => 'Ab9+/-_z'.repeat(8).slice(0, length)),
    fc.integer({ min: 1, max: 48 }).map((length) => 'abcdefghij'.repeat(5).slice(0, length)),
    fc.integer({ min: 20, max: encoded.length }).map((length) => encoded.slice(0, length)),
  );
  fc.assert(
    fc.property(fc.array(parts, { maxLength: 40 }), (pieces) => {
      const text = pieces.join('');
      const { base64Runs } = screen.screen(Buffer.from(text, 'latin1'));
      // The maximal runs of 32 or more, as a greedy regex finds them.
      const maximal = Int32Array.from([...text.matchAll(/[A-Za-z0-9+/_-]{32,}/g)].flatMap((match) => [match.index, match.index + match[0].length]));
      const decoded = decodeBase64Runs(text, maximal);
      assert.deepEqual(decodeBase64Runs(text, base64Runs), decoded, JSON.stringify(text));
      assert.deepEqual(decodeBase64Runs(text), decoded, JSON.stringify(text));
    }),
    { numRuns: 1000 },
  );
});

test('scanning Latin-1 text through the screen finds what the decoded text gives (random texts of keywords, secrets, joins and base64)', () => {
  const token = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');
  const password = ['pass', 'word = "Xq9vT2mK8pL4wZ7n"'].join('');
  const secretPieces = [token, `"${token.slice(0, 9)}" +\n "${token.slice(9)}"`, Buffer.from(`GITHUB=${token}\n`).toString('base64'), password, 'AKIA', 'aws_secret_access_key = ', '\n', ' ', 'é', 'token: ', '"', '+'];
  const described = (text: string, decoding: 'latin1' | 'utf8') =>
    scanText(text, rules, { decoding }).map((match) => `${match.rule.id} ${secretFingerprint(match.rule.id, match.secret)} ${redactSecret(match.secret)} ${match.encoding} ${match.line}:${match.column}`);
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...secretPieces), { maxLength: 30 }), (parts) => {
      const text = parts.join('');
      // Without non-ASCII characters the decoded text and its Latin-1 reading are the same string.
      const ascii = text.replace(/é/g, 'e');
      assert.deepEqual(described(ascii, 'latin1'), described(ascii, 'utf8'));
    }),
    { numRuns: 300 },
  );
});

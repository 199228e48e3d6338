import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteScreen } from './byte-screen.js';
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

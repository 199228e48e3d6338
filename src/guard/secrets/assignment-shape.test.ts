import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteScreen } from './byte-screen.js';
import { redactSecret, secretFingerprint } from './secret-finding.js';
import { describeRules, loadSecretRules, RuleFileError } from './secret-rules.js';
import { scanText } from './secret-scanner.js';

const rules = loadSecretRules();
const generic = rules.rules.find((rule) => rule.assignment !== undefined)!;
const described = (matches: ReturnType<typeof scanText>) => matches.map((match) => `${match.rule.id} ${secretFingerprint(match.rule.id, match.secret)} ${redactSecret(match.secret)} ${match.encoding} ${match.line}:${match.column}`);
/** Through the byte screen (and so the assignment check), and through the regexes alone. */
const screenedAndNot = (text: string, set = rules) => [described(scanText(text, set, { decoding: 'latin1' })), described(scanText(text, set))] as const;

// Values built from pieces, so the tree holds no credential-like literal.
const value = ['Xq9v', 'T2mK', '8pL4', 'wZ7n'].join('');

test('the built-in generic rule declares its assignment shape, and --list-rules writes it back', () => {
  assert.equal(generic.id, 'generic-secret-assignment');
  assert.deepEqual([generic.assignment?.keyChars, generic.assignment?.maxKeyLength, generic.assignment?.valueChars, generic.assignment?.minValueLength], ['\\w.-', 30, 'A-Za-z0-9+/=_.~!@#$%^&*-', 12]);
  const listed = describeRules(rules) as { rules: Array<{ id: string; assignment?: unknown }> };
  const again = loadSecretRules({ version: 1, extends: 'none', rules: listed.rules });
  assert.equal(again.rules.find((rule) => rule.id === generic.id)?.assignment?.key, generic.assignment?.key);
});

test('every edge the generic regex accepts is still found through the screen: quotes, spaces, :=, =>, YAML, JSON, export, prefixed names, ==', () => {
  const found = [
    `password = "${value}"`,
    `PASSWORD: ${value}`,
    `{"api_key": "${value}"}`,
    `  "service": { "apiKey": '${value}' }`,
    `export DB_PASSWORD=${value}`,
    `db_password=${value}`,
    `token := ${value}`,
    `token:=${value}`,
    `secret => '${value}'`,
    `token=>\t"${value}"`,
    `access_key : \`${value}\``,
    `pwd\u00a0=\u00a0${value}`,
    `token\n=\n${value}`,
    `'token' : '${value}'`,
    `password==${value}`, // the regex takes "=" as the value's first character
    `password===${value}`,
    `secret${'_'.repeat(20)}=${value}`, // 20 name characters after the keyword: the most it allows
    `apikey='${value.slice(0, 12)}'`, // 12 characters: the shortest value
    `access_key.v2-x = ${value}`,
    `TOKEN\r\n  =  \r\n  "${value}"`,
  ];
  for (const text of found) {
    const [screened, plain] = screenedAndNot(text);
    assert.equal(plain.length, 1, `the regex finds ${JSON.stringify(text)}`);
    assert.ok(plain[0]!.startsWith('generic-secret-assignment '), JSON.stringify(text));
    assert.deepEqual(screened, plain, JSON.stringify(text));
  }
  // Joined across lines and in base64: found whole, through the screen too.
  const joined = `const password = "${value.slice(0, 8)}" +\n  "${value.slice(8)}";\n`;
  assert.deepEqual(screenedAndNot(joined)[0].map((line) => line.split(' ')[3]), ['joined-lines']);
  assert.deepEqual(...screenedAndNot(joined));
  const encoded = `data:\n  env: ${Buffer.from(`DB_PASSWORD=${value}\nAPI_TOKEN: ${value}x1\n`).toString('base64')}\n`;
  assert.deepEqual(screenedAndNot(encoded)[0].map((line) => line.split(' ')[3]), ['base64', 'base64']);
  assert.deepEqual(...screenedAndNot(encoded));
});

test('the screen drops a keyword hit no assignment can follow, but the keyword still turns its rules on', () => {
  const screen = new ByteScreen(['token'], [generic.assignment!]);
  const kept = (text: string) => {
    const { hits, occurred } = screen.screen(Buffer.from(text, 'latin1'));
    assert.equal(occurred[0], /token/i.test(text) ? 1 : 0, JSON.stringify(text));
    return hits.length / 2;
  };
  // The literal is taken as the name's start in any letter case (it was compared case-insensitively).
  const upperOnly = loadSecretRules({ version: 1, extends: 'none', rules: [{ id: 'upper', title: 'U', severity: 'low', keywords: ['token'], pattern: 'TOKEN_?[A-Z]*\\s*=\\s*([A-Za-z0-9]{12,})', assignment: { keyChars: 'A-Z_', maxKeyLength: 30, valueChars: 'A-Za-z0-9', minValueLength: 12 }, fix: 'f' }] });
  assert.deepEqual(scanText(`TOKEN_X = ${value}`, upperOnly, { decoding: 'latin1' }).map((match) => match.secret), [value]);
  for (const text of ['token(', 'tokenUrl = "https://x"', 'TOKEN_TIMEOUT=123', 'if (token.value === undefined)', '# token flow', 'token == "abcdefghijkl12"', `token${'x'.repeat(26)}=${value}`, `token = ${value.slice(0, 11)}`, 'token =', 'token', `token = "${value.slice(0, 11)}"`, `token: ${value.slice(0, 6)} ${value}`]) {
    assert.equal(kept(text), 0, JSON.stringify(text));
  }
  for (const text of [`token${'x'.repeat(25)}=${value}`, `token = ${value.slice(0, 12)}`, `token := ${value}`, `token => ${value}`, `token:=${value}`, `"token": "${value}"`, `token\t\n\v\f\r =\u00a0'${value}'`, `token==${value}`]) {
    assert.equal(kept(text), 1, JSON.stringify(text));
  }
  // Rules without the promise keep every hit: the same screen without shapes.
  assert.equal(new ByteScreen(['token']).screen(Buffer.from('token( token_x == 1', 'latin1')).hits.length / 2, 2);
});

test('an assignment cut at every byte, screened after a longer text of name and value bytes: the check stops at the end of the input, as on a fresh screen', () => {
  const screen = new ByteScreen(['token'], [generic.assignment!]);
  const sticky = new RegExp(generic.pattern, `${generic.flags}y`);
  for (const whole of [`token_ab = "${value}"`, `Token:'${value}x'`, `token\n=>\n${value}`, `token${'x'.repeat(25)}:=${value}`]) {
    for (let length = 0; length <= whole.length; length++) {
      // What is left in the memory past the end is more name, blanks and value: it must not count.
      screen.screen(Buffer.from(`${whole}${'a'.repeat(40)} = ${value}${value}`, 'latin1'));
      const text = whole.slice(0, length);
      const kept = screen.screen(Buffer.from(text, 'latin1')).hits.length / 2;
      assert.equal(kept, new ByteScreen(['token'], [generic.assignment!]).screen(Buffer.from(text, 'latin1')).hits.length / 2, JSON.stringify(text));
      sticky.lastIndex = 0;
      if (sticky.test(text)) assert.equal(kept, 1, JSON.stringify(text));
    }
  }
});

const longValue = Array.from({ length: 220 }, (_, index) => 'Kq7vT2mX8pL4wZ9nB3cR5sD6fG1hJ0+/=_.~!@#$%^&*-'[(index * 37 + 11) % 45]).join('');

/** Lines around the edges of the generic rule's regex: names, gaps, quotes, blanks, operators, values. */
const assignmentLike = fc
  .tuple(
    fc.constantFrom('', 'db_', 'export ', '"', "'", 'x.', '  ', '#', 'headers["X-'),
    fc.constantFrom('password', 'PASSWORD', 'Passwd', 'pwd', 'secret', 'token', 'Token', 'api_key', 'apikey', 'API-KEY', 'access_key', 'accessKey', 'auth_key', 'secretary', 'passwordless', 'tokenizer'),
    fc.constantFrom('', '_id', 'ID', '_hash', '.value', 'Url', '(', '/', 'a_b.c-d_e_f_g_h_i_j_k', 'abcdefghijklmnopqrst', 'abcdefghijklmnopqrstu', 'é'),
    fc.constantFrom('', '"', "'", '`'),
    fc.constantFrom('', ' ', '\t', '\n', ' \r\n ', '\u00a0', '\v'),
    fc.constantFrom('=', ':', ':=', '=>', '==', '===', '::', '=:', '>', '-', ': =', '= >', '=\n'),
    fc.constantFrom('', ' ', '\n  ', '\t'),
    fc.constantFrom('', '"', "'", '`'),
    fc.oneof(
      // values of every length around the rule's 12 to 200, from an alphabet with the value class's punctuation
      fc.tuple(fc.constantFrom(0, 5, 9), fc.constantFrom(0, 6, 10, 11, 12, 13, 16, 40, 199, 200, 201)).map(([from, length]) => longValue.slice(from, from + length)),
      fc.integer({ min: 0, max: 30 }).map((length) => Array.from({ length }, (_, index) => 'aZ3+/=_.~!@#$%^&*-é9kQ'[(index * 7 + length) % 22]).join('')),
    ),
    fc.constantFrom('', '"', ';', ' x', '\n', "'", 'é'),
  )
  .map((parts) => parts.join(''));

/** The built-in rules with the generic rule as it was before it declared its shape: same id, same place. */
const listedGeneric = (describeRules(rules) as { rules: Array<Record<string, unknown>> }).rules.find((rule) => rule.id === generic.id)!;
const { assignment: genericShape, ...genericWithoutShape } = listedGeneric;
const unpromised = loadSecretRules({ version: 1, rules: [genericWithoutShape] });

test('random assignment-like text: the screen with the assignment check finds exactly what it finds without it, and what the regexes alone find', () => {
  assert.equal(unpromised.rules.find((rule) => rule.id === generic.id)?.assignment, undefined);
  let findings = 0;
  fc.assert(
    fc.property(fc.array(assignmentLike, { minLength: 1, maxLength: 8 }), fc.constantFrom('\n', '\r\n', ' ', ''), (lines, separator) => {
      const text = lines.join(separator);
      const checked = described(scanText(text, rules, { decoding: 'latin1' }));
      findings += checked.length;
      assert.deepEqual(checked, described(scanText(text, unpromised, { decoding: 'latin1' })));
      // In ASCII a Latin-1 reading is the decoded text: the regexes alone, without any screen.
      const ascii = text.replace(/é/g, 'e');
      assert.deepEqual(described(scanText(ascii, rules, { decoding: 'latin1' })), described(scanText(ascii, rules)));
    }),
    { numRuns: 3000 },
  );
  assert.ok(findings > 250, `the texts hold findings to lose (${findings})`);
});

test('a user rule without "assignment" behaves as before: every hit kept, the same findings', () => {
  const without = loadSecretRules({ version: 1, extends: 'none', rules: [{ ...genericWithoutShape, id: 'my-generic' }] });
  assert.equal(without.rules[0]!.assignment, undefined);
  const hits = (set: typeof rules, text: string) => [...(set.prefilter.screen(Buffer.from(text, 'latin1'))?.anchorOffsets(0) ?? [])];
  assert.deepEqual(hits(without, 'token( token.x === y'), [0, 7]);
  const withShape = loadSecretRules({ version: 1, extends: 'none', rules: [{ ...genericWithoutShape, assignment: genericShape, id: 'my-generic' }] });
  assert.deepEqual(hits(withShape, 'token( token.x === y'), []);
  fc.assert(
    fc.property(fc.array(assignmentLike, { maxLength: 6 }), (lines) => {
      const text = lines.join('\n');
      assert.deepEqual(described(scanText(text, without, { decoding: 'latin1' })).map((line) => line.replace('my-generic', 'x')), described(scanText(text, withShape, { decoding: 'latin1' })).map((line) => line.replace('my-generic', 'x')));
    }),
    { numRuns: 500 },
  );
  // A keyword shared with a rule that made no promise: its hits are all kept, for both rules.
  const shared = loadSecretRules({ version: 1, rules: [{ id: 'acme-token', title: 'ACME', severity: 'low', keywords: ['token'], pattern: 'token\\((\\d{6})\\)', fix: 'f' }] });
  assert.deepEqual(scanText('token(123456)', shared, { decoding: 'latin1' }).map((match) => match.rule.id), ['acme-token']);
});

test('an "assignment" the check cannot keep is refused with the rule, the key and the fix', () => {
  const rule = { id: 'x', title: 'X', severity: 'high', keywords: ['token'], pattern: 'token\\w*\\s*=\\s*(\\w{12,})', fix: 'f' };
  const shape = { keyChars: '\\w', maxKeyLength: 30, valueChars: '\\w', minValueLength: 12 };
  const refuse = (changes: object, message: RegExp) =>
    assert.throws(
      () => loadSecretRules({ version: 1, rules: [{ ...rule, ...changes }] }, 'team-rules.json'),
      (error: unknown) => error instanceof RuleFileError && /team-rules\.json: rule "x"/.test(error.message) && message.test(error.message),
    );
  assert.ok(loadSecretRules({ version: 1, rules: [{ ...rule, assignment: shape }] }).rules.at(-1)?.assignment);
  refuse({ assignment: 'yes' }, /"assignment" must be \{ "keyChars"/);
  refuse({ assignment: { ...shape, operators: ['='] } }, /"operators" is no key of it/);
  refuse({ assignment: { ...shape, minValueLength: 0 } }, /"minValueLength" must be a whole number from 1 to 1000/);
  refuse({ assignment: { ...shape, keyChars: 'a-' + '\\' } }, /not the inside of a character class/);
  refuse({ assignment: { ...shape, keyChars: '\\w=' } }, /"keyChars" may not hold quotes, white space, ":" or "="/);
  refuse({ assignment: { ...shape, keyChars: '^a' } }, /"keyChars" may not hold/);
  refuse({ assignment: { ...shape, valueChars: '\\w ' } }, /"valueChars" may not hold white space/);
  refuse({ assignment: shape, pattern: '\\b(token\\w{12,})' }, /needs a pattern that starts with fixed text/);
  refuse({ assignment: shape, flags: 'u' }, /cannot have the u flag/);
  refuse({ assignment: shape, requiresNearby: { pattern: 'x', withinLines: 1 } }, /cannot be combined with "requiresNearby"/);
  refuse({ assignment: { ...shape, maxKeyLength: 4 } }, /can start with "token", longer than "maxKeyLength"/);
});

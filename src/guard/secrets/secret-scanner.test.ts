import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { plantedSecretsCorpus } from '../../../test/support/planted-secrets.js';
import { redactSecret, secretFingerprint } from './secret-finding.js';
import { loadSecretRules, RuleFileError } from './secret-rules.js';
import { scanText, shannonEntropy } from './secret-scanner.js';

const rules = loadSecretRules();
const corpus = plantedSecretsCorpus();

test('the corpus has a planted secret and a decoy for every built-in rule', () => {
  for (const rule of rules.rules) {
    assert.ok(corpus.planted.some((planted) => planted.ruleId === rule.id), `no planted secret for ${rule.id}`);
    assert.ok(corpus.decoys.some((decoy) => decoy.ruleId === rule.id), `no decoy for ${rule.id}`);
  }
  assert.ok(corpus.planted.some((planted) => planted.encoding === 'joined-lines'));
  assert.ok(corpus.planted.some((planted) => planted.encoding === 'base64'));
});

test('every planted secret is found with its rule id, fingerprint and encoding, and nothing else in its file', () => {
  for (const [file, content] of corpus.files) {
    const expected = corpus.planted
      .filter((planted) => planted.file === file)
      .map((planted) => `${planted.ruleId} ${secretFingerprint(planted.ruleId, planted.secret)} ${planted.encoding}`)
      .sort();
    const found = scanText(content, rules)
      .map((match) => `${match.rule.id} ${secretFingerprint(match.rule.id, match.secret)} ${match.encoding}`)
      .sort();
    assert.deepEqual(found, expected, `${file}:\n${content.slice(0, 600)}`);
  }
});

test('the position of a finding is the line and column where the secret starts', () => {
  const token = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');
  const [match, ...rest] = scanText(`first line\n  x = "${token}"\n`, rules);
  assert.equal(rest.length, 0);
  assert.equal(match?.rule.id, 'github-token');
  assert.deepEqual([match.line, match.column], [2, 8]);
  // Joined across lines: reported where the first piece starts.
  const [joined] = scanText(`a\nconst t = "${token.slice(0, 10)}" +\n  "${token.slice(10)}";\n`, rules);
  assert.deepEqual([joined?.line, joined?.column, joined?.encoding], [2, 12, 'joined-lines']);
});

test('Shannon entropy: 0 for one repeated character, log2(n) for n distinct ones', () => {
  assert.equal(shannonEntropy(''), 0);
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.equal(shannonEntropy('ab'), 1);
  assert.equal(shannonEntropy('0123456789abcdef'), 4);
});

test('Shannon entropy is the same to the last bit as the sum over a Map, in first-occurrence order', () => {
  const reference = (value: string) => {
    const counts = new Map<string, number>();
    for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
    let entropy = 0;
    for (const count of counts.values()) entropy -= (count / value.length) * Math.log2(count / value.length);
    return entropy;
  };
  fc.assert(
    // Past 255 characters too, where the terms are no longer looked up.
    fc.property(fc.string({ unit: fc.constantFrom(...'abcAB01+/_-é\u00ff'), maxLength: 300, size: 'max' }), (value) => Object.is(shannonEntropy(value), reference(value))),
    { numRuns: 3000 },
  );
  assert.ok(Object.is(shannonEntropy('ключ-key-ключ'), reference('ключ-key-ключ')));
});

test('a low-entropy value is no finding even where the rule matches', () => {
  const flat = ['sk', '_live_', 'ababababababababababababab'].join('');
  assert.deepEqual(scanText(`key = '${flat}'`, rules), []);
});

test('a rule file adds, replaces and disables rules; the built-in ids stay stable', () => {
  const set = loadSecretRules(
    {
      version: 1,
      rules: [
        { id: 'acme-token', title: 'ACME token', severity: 'high', keywords: ['acme_'], pattern: '\\b(acme_[a-z0-9]{24})\\b', minEntropy: 3, fix: 'Revoke it in the ACME console.' },
        { id: 'jwt', title: 'JWT (stricter)', severity: 'low', keywords: ['eyj'], pattern: 'never(matches)', fix: 'n/a' },
      ],
      disable: ['generic-secret-assignment'],
      placeholders: ['^acme_test'],
    },
    'team-rules.json',
  );
  const ids = set.rules.map((rule) => rule.id);
  assert.ok(ids.includes('acme-token'));
  assert.ok(!ids.includes('generic-secret-assignment'));
  assert.equal(ids.indexOf('jwt'), rules.rules.findIndex((rule) => rule.id === 'jwt'), 'a replaced rule keeps its place');
  assert.equal(set.rules.find((rule) => rule.id === 'jwt')?.severity, 'low');
  const acme = 'acme_' + 'k3j4h5g6f7d8s9a0q1w2e3r4';
  assert.deepEqual(scanText(`ACME=${acme}`, set).map((match) => [match.rule.id, match.secret]), [['acme-token', acme]]);
  assert.deepEqual(scanText(`ACME=${'acme_test' + 'k3j4h5g6f7d8s9a0q1w2e'}`, set), [], 'the file adds placeholders');

  const only = loadSecretRules({ version: 1, extends: 'none', rules: [{ id: 'only', title: 'Only', severity: 'low', keywords: ['zz'], pattern: 'zz(\\d+)', fix: 'f' }] });
  assert.deepEqual(only.rules.map((rule) => rule.id), ['only']);
});

test('a broken rule file is refused with the rule, the key and the fix', () => {
  const refuse = (file: unknown, message: RegExp) => assert.throws(() => loadSecretRules(file, 'team-rules.json'), (error: unknown) => error instanceof RuleFileError && message.test(error.message));
  const rule = { id: 'x', title: 'X', severity: 'high', keywords: ['x'], pattern: 'x(\\d)', fix: 'f' };
  refuse({ version: 2, rules: [] }, /"version" must be 1/);
  refuse({ version: 1, rules: [{ ...rule, pattern: 'x(' }] }, /rule "x": "pattern" is not a valid JavaScript regular expression/);
  refuse({ version: 1, rules: [{ ...rule, severity: 'urgent' }] }, /rule "x": "severity" must be one of low, medium, high, critical/);
  refuse({ version: 1, rules: [{ ...rule, keywords: ['UPPER'] }] }, /all lower case/);
  refuse({ version: 1, rules: [{ ...rule, colour: 'red' }] }, /unknown key "colour"/);
  refuse({ version: 1, rules: [rule, rule] }, /appears twice/);
  refuse({ version: 1, disable: ['no-such-rule'] }, /"disable" names "no-such-rule", which is no rule/);
  refuse({ version: 1, rules: [{ ...rule, id: 'Bad Id' }] }, /rules\[0\]\.id must be lower-case/);
});

/** What a file's bytes look like read as Latin-1 (one character per byte), as the sources read them. */
const asLatin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
const described = (matches: ReturnType<typeof scanText>) => matches.map((match) => `${match.rule.id} ${secretFingerprint(match.rule.id, match.secret)} ${redactSecret(match.secret)} ${match.encoding} ${match.line}:${match.column}`);

test('text read as Latin-1 gives the findings decoded text gives: rule, fingerprint, redaction, encoding, line and column', () => {
  // Non-ASCII before the secrets on their lines: the columns count characters, not bytes. (Not
  // inside PEM blocks, where a base64 line may look like an assignment.)
  for (const [file, content] of corpus.files) {
    const text = `// réglage — ключ\n${content.includes('-----BEGIN') ? content : content.replace(/^(\w+ ?[=:])/gm, '/* ключ — é */ $1')}`;
    const decoded = described(scanText(text, rules));
    assert.ok(decoded.length >= corpus.planted.filter((planted) => planted.file === file).length, file);
    assert.deepEqual(described(scanText(asLatin1(text), rules, { decoding: 'latin1' })), decoded, file);
  }
});

test('a secret holding non-ASCII characters is fingerprinted and redacted as decoded text is', () => {
  // "à" is C3 A0 in UTF-8: read as Latin-1 its second byte is a no-break space, which \s matches.
  const password = ['Zü9q', 'äX7w', 'Ö2m€', 'k4à'].join('');
  const text = `Ünïcode — DATABASE_URL=postgres://app:${password}@db.internal:5432/app\n`;
  const [decoded] = scanText(text, rules);
  assert.equal(decoded?.rule.id, 'database-url-password');
  assert.equal(decoded.secret, password);
  const [latin1, ...rest] = scanText(asLatin1(text), rules, { decoding: 'latin1' });
  assert.equal(rest.length, 0);
  assert.deepEqual([latin1?.secret, latin1?.line, latin1?.column], [password, decoded.line, decoded.column]);
  assert.deepEqual(described([latin1!]), described([decoded]));
});

test('rules written in ASCII read Latin-1; a rule with a non-ASCII keyword, a \\u escape or the u flag needs decoded text', () => {
  assert.equal(rules.textDecoding, 'latin1');
  const rule = { id: 'x', title: 'X', severity: 'high', keywords: ['ключ'], pattern: 'ключ=(\\w{12,})', fix: 'f' };
  assert.equal(loadSecretRules({ version: 1, rules: [rule] }).textDecoding, 'utf8');
  assert.equal(loadSecretRules({ version: 1, rules: [{ ...rule, keywords: ['key'], pattern: 'key=(\\u00e9\\w{12,})' }] }).textDecoding, 'utf8');
  assert.equal(loadSecretRules({ version: 1, rules: [{ ...rule, keywords: ['key'], pattern: 'key=(\\p{L}{12,})', flags: 'u' }] }).textDecoding, 'utf8');
  assert.equal(loadSecretRules({ version: 1, rules: [{ ...rule, keywords: ['key'], pattern: 'key=(\\w{12,})' }] }).textDecoding, 'latin1');
});

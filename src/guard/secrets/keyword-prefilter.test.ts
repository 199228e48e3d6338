import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KeywordPrefilter } from './keyword-prefilter.js';
import { loadSecretRules } from './secret-rules.js';
import { scanText } from './secret-scanner.js';

const rules = loadSecretRules();
const ruleIds = (text: string) => rules.prefilter.activeRules(text).map((index) => rules.rules[index]!.id);
// Built from pieces so this file holds no secret.
const githubToken = ['gh', 'p_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');

test('keywords are found in any letter case, and a keyword turns on every rule it contains', () => {
  assert.deepEqual(ruleIds('nothing to see here'), []);
  for (const variant of ['TOKEN = x', 'Token = x', 'tOkEn = x']) assert.deepEqual(ruleIds(variant), ['generic-secret-assignment'], variant);
  // "sk-ant-" holds "sk-": the Anthropic rule and the OpenAI rule both run.
  assert.deepEqual(ruleIds('key: SK-ANT-api03'), ['openai-api-key', 'anthropic-api-key']);
  // Overlapping keywords: "asiakia" holds asia and akia.
  assert.deepEqual(ruleIds('xasiakiax'), ['aws-access-key-id', 'aws-key-pair-secret']);
});

test('a text full of one keyword still turns on the rules whose keywords come later', () => {
  // The prefilter stops looking for "token" once the generic rule is on; the GitHub keyword
  // after ten thousand tokens must still be seen.
  const text = `${'token token token\n'.repeat(10_000)}x = ${githubToken}\n`;
  assert.deepEqual(ruleIds(text), ['github-token', 'generic-secret-assignment']);
  const [match, ...rest] = scanText(text, rules);
  assert.equal(rest.length, 0);
  assert.equal(match?.rule.id, 'github-token');
  assert.equal(match.line, 10_001);
});

test('a secret in upper case is found: the keyword is matched case-insensitively, the pattern decides', () => {
  const dbUrl = ['POSTGRES', '://app:', 'Xq9', 'vT2', 'mK8', 'pL4@db.internal:5432/app'].join('');
  assert.deepEqual(scanText(`DATABASE_URL=${dbUrl}\n`, rules).map((match) => match.rule.id), ['database-url-password']);
});

test('a rule without keywords runs on every text', () => {
  const set = loadSecretRules({
    version: 1,
    extends: 'none',
    rules: [{ id: 'acme-serial', title: 'ACME serial', severity: 'low', keywords: [], pattern: '\\b(Z[0-9]{3}-[0-9]{4}-[0-9]{3}Q)\\b', fix: 'Revoke it.' }],
  });
  assert.deepEqual(set.prefilter.activeRules('plain words'), [0]);
  const serial = ['Z', '123', '-4567-', '890', 'Q'].join('');
  assert.deepEqual(scanText(`id ${serial}\n`, set).map((match) => match.secret), [serial]);
  // Read as Latin-1 the byte screen runs: the rule is on; \b gives its pattern no fixed
  // beginning, so its regex runs over the whole text.
  assert.equal(set.rules[0]!.prefixes, undefined);
  assert.deepEqual(scanText(`id ${serial}\n`, set, { decoding: 'latin1' }).map((match) => match.secret), [serial]);
});

test('through the byte screen: a keyword-less rule with a fixed beginning, a one-character keyword, a prefix that is no keyword', () => {
  const rule = { title: 'ACME', severity: 'low', fix: 'Revoke it.' } as const;
  const token = ['acme', '_', 'k3j4h5g6f7d8'].join('');
  const anchored = loadSecretRules({ version: 1, extends: 'none', rules: [{ ...rule, id: 'acme', keywords: [], pattern: '(acme_[a-z0-9]{12})' }] });
  assert.deepEqual(anchored.rules[0]!.prefixes, ['acme_']);
  assert.deepEqual(scanText(`x = ${token}\n`, anchored, { decoding: 'latin1' }).map((match) => match.secret), [token]);
  // A keyword of one character: the set cannot be screened, and is searched as text.
  const short = loadSecretRules({ version: 1, extends: 'none', rules: [{ ...rule, id: 'acme', keywords: ['_'], pattern: '(acme_[a-z0-9]{12})' }] });
  assert.equal(short.prefilter.screen(Buffer.from('acme_')), undefined);
  assert.deepEqual(scanText(`x = ${token}\n`, short, { decoding: 'latin1' }).map((match) => match.secret), [token]);
  // Turned on by its keyword, tried at its pattern's beginnings, which need not be keywords.
  const upper = ['ACME', '-V2_', 'k3j4h5g6f7d8'].join('');
  const both = loadSecretRules({ version: 1, extends: 'none', rules: [{ ...rule, id: 'acme', keywords: ['acme_'], pattern: '((?:acme|ACME-V2)_[a-z0-9]{12})' }] });
  assert.deepEqual(scanText(`x = ${token}\ny = ${upper}\n`, both, { decoding: 'latin1' }).map((match) => match.secret), [token, upper]);
  assert.deepEqual(scanText(`y = ${upper}\n`, both, { decoding: 'latin1' }), [], 'no keyword, no finding: as without the screen');
  // More literal text than the screen's tables hold: searched as text.
  const many = loadSecretRules({ version: 1, extends: 'none', rules: Array.from({ length: 400 }, (_, at) => ({ ...rule, id: `r${at}`, keywords: [`kw${at}-${'x'.repeat(40)}`], pattern: `(acme_[a-z0-9]{12})${at}` })) });
  assert.equal(many.prefilter.screen(Buffer.from('acme_')), undefined);
});

test('a requiresNearby rule is found within its lines of a keyword, not beyond them', () => {
  const keyId = ['AK', 'IA', 'QWERTYUIOPASDFGH'].join('');
  const secret = ['wJa9rXUtnFEMIK7', 'MDENGbPxRfiCYz3Q', '8uT2vLkP0'].join('');
  assert.equal(secret.length, 40);
  const filler = (lines: number) => 'x = 1\n'.repeat(lines);
  // The secret's line is three lines below the key id's line: inside the window.
  const near = `${filler(50)}id=${keyId}\n${filler(2)}value=${secret}\n${filler(50)}`;
  assert.deepEqual(
    scanText(near, rules).map((match) => [match.rule.id, match.line]),
    [
      ['aws-access-key-id', 51],
      ['aws-key-pair-secret', 54],
    ],
  );
  // Four lines below: outside withinLines (3), as the rule says.
  const far = `${filler(50)}id=${keyId}\n${filler(3)}value=${secret}\n`;
  assert.deepEqual(scanText(far, rules).map((match) => match.rule.id), ['aws-access-key-id']);
});

test('a requiresNearby match may run on past its window: a 30-line key body in a service-account file', () => {
  const body = randomBytes(30 * 48).toString('base64').match(/.{64}/g)!;
  const begin = ['-----BEGIN', ' PRIVATE', ' KEY-----'].join('');
  const end = ['-----END', ' PRIVATE', ' KEY-----'].join('');
  const file = `{\n  "type": "service_account",\n  "private_key": "${begin}\n${body.join('\n')}\n${end}\n",\n  "client_email": "ci@project.iam.gserviceaccount.com"\n}\n`;
  const matches = scanText(file, rules);
  assert.deepEqual(matches.map((match) => [match.rule.id, match.line]), [['gcp-service-account-key', 3]]);
  assert.equal(matches[0]!.secret, body.join(''), 'the whole body, though it ends 31 lines below the keyword (withinLines is 12)');
});

test('the prefilter caches one searcher per set of rules still off, and stays bounded', () => {
  const prefilter = new KeywordPrefilter(Array.from({ length: 12 }, (_, index) => ({ keywords: [`kw${index}x`] })));
  // 2^12 different sets of rules turned on: the cache is cleared rather than grown past its bound.
  for (let mask = 0; mask < 4096; mask += 7) {
    const text = Array.from({ length: 12 }, (_, index) => ((mask >> index) & 1 ? `KW${index}X` : 'none')).join(' ');
    const expected = Array.from({ length: 12 }, (_, index) => index).filter((index) => (mask >> index) & 1);
    assert.deepEqual(prefilter.activeRules(text), expected, text);
  }
});

test('every name spelling the generic rule accepts is one of its keywords: none is skipped before its pattern runs', () => {
  // Built from pieces so this file holds no secret.
  const value = ['Zq7', 'Lw3', 'Rt9', 'Mk2', 'Vb5'].join('');
  for (const name of ['auth_key', 'authkey', 'auth-key', 'access_key', 'accesskey', 'access-key', 'api_key', 'apikey', 'api-key']) {
    assert.deepEqual(scanText(`${name} = "${value}"\n`, rules).map((match) => match.rule.id), ['generic-secret-assignment'], name);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plantedSecretsCorpus } from '../../../test/support/planted-secrets.js';
import { patternPrefixes } from './pattern-prefixes.js';
import { loadSecretRules } from './secret-rules.js';

test('the fixed beginnings of patterns: literals, classes, groups, optional parts, look-arounds skipped', () => {
  assert.deepEqual(patternPrefixes('(?<![A-Za-z0-9])((?:AKIA|ASIA)[A-Z2-7]{16})', ''), ['akia', 'asia']);
  assert.deepEqual(patternPrefixes('(?:api[_-]?key|pwd)\\s*=', 'i'), ['apikey', 'api_key', 'api-key', 'pwd']);
  assert.deepEqual(patternPrefixes('[?&]sv=\\d{4}', ''), ['?sv=', '&sv=']);
  assert.deepEqual(patternPrefixes('gh[pousr]_[A-Za-z0-9]{36}', ''), ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_']);
  // An alternative the reader cannot finish still leaves the ones after it read.
  assert.deepEqual(patternPrefixes('(?:xox[ab](?:\\.[a-z0-9]+)?|xapp)-', ''), ['xoxa', 'xoxb', 'xapp']);
  assert.deepEqual(patternPrefixes('(?<name>ab)c(?=d)d', ''), ['abcd']);
  assert.deepEqual(patternPrefixes('ab{2}c', ''), ['ab'], 'b{2}: one b is certain, the rest is not read');
  assert.deepEqual(patternPrefixes('a(b|)c', ''), ['abc', 'ac']);
  assert.deepEqual(patternPrefixes('a?bc', ''), ['bc', 'abc']);
  // No prefix of two characters or more: the regex runs over the whole text.
  for (const none of ['\\bkey', '[A-Z]ab', '.{3}abc', '(?:ab|c)', '^abc', '(a)\\1', 'a|bc']) assert.equal(patternPrefixes(none, ''), undefined, none);
  assert.equal(patternPrefixes('key=(\\p{L}+)', 'u'), undefined);
});

test('every match of every built-in rule in the planted corpus and its decoys starts with one of its prefixes', () => {
  const rules = loadSecretRules();
  const { files } = plantedSecretsCorpus();
  let checked = 0;
  for (const rule of rules.rules) {
    if (rule.prefixes === undefined) continue;
    for (const [, content] of files) {
      for (const match of content.matchAll(new RegExp(rule.pattern, `${rule.flags}g`))) {
        const start = match[0].slice(0, 12).replace(/[A-Z]/g, (char) => char.toLowerCase());
        assert.ok(rule.prefixes.some((prefix) => start.startsWith(prefix)), `${rule.id}: ${JSON.stringify(match[0].slice(0, 20))}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 20, `only ${checked} matches`);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Pattern, type VariableSource } from './pattern.js';
import { PolicyError } from './policy-error.js';

const WILD = { wildcards: true, variables: false };
const VARS = { wildcards: true, variables: true };
const none: VariableSource = { variable: () => undefined };
const alice: VariableSource = { variable: (key) => (key === 'aws:username' ? 'alice' : undefined) };

test('wildcards: * any run (also empty), ? exactly one character', () => {
  const table: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything at all', true],
    ['a*', 'a', true],
    ['a*', 'ba', false],
    ['*a', 'ba', true],
    ['*a', 'ab', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'abcabc', true],
    ['a*bc*bc', 'abcbc', true],
    ['a*bc*bc', 'abc', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['?*', '', false],
    ['?*', 'x', true],
    ['a*?b', 'ab', false],
    ['a*?b', 'axb', true],
    ['x*y?z*', 'xQQyAz', true],
    ['x*y?z*', 'xyz', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b/k/e/y', true],
    ['arn:aws:s3:::b/*', 'arn:aws:s3:::b', false],
  ];
  for (const [pattern, value, expected] of table) {
    assert.equal(new Pattern(pattern, WILD, 'test').matches(value), expected, `${pattern} vs ${value}`);
  }
});

test('without wildcards, * and ? are literal characters', () => {
  const literal = new Pattern('a*b?', { wildcards: false, variables: false }, 'test');
  assert.equal(literal.matches('a*b?'), true);
  assert.equal(literal.matches('aXbY'), false);
});

test('agrees with a reference RegExp translation on random patterns and values', () => {
  const alphabet = fc.constantFrom('a', 'b', '/', '*', '?');
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '/'), maxLength: 10 }), (pattern, value) => {
      const reference = new RegExp(`^${pattern.replace(/[/]/g, '\\/').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
      assert.equal(new Pattern(pattern, WILD, 'test').matches(value), reference.test(value));
    }),
    { numRuns: 2000 },
  );
});

test('policy variables are substituted as literal text; a missing one makes the pattern not match', () => {
  const home = new Pattern('arn:aws:s3:::b/home/${aws:username}/*', VARS, 'test');
  assert.equal(home.matches('arn:aws:s3:::b/home/alice/x', alice), true);
  assert.equal(home.matches('arn:aws:s3:::b/home/bob/x', alice), false);
  assert.equal(home.matches('arn:aws:s3:::b/home/alice/x', none), false);
  assert.equal(home.hasVariables, true);
  const star: VariableSource = { variable: () => 'a*' };
  const exact = new Pattern('${aws:username}', VARS, 'test');
  assert.equal(exact.matches('a*', star), true);
  assert.equal(exact.matches('abc', star), false, 'a substituted * is not a wildcard');
});

test('variable names are case-insensitive, take a quoted default, and ${*} ${?} ${$} escape', () => {
  assert.equal(new Pattern('${AWS:UserName}', VARS, 't').matches('alice', alice), true);
  const fallback = new Pattern("home/${aws:username, 'nobody'}/*", VARS, 't');
  assert.equal(fallback.matches('home/nobody/x', none), true);
  assert.equal(fallback.matches('home/alice/x', alice), true);
  assert.equal(new Pattern("${aws:username,'it''s'}", VARS, 't').matches("it's", none), true);
  const escaped = new Pattern('a${*}b${?}c${$}', VARS, 't');
  assert.equal(escaped.matches('a*b?c$'), true);
  assert.equal(escaped.matches('aXb?c$'), false);
});

test('without variables (Version 2008-10-17), ${...} is literal text', () => {
  const literal = new Pattern('home/${aws:username}', { wildcards: true, variables: false }, 't');
  assert.equal(literal.matches('home/${aws:username}'), true);
  assert.equal(literal.matches('home/alice', alice), false);
});

test('malformed or unknown variables are refused with the place named', () => {
  assert.throws(() => new Pattern('home/${aws:username', VARS, 'Statement[3] field "Resource"'), (e: unknown) => {
    assert.ok(e instanceof PolicyError);
    assert.match(e.message, /^Statement\[3\] field "Resource": .*malformed policy variable at position 5/);
    return true;
  });
  assert.throws(() => new Pattern('${aws:nosuchkey}', VARS, 'S'), /names a key Holdfast does not know/);
  assert.throws(() => new Pattern("${aws:username, nobody}", VARS, 'S'), /single quotes/);
  assert.throws(() => new Pattern('${}', VARS, 'S'), /no key name/);
});

test('lower-case patterns fold their literals and substituted values', () => {
  const p = new Pattern('S3:Get*-${aws:username}', { wildcards: true, variables: true, lowerCase: true }, 't');
  assert.equal(p.matches('s3:getobject-alice', { variable: () => 'ALICE' }), true);
  assert.equal(p.source, 'S3:Get*-${aws:username}', 'the source is kept as written');
});

test('prefix analysis: could some / does every extension of a prefix match', () => {
  const objects = 'arn:aws:s3:::b/';
  const cases: [string, boolean, boolean][] = [
    // pattern, could match some object, matches every object
    ['*', true, true],
    ['arn:aws:s3:::*', true, true],
    ['arn:aws:s3:::b/*', true, true],
    ['arn:aws:s3:::b*', true, true],
    ['arn:aws:s3:::?/*', true, true],
    ['arn:aws:s3:::b/logs/*', true, false],
    ['arn:aws:s3:::b', false, false],
    ['arn:aws:s3:::b/', false, false],
    ['arn:aws:s3:::c/*', false, false],
    ['arn:aws:s3:::bb/*', false, false],
    ['arn:aws:s3:::b/*.tar', true, false],
    ['arn:aws:s3:::*/x', true, false],
  ];
  for (const [source, some, every] of cases) {
    const p = new Pattern(source, WILD, 't');
    assert.equal(p.couldMatchSomeExtensionOf(objects), some, `some: ${source}`);
    assert.equal(p.matchesEveryExtensionOf(objects), every, `every: ${source}`);
  }
  const variable = new Pattern('arn:aws:s3:::${aws:username}/*', VARS, 't');
  assert.equal(variable.couldMatchSomeExtensionOf(objects), true, 'a variable could be anything');
  assert.equal(variable.matchesEveryExtensionOf(objects), false, 'but is never certain');
});

test('prefix analysis agrees with brute force over short extensions', () => {
  const extensions: string[] = [];
  const grow = (s: string) => {
    if (s.length > 0) extensions.push(s);
    if (s.length < 5) for (const ch of ['a', 'b', 'c']) grow(s + ch);
  };
  grow('');
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 4 }), fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 3 }), (source, prefix) => {
      const p = new Pattern(source, WILD, 'test');
      const results = extensions.map((x) => p.matches(prefix + x));
      assert.equal(p.couldMatchSomeExtensionOf(prefix), results.includes(true), `some: ${source} / ${prefix}`);
      assert.equal(p.matchesEveryExtensionOf(prefix), !results.includes(false), `every: ${source} / ${prefix}`);
    }),
    { numRuns: 1000 },
  );
});

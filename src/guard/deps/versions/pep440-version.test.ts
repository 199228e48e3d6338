import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAscendingIn, compareIn } from '../../../../test/support/version-order.js';
import { PEP440_SCHEME } from './ecosystem-versions.js';
import { parsePep440 } from './pep440-version.js';

const compare = (a: string, b: string) => compareIn(PEP440_SCHEME, a, b);
const assertAscending = (versions: readonly string[]) => assertAscendingIn(PEP440_SCHEME, versions);

test("PEP 440's own example of the order of a release's pre-, post- and development releases", () => {
  assertAscending(['1.dev0', '1.0.dev456', '1.0a1', '1.0a2.dev456', '1.0a12.dev456', '1.0a12', '1.0b1.dev456', '1.0b2', '1.0b2.post345.dev456', '1.0b2.post345', '1.0rc1.dev456', '1.0rc1', '1.0', '1.0+abc.5', '1.0+abc.7', '1.0+5', '1.0.post456.dev34', '1.0.post456', '1.0.15', '1.1.dev1']);
});

test('epochs come first, release segments compare as numbers and trailing zeros do not count', () => {
  assertAscending(['2.0', '2.9', '2.10', '10.0', '20240101123456', '1!0.1']);
  assert.equal(compare('1.0', '1.0.0'), 0);
  assert.equal(compare('1', '1.0.0.0'), 0);
  assert.equal(compare('0!1.2', '1.2'), 0);
});

test("the spelling variants PEP 440 normalizes compare equal to the normal form", () => {
  for (const [variant, normal] of [
    ['1.0alpha1', '1.0a1'],
    ['1.0-BETA.2', '1.0b2'],
    ['1.0c1', '1.0rc1'],
    ['1.0pre1', '1.0rc1'],
    ['1.0-preview_1', '1.0rc1'],
    ['1.0rc', '1.0rc0'],
    ['1.0-1', '1.0.post1'],
    ['1.0.rev1', '1.0.post1'],
    ['1.0r', '1.0.post0'],
    ['1.0-dev', '1.0.dev0'],
    ['v1.0', '1.0'],
    ['  1.0\n', '1.0'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
  ] as const) {
    assert.equal(compare(variant, normal), 0, `${variant} == ${normal}`);
  }
});

test('local versions: numbers above letters, a longer one above its prefix', () => {
  assertAscending(['1.0', '1.0+a', '1.0+a.b', '1.0+a.1', '1.0+b', '1.0+1', '1.0+2', '1.0+10']);
});

test('strings that are not PEP 440 versions do not parse', () => {
  for (const bad of ['', 'latest', '1.0.x', '1..0', '1.0-', '1.0+', '1.0+a..b', 'dev', '*', '1.0 1', 'git+https://x']) assert.equal(parsePep440(bad), undefined, bad);
});

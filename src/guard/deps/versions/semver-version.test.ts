import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAscendingIn, compareIn } from '../../../../test/support/version-order.js';
import { SEMVER_SCHEME } from './ecosystem-versions.js';
import { parseSemver } from './semver-version.js';

const compare = (a: string, b: string) => compareIn(SEMVER_SCHEME, a, b);
const assertAscending = (versions: readonly string[]) => assertAscendingIn(SEMVER_SCHEME, versions);

test('SemVer §11: the specification\'s own pre-release example, in order', () => {
  assertAscending(['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0']);
});

test('numbers compare numerically, never as floats or text; build metadata has no precedence', () => {
  assertAscending(['0.9.9', '1.2.9', '1.2.10', '1.10.0', '10.0.0', '99999999999999999999.0.0', '100000000000000000000.0.0']);
  assert.equal(compare('1.0.0+build.1', '1.0.0+build.2'), 0);
  assert.equal(compare('1.0.0-rc.1+x', '1.0.0-rc.1'), 0);
  assertAscending(['1.0.0-9', '1.0.0-10', '1.0.0-1a', '1.0.0-a']);
});

test('Go module versions: a leading v, pseudo-versions and +incompatible', () => {
  assertAscending(['v0.0.0-20200101000000-0123456789ab', 'v0.0.0-20210101000000-0123456789ab', 'v0.1.0', 'v2.0.0+incompatible', 'v2.0.1']);
});

test('strings that are not SemVer do not parse', () => {
  for (const bad of ['', '1', '1.2', '1.2.3.4', '1.2.x', 'latest', '1.2.3-', '1.2.3-a..b', 'git+ssh://x']) assert.equal(parseSemver(bad), undefined, bad);
});

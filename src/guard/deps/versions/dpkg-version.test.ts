import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { requireTool, runCommand } from '../../../../test/support/tools.js';
import { assertAscendingIn, compareIn } from '../../../../test/support/version-order.js';
import { parseDpkgVersion } from './dpkg-version.js';
import { DPKG_SCHEME } from './ecosystem-versions.js';

const compare = (a: string, b: string) => compareIn(DPKG_SCHEME, a, b);
const assertAscending = (versions: readonly string[]) => assertAscendingIn(DPKG_SCHEME, versions);

test('Debian Policy §5.6.12: "~~" < "~~a" < "~" < the empty part < "a"; ~ sorts before the end', () => {
  assertAscending(['1.0~~', '1.0~~a', '1.0~', '1.0', '1.0a']);
  // Letters sort before other characters: "ubuntu1" < "+b1".
  assertAscending(['1.0~rc1-1', '1.0-1', '1.0-1ubuntu1', '1.0-1+b1', '1.0-2']);
});

test('epochs first, then upstream, then revision; digit runs numerically; letters before punctuation', () => {
  assertAscending(['0.9', '1.2.3', '1.2.10', '1.10', '2.0', '1:0.1', '2:0.0']);
  assertAscending(['1.0', '1.0a', '1.0z', '1.0+', '1.0+dfsg', '1.0.a']);
  assertAscending(['2.30-1', '2.30-9', '2.30-10', '2.31-1']);
  // The revision is after the LAST hyphen: upstream "1.0-rc1" with revision 2.
  assert.deepEqual(parseDpkgVersion('1:1.0-rc1-2'), { epoch: 1, upstream: '1.0-rc1', revision: '2' });
});

test('equalities dpkg accepts: leading zeros, an absent epoch, an absent revision and "-0"', () => {
  assert.equal(compare('1.002', '1.2'), 0);
  assert.equal(compare('0:1.2-3', '1.2-3'), 0);
  assert.equal(compare('1.2', '1.2-0'), 0);
  assert.equal(compare('1.2-3+b1', '1.2-3+b1'), 0);
});

test('strings dpkg refuses do not parse', () => {
  for (const bad of ['', ' ', 'a:1.0', '1.0-', '1 .0', ':1.0']) assert.equal(parseDpkgVersion(bad), undefined, JSON.stringify(bad));
});

/** Valid Debian versions over a small alphabet, so generated pairs often share long prefixes. */
function versionArbitrary(): fc.Arbitrary<string> {
  const char = fc.constantFrom('0', '1', '2', '9', '10', 'a', 'b', 'Z', '.', '+', '~');
  const body = (extra: string[]) => fc.array(fc.oneof(char, fc.constantFrom(...(extra.length === 0 ? ['.'] : extra))), { maxLength: 6 }).map((parts) => parts.join(''));
  return fc
    .record({
      epoch: fc.option(fc.constantFrom('0', '1', '2', '10'), { nil: undefined }),
      head: fc.constantFrom('0', '1', '2', '9', '01'),
      revision: fc.option(fc.tuple(fc.constantFrom('0', '1', 'a', '~'), body([])), { nil: undefined }),
    })
    .chain(({ epoch, head, revision }) =>
      body(revision === undefined ? [] : ['-']).map((tail) => `${epoch === undefined ? '' : `${epoch}:`}${head}${tail}${revision === undefined ? '' : `-${revision[0]}${revision[1]}`}`),
    );
}

test('agrees with dpkg --compare-versions on generated pairs (the real dpkg as the oracle)', async (t) => {
  if (!(await requireTool(t, 'dpkg', ['--version'], 'dpkg'))) return;
  const version = versionArbitrary();
  const pairs: Array<[string, string]> = [
    ...fc.sample(fc.tuple(version, version), { numRuns: 300, seed: 7 }),
    // Near neighbours: a version against itself with one more character.
    ...fc.sample(fc.tuple(version, fc.constantFrom('~', '0', '1', 'a', '+', '.', '-0', '-1', '~~')), { numRuns: 200, seed: 11 }).map(([v, more]): [string, string] => [v, `${v}${more}`]),
  ].filter(([a, b]) => parseDpkgVersion(a) !== undefined && parseDpkgVersion(b) !== undefined);
  const quote = (text: string) => `'${text}'`;
  const script = pairs
    .map(([a, b]) => `if dpkg --compare-versions ${quote(a)} lt ${quote(b)}; then echo -1; elif dpkg --compare-versions ${quote(a)} eq ${quote(b)}; then echo 0; else echo 1; fi`)
    .join('\n');
  const run = await runCommand('sh', ['-s'], { input: script, timeoutMs: 120_000 });
  assert.equal(run.stderr, '', 'dpkg accepted every generated version');
  const answers = run.stdout.trim().split('\n').map(Number);
  assert.equal(answers.length, pairs.length);
  const disagreements = pairs.map(([a, b], index) => ({ a, b, dpkg: answers[index], ours: compare(a, b) })).filter((row) => row.dpkg !== row.ours);
  assert.deepEqual(disagreements, []);
  assert.ok(answers.includes(0) && answers.includes(-1) && answers.includes(1), 'the sample covers less, equal and greater');
});

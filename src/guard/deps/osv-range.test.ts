import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchAffected } from './osv-range.js';
import type { OsvAffected, OsvEvent, OsvRange } from './osv-record.js';
import { DPKG_SCHEME, PEP440_SCHEME, SEMVER_SCHEME } from './versions/ecosystem-versions.js';

function affected(ranges: OsvRange[], versions: string[] = []): OsvAffected {
  return { ecosystem: 'npm', name: 'pkg', ranges, versions, severity: [] };
}

const range = (type: string, ...events: OsvEvent[]): OsvRange => ({ type, events });

function affectedVersions(entry: OsvAffected, candidates: readonly string[], scheme = SEMVER_SCHEME): string[] {
  return candidates.filter((version) => matchAffected(version, entry, scheme) !== undefined);
}

test('introduced is inclusive, fixed exclusive; several intervals in one range', () => {
  const entry = affected([range('SEMVER', { introduced: '1.0.0' }, { fixed: '1.0.2' }, { introduced: '3.0.0' }, { fixed: '3.2.5' })]);
  assert.deepEqual(affectedVersions(entry, ['0.9.9', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.0.2-beta', '1.0.2', '2.9.9', '3.0.0', '3.2.4', '3.2.5', '4.0.0']), ['1.0.0', '1.0.1', '1.0.2-beta', '3.0.0', '3.2.4']);
  assert.deepEqual(matchAffected('3.1.0', entry, SEMVER_SCHEME), { fixedIn: ['3.2.5'], via: 'range' });
});

test('introduced "0" is below everything, including pre-releases; no fix means every later version', () => {
  const entry = affected([range('ECOSYSTEM', { introduced: '0' })]);
  assert.deepEqual(affectedVersions(entry, ['0.0.0-alpha', '0.0.1', '99.0.0']), ['0.0.0-alpha', '0.0.1', '99.0.0']);
  assert.deepEqual(matchAffected('1.0.0', entry, SEMVER_SCHEME), { fixedIn: [], via: 'range' });
});

test('last_affected is inclusive', () => {
  const entry = affected([range('ECOSYSTEM', { introduced: '0' }, { last_affected: '2.1.214' })]);
  assert.deepEqual(affectedVersions(entry, ['2.1.213', '2.1.214', '2.1.215', '2.1.214-1']), ['2.1.213', '2.1.214', '2.1.214-1']);
  assert.deepEqual(matchAffected('2.1.0', entry, SEMVER_SCHEME), { fixedIn: [], lastAffected: '2.1.214', via: 'range' });
});

test('limit bounds the range from above (exclusive); "*" is infinity', () => {
  const limited = affected([range('SEMVER', { introduced: '1.0.0' }, { limit: '2.0.0' })]);
  assert.deepEqual(affectedVersions(limited, ['0.1.0', '1.0.0', '1.9.9', '2.0.0', '2.0.1']), ['1.0.0', '1.9.9']);
  const unlimited = affected([range('SEMVER', { introduced: '1.0.0' }, { limit: '*' })]);
  assert.deepEqual(affectedVersions(unlimited, ['0.1.0', '1.0.0', '9.0.0']), ['1.0.0', '9.0.0']);
});

test('events out of order are sorted before evaluation', () => {
  const entry = affected([range('SEMVER', { fixed: '1.5.0' }, { introduced: '1.2.0' })]);
  assert.deepEqual(affectedVersions(entry, ['1.1.9', '1.2.0', '1.4.9', '1.5.0']), ['1.2.0', '1.4.9']);
});

test('the versions list matches exact strings only; GIT ranges are left to it', () => {
  const entry = affected([range('GIT', { introduced: 'a1b2c3' }, { fixed: 'd4e5f6' })], ['1.0.0', '1.0.1']);
  assert.deepEqual(affectedVersions(entry, ['1.0.0', '1.0.1', '1.0.2', '1.0.0+build']), ['1.0.0', '1.0.1']);
});

test('ECOSYSTEM ranges for Debian use dpkg ordering: ~ pre-releases, epochs and binNMU revisions', () => {
  const entry = { ...affected([range('ECOSYSTEM', { introduced: '0' }, { fixed: '1:2.4.1-1' })]), ecosystem: 'Debian:12' };
  const installed = ['2.9-1', '1:2.4.1~rc1-1', '1:2.4.1-0.1', '1:2.4.1-1', '1:2.4.1-1+b1', '1:2.4.2-1'];
  assert.deepEqual(affectedVersions(entry, installed, DPKG_SCHEME), ['2.9-1', '1:2.4.1~rc1-1', '1:2.4.1-0.1']);
});

test('ECOSYSTEM ranges for PyPI use PEP 440 ordering: dev and pre-releases, post-releases, trailing zeros, local versions', () => {
  const entry = { ...affected([range('ECOSYSTEM', { introduced: '2.0.0a1' }, { fixed: '2.0.7' }, { introduced: '3.0' }, { last_affected: '3.1' })]), ecosystem: 'PyPI' };
  const installed = ['1.26.18', '2.0.0.dev1', '2.0.0a1', '2.0', '2.0.6.post1', '2.0.7rc1', '2.0.7', '2.0.7+local', '2.9', '3.0.0', '3.1.0', '3.1+deb', '3.1.post0', '3.1.1'];
  assert.deepEqual(affectedVersions(entry, installed, PEP440_SCHEME), ['2.0.0a1', '2.0', '2.0.6.post1', '2.0.7rc1', '3.0.0', '3.1.0']);
});

test('a range whose events the ordering cannot read is skipped, not guessed', () => {
  const entry = affected([range('SEMVER', { introduced: '0' }, { fixed: 'not-a-version' })]);
  assert.equal(matchAffected('1.0.0', entry, SEMVER_SCHEME), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { isSuppressed, SECRETS_NOT_IN_SOURCE, secretFingerprint } from './secret-finding.js';
import { scanUnit, type SecretScanOptions } from './secret-scan.js';
import { loadSecretRules } from './secret-rules.js';
import { expiryInstant, parseBaseline, parseInlineMarker, writeBaselineFile } from './suppressions.js';

const DAY_MS = 24 * 3600 * 1000;
/** 2031-03-01T12:00Z: the tests' "now", far from the day they run. */
const NOW_MS = Date.UTC(2031, 2, 1, 12);
const rules = loadSecretRules();
const token = ['gh', 'p_', 'Zq4Rt7Yu1Io3Pa5Sd8Fg0Hj2Kl6Zx9Cv1Bn3'].join('');
const options = (clock: ManualClock, extra: Partial<SecretScanOptions> = {}): SecretScanOptions => ({ ruleSet: rules, clock, policy: SECRETS_NOT_IN_SOURCE, ...extra });

test('an inline marker with reason, owner and expiry suppresses until the end of its expiry day (UTC), then the finding returns with a note', () => {
  const text = `# holdfast:allow-secret reason="revoked on 2031-02-27, kept for the incident report" owner="ana@example.org" expires=2031-03-01\nGH_TOKEN=${token}\n`;
  const clock = new ManualClock(NOW_MS);
  const [held] = scanUnit({ path: 'ci.env', text }, options(clock));
  assert.ok(held !== undefined && isSuppressed(held));
  assert.equal(held.ruleId, 'github-token');
  assert.deepEqual(held.suppression, { kind: 'inline', status: 'active', reason: 'revoked on 2031-02-27, kept for the incident report', owner: 'ana@example.org', expires: '2031-03-01' });

  clock.set(Date.UTC(2031, 2, 1, 23, 59, 59, 999));
  assert.ok(isSuppressed(scanUnit({ path: 'ci.env', text }, options(clock))[0]!), 'holds through the last millisecond of the day');
  clock.set(Date.UTC(2031, 2, 2));
  const [lapsed] = scanUnit({ path: 'ci.env', text }, options(clock));
  assert.ok(lapsed !== undefined && !isSuppressed(lapsed));
  assert.equal(lapsed.suppression?.status, 'expired');
  assert.match(lapsed.note ?? '', /suppression expired on 2031-03-01 \(owner ana@example.org; reason: revoked on 2031-02-27/);
});

test('a marker on the same line works; one missing owner or expiry, or with a bad date, or for another rule, does not', () => {
  const clock = new ManualClock(NOW_MS);
  const sameLine = `GH_TOKEN=${token} # holdfast:allow-secret reason="fixture" owner=qa expires=2031-12-31\n`;
  assert.ok(isSuppressed(scanUnit({ path: 'a', text: sameLine }, options(clock))[0]!));

  const noOwner = scanUnit({ path: 'a', text: `GH_TOKEN=${token} # holdfast:allow-secret reason="fixture" expires=2031-12-31\n` }, options(clock))[0]!;
  assert.equal(noOwner.suppression?.status, 'invalid');
  assert.match(noOwner.note ?? '', /lacks owner/);
  const badDate = scanUnit({ path: 'a', text: `GH_TOKEN=${token} # holdfast:allow-secret reason="r" owner=o expires=2031-02-30\n` }, options(clock))[0]!;
  assert.match(badDate.note ?? '', /expires=2031-02-30 is not a date/);
  const otherRule = scanUnit({ path: 'a', text: `GH_TOKEN=${token} # holdfast:allow-secret rule=jwt reason="r" owner=o expires=2031-12-31\n` }, options(clock))[0]!;
  assert.equal(otherRule.suppression, undefined);
  const twoLinesUp = scanUnit({ path: 'a', text: `# holdfast:allow-secret reason="r" owner=o expires=2031-12-31\n\nGH_TOKEN=${token}\n` }, options(clock))[0]!;
  assert.equal(twoLinesUp.suppression, undefined, 'a marker covers its own line and the next only');
});

test('a baseline suppresses by rule and fingerprint wherever the secret moves, until it expires', () => {
  const clock = new ManualClock(NOW_MS);
  const [first] = scanUnit({ path: 'old/place.env', text: `T=${token}\n` }, options(clock));
  const file = writeBaselineFile([first!], { reason: 'rotation ticket SEC-12', owner: 'platform', expires: '2031-03-10' });
  assert.doesNotMatch(JSON.stringify(file), new RegExp(token), 'a baseline holds fingerprints, never secrets');
  const baseline = parseBaseline(JSON.parse(JSON.stringify(file)), 'baseline.json');

  const [moved] = scanUnit({ path: 'new/place.yaml', text: `\n\ntoken: ${token}\n` }, options(clock, { baseline }));
  assert.equal(moved?.fingerprint, secretFingerprint('github-token', token));
  assert.deepEqual(moved?.suppression, { kind: 'baseline', status: 'active', reason: 'rotation ticket SEC-12', owner: 'platform', expires: '2031-03-10' });

  clock.advance(10 * DAY_MS);
  const [lapsed] = scanUnit({ path: 'new/place.yaml', text: `token: ${token}\n` }, options(clock, { baseline }));
  assert.equal(lapsed?.suppression?.status, 'expired');
  assert.match(lapsed?.note ?? '', /expired on 2031-03-10/);

  const other = ['gh', 'p_', 'Mn8Bv6Cx4Za2Lk0Jh9Gf7Ds5Ap3Oi1Uy8Tr6'].join('');
  assert.equal(scanUnit({ path: 'x', text: `T=${other}\n` }, options(clock, { baseline }))[0]?.suppression, undefined, 'another secret is not covered');
});

test('marker parsing and expiry dates', () => {
  assert.equal(parseInlineMarker('nothing here'), undefined);
  assert.deepEqual(parseInlineMarker('// holdfast:allow-secret reason="a b c" owner=me expires=2031-01-31 rule=jwt'), { reason: 'a b c', owner: 'me', expires: '2031-01-31', rule: 'jwt' });
  assert.equal(expiryInstant('2031-01-31'), Date.UTC(2031, 1, 1));
  assert.equal(expiryInstant('2031-13-01'), undefined);
  assert.equal(expiryInstant('31-01-2031'), undefined);
  assert.throws(() => parseBaseline({ version: 1, suppressions: [{ ruleId: 'x' }] }, 'b.json'), /suppressions\[0\] needs "fingerprint" and "ruleId"/);
});

test('a marker read as Latin-1 bytes keeps its non-ASCII reason and owner', () => {
  const text = `# holdfast:allow-secret reason="révoqué — ключ отозван" owner="zoë@example.org" expires=2031-12-31\nGH_TOKEN=${token}\n`;
  const [held] = scanUnit({ path: 'ci.env', text: Buffer.from(text).toString('latin1'), decoding: 'latin1' }, options(new ManualClock(NOW_MS)));
  assert.deepEqual(held?.suppression, { kind: 'inline', status: 'active', reason: 'révoqué — ключ отозван', owner: 'zoë@example.org', expires: '2031-12-31' });
});

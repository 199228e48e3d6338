import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { tempDir } from '../../../test/support/file-tree.js';
import { writeFiles } from '../../../test/support/dependency-fixtures.js';
import { plantedSecretsCorpus } from '../../../test/support/planted-secrets.js';
import { scanTreeInParallel } from './parallel-tree-scan.js';
import { SECRETS_NOT_IN_SOURCE, secretFingerprint } from './secret-finding.js';
import { scanUnits } from './secret-scan.js';
import { loadSecretRules } from './secret-rules.js';
import { parseBaseline } from './suppressions.js';
import { emptySourceStats } from './text-unit.js';
import { workingTreeUnits } from './working-tree-source.js';

const NOW_MS = Date.UTC(2031, 2, 1, 12);
const token = ['gh', 'p_', 'Zq4Rt7Yu1Io3Pa5Sd8Fg0Hj2Kl6Zx9Cv1Bn3'].join('');
const acme = ['acme', '_', 'k3j4h5g6f7d8s9a0q1w2e3r4'].join('');

test('a scan on several threads finds what one thread finds, in the same order, with the same counts, rules and suppressions', async (t) => {
  const root = await tempDir(t, 'holdfast-parallel-');
  const files = new Map<string, string | Buffer>(plantedSecretsCorpus().files);
  files.set('z/suppressed.env', `# holdfast:allow-secret reason="fixture" owner=qa expires=2031-12-31\nGH_TOKEN=${token}\n`);
  files.set('z/expired.env', `# holdfast:allow-secret reason="old" owner=qa expires=2031-01-31\nGH_TOKEN=${token}\n`);
  files.set('z/acme.txt', `ACME=${acme}\n`);
  files.set('z/image.bin', Buffer.from([0x89, 0x50, 0x00, 0x47]));
  files.set('z/huge.txt', 'x'.repeat(300 * 1024));
  files.set('node_modules/dep/index.js', `const t = '${token}';\n`);
  // More files than one batch holds, so the batches are spread over the threads and put back in order.
  for (let index = 0; index < 400; index++) files.set(`fill/${String(index).padStart(3, '0')}.env`, index % 7 === 0 ? `GH_TOKEN=${token}\n` : `LINE=${index}\n`);
  await writeFiles(root, files);
  const ruleFile = { content: { version: 1, rules: [{ id: 'acme-token', title: 'ACME token', severity: 'high', keywords: ['acme_'], pattern: '\\b(acme_[a-z0-9]{24})\\b', fix: 'Revoke it.' }] }, source: 'team-rules.json' };
  const ruleSet = loadSecretRules(ruleFile.content, ruleFile.source);
  const baseline = parseBaseline({ version: 1, suppressions: [{ fingerprint: secretFingerprint('acme-token', acme), ruleId: 'acme-token', reason: 'test key', owner: 'qa', expires: '2031-06-30' }] }, 'baseline.json');
  const tree = { maxFileBytes: 256 * 1024, excludedDirectories: ['node_modules'], decoding: ruleSet.textDecoding };
  const clock = new ManualClock(NOW_MS);

  const oneStats = emptySourceStats();
  const one = await scanUnits(workingTreeUnits(root, tree, oneStats), { ruleSet, clock, policy: SECRETS_NOT_IN_SOURCE, baseline });
  assert.ok(one.length > 90, `the tree has findings to compare (${one.length})`);
  assert.ok(one.some((finding) => finding.ruleId === 'acme-token' && finding.suppression?.status === 'active'), 'the team rule and the baseline apply');
  assert.ok(one.some((finding) => finding.location.path === 'z/expired.env' && finding.suppression?.status === 'expired'));
  for (const threads of [1, 3]) {
    const stats = emptySourceStats();
    const parallel = await scanTreeInParallel(root, tree, { ruleFile, baseline, clock, policy: SECRETS_NOT_IN_SOURCE, threads }, stats);
    assert.deepEqual(parallel, one, `${threads} thread(s)`);
    assert.deepEqual(stats, oneStats, `${threads} thread(s): the same files scanned and skipped`);
  }
  assert.deepEqual([oneStats.skippedBinary, oneStats.skippedLarge, oneStats.skippedDirectories], [1, 1, ['node_modules']]);
});

test('an empty tree starts no thread and finds nothing', async (t) => {
  const root = await tempDir(t, 'holdfast-parallel-empty-');
  const stats = emptySourceStats();
  const findings = await scanTreeInParallel(join(root), { maxFileBytes: 1024, excludedDirectories: [], decoding: 'latin1' }, { clock: new ManualClock(NOW_MS), policy: SECRETS_NOT_IN_SOURCE, threads: 4 }, stats);
  assert.deepEqual([findings, stats.units], [[], 0]);
});

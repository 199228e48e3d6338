import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../infra/clock.js';
import { tempDir } from '../../../test/support/file-tree.js';
import { repoRoot } from '../../../test/support/repo-root.js';
import { scanManifests } from './dependency-scan.js';
import { readNpmLockfile } from './manifests/npm-lockfile.js';
import type { OsvVulnerability } from './osv-record.js';
import { VulnerabilityDatabase } from './vulnerability-database.js';

/**
 * Matching is indexed by (ecosystem, package): scanning this project's package-lock.json against
 * 10,000 synthetic records — three for every package it locks (none affecting the locked
 * version, so every candidate is evaluated to the end), the rest for names it does not use —
 * finds nothing falsely. The time is printed as a diagnostic, not asserted: speed is measured by
 * benchmarks, never by timed tests (on 2026-11-26, on the shared 2-core machine, ~50–90 ms).
 */
const RECORDS = 10_000;

test('10,000 records, this repository\'s package-lock.json: no false match; the time printed', async (t) => {
  const lock = readNpmLockfile(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'), 'package-lock.json');
  assert.ok(lock.packages.length > 100, `${lock.packages.length} packages`);
  const records: OsvVulnerability[] = [];
  for (let i = 0; records.length < RECORDS; i++) {
    const pkg = lock.packages[i % lock.packages.length]!;
    const name = i < lock.packages.length * 3 ? pkg.name : `synthetic-package-${i}`;
    records.push({
      id: `SYN-${i}`,
      modified: '2031-05-29T09:00:00Z',
      aliases: [`CVE-2031-${10000 + i}`],
      severity: [],
      affected: [{ ecosystem: 'npm', name, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.0.0-0' }, { introduced: '999.0.0' }] }], versions: ['0.0.0-synthetic'], severity: [] }],
    });
  }
  const dir = await tempDir(t, 'holdfast-deps-speed-');
  const database = VulnerabilityDatabase.openForImport(join(dir, 'vulndb.sqlite'));
  t.after(() => database.close());
  const importStarted = performance.now();
  database.importRecords(records, 'synthetic', '2031-06-01T09:00:00.000Z');
  const importMs = performance.now() - importStarted;
  const options = { clock: new ManualClock(Date.UTC(2031, 5, 1, 9)), maxAgeDays: 7, unscoredAs: 'medium' as const };
  scanManifests([lock], database, options); // warm the statement cache
  const started = performance.now();
  const result = scanManifests([lock], database, options);
  const scanMs = performance.now() - started;
  t.diagnostic(`${lock.packages.length} packages against ${RECORDS} records: match ${scanMs.toFixed(1)} ms (import ${importMs.toFixed(0)} ms)`);
  assert.equal(result.packagesChecked, lock.packages.length);
  assert.deepEqual(result.findings, []);
});

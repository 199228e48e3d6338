import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { holdfastCli } from '../support/admin-cli.js';
import { runCommand } from '../support/tools.js';

/**
 * Configuration Management §4.1 for Holdfast itself: secrets are "not in source code". The
 * project's own tree (sources, tests, built output; not node_modules) gives no finding, so a
 * fixture that looks like a credential has to be built at run time, as the tests do.
 */
const repoRoot = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');

test('holdfast scan secrets finds no secret in this repository', async () => {
  const scan = await runCommand(process.execPath, [holdfastCli, 'scan', 'secrets', repoRoot, '--json'], { expectExitCode: 'any', timeoutMs: 120_000 });
  const report = JSON.parse(scan.stdout) as { findings: unknown[]; summary: { scanned: { units: number } } };
  assert.equal(scan.code, 0, JSON.stringify(report.findings, null, 1).slice(0, 4000));
  assert.deepEqual(report.findings, []);
  assert.ok(report.summary.scanned.units > 300, `the tree was scanned (${report.summary.scanned.units} files)`);
});

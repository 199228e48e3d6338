import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { clientFor, holdfastCli, rootKey } from '../support/admin-cli.js';
import { runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * `wal-fetch --prefetch N --spool DIR` with the built CLI: after a segment, a background worker
 * downloads the next N into the spool; the next wal-fetch is served from there (a move, no
 * download) with the same bytes; prefetching stops at the end of the archive; a spool used for
 * another repository never serves this one's names.
 */

const SEGMENT = 1024 * 1024; // initdb --wal-segsize=1: the smallest WAL segment size

const name = (n: number) => `00000001000000000000${n.toString(16).toUpperCase().padStart(4, '0')}`;

void test('wal-fetch --prefetch serves the next segments from a verified spool', { timeout: 120_000 }, async (t) => {
  const vault = await startVault();
  const sdk = clientFor(vault, rootKey(vault));
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-prefetch-'));
  t.after(async () => {
    sdk.destroy();
    await vault.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await sdk.send(new CreateBucketCommand({ Bucket: 'prefetch' }));
  const env = { PATH: process.env['PATH'], HOME: dir, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey };
  const repo = ['--repo', 's3://prefetch/db', '--endpoint', vault.endpoint];
  const hf = (args: readonly string[]) => runCommand(process.execPath, [holdfastCli, 'pg', ...args], { env, expectExitCode: 'any' });

  const contents = new Map<string, Buffer>();
  for (let n = 1; n <= 6; n++) {
    const bytes = randomBytes(SEGMENT);
    contents.set(name(n), bytes);
    await writeFile(join(dir, name(n)), bytes);
    const pushed = await hf(['wal-push', join(dir, name(n)), ...repo]);
    assert.equal(pushed.code, 0, pushed.stderr);
  }
  const spool = join(dir, 'spool');
  const fetch = async (n: number, extra: readonly string[] = ['--prefetch', '3', '--spool', spool]) => {
    const out = join(dir, `out-${n}`);
    const result = await hf(['wal-fetch', name(n), out, '--json', ...extra, ...repo]);
    return { result, out, report: result.code === 0 || result.code === 1 ? (JSON.parse(result.stdout) as { outcome: string; key: string }) : undefined };
  };

  const first = await fetch(1);
  assert.equal(first.result.code, 0, first.result.stderr);
  assert.equal(first.report!.key, 'db/wal/00000001/' + name(1), 'the first segment comes from the archive');
  assert.deepEqual(await readFile(first.out), contents.get(name(1)));
  const [repoSpool] = await readdir(join(spool, 'archive-get'));
  const spoolDir = join(spool, 'archive-get', repoSpool!);
  await waitUntil('the worker to prefetch 2..4 and exit', async () => {
    const entries = await readdir(spoolDir);
    return [2, 3, 4].every((n) => entries.includes(name(n))) && !entries.includes('worker.lock');
  });
  assert.ok(!(await readdir(spoolDir)).includes(name(5)), 'no more than --prefetch 3 ahead');

  const second = await fetch(2);
  assert.equal(second.result.code, 0, second.result.stderr);
  assert.equal(second.report!.key, join(spoolDir, name(2)), 'served from the spool');
  assert.deepEqual(await readFile(second.out), contents.get(name(2)), 'the same bytes');
  assert.ok(!(await readdir(spoolDir)).includes(name(2)), 'moved, not copied');

  // Each fetch starts a worker for the 3 after it (3 and 4 are there already; it adds 5, then 6).
  for (const n of [3, 4, 5, 6]) {
    await waitUntil(`${name(n)} in the spool`, async () => {
      const entries = await readdir(spoolDir);
      return entries.includes(name(n)) && !entries.includes('worker.lock');
    });
    const served = await fetch(n);
    assert.equal(served.report!.key, join(spoolDir, name(n)));
    assert.deepEqual(await readFile(served.out), contents.get(name(n)));
  }
  const end = await fetch(7);
  assert.equal(end.result.code, 1, 'past the end of the archive: "missing", quietly');
  assert.equal(end.result.stderr, '');
  const log = await readFile(join(spoolDir, 'worker.log'), 'utf8');
  assert.match(log, new RegExp(`prefetched ${name(6)}`));
  assert.doesNotMatch(log, new RegExp(vault.secretAccessKey));

  // Another repository through the same spool: its own folder, so nothing of db/ is served for it.
  await writeFile(join(dir, 'other'), randomBytes(SEGMENT));
  assert.equal((await hf(['wal-push', join(dir, name(1)), '--repo', 's3://prefetch/other', '--endpoint', vault.endpoint])).code, 0);
  const other = await hf(['wal-fetch', name(1), join(dir, 'other-out'), '--json', '--prefetch', '2', '--spool', spool, '--repo', 's3://prefetch/other', '--endpoint', vault.endpoint]);
  assert.equal((JSON.parse(other.stdout) as { key: string }).key, 'other/wal/00000001/' + name(1));
  assert.equal((await readdir(join(spool, 'archive-get'))).length, 2, 'one spool folder per repository');

  // Usage: the two options go together.
  const lonely = await fetch(1, ['--prefetch', '3']);
  assert.equal(lonely.result.code, 126);
  assert.match(lonely.result.stderr, /--prefetch N and --spool DIR go together/);
});

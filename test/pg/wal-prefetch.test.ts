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
 * keeps the next N in the spool; each later wal-fetch is served from there (a move, no download)
 * with the same bytes while the worker stays ahead; prefetching stops at the end of the archive;
 * a segment the spool does not have (another timeline) moves the worker there; files the worker
 * found missing (the end of the archive, the next timeline's history) are answered from its
 * markers; after recovery
 * stops asking, the worker exits and removes what was not taken; a spool used for another
 * repository never serves this one's names.
 */

const SEGMENT = 1024 * 1024; // initdb --wal-segsize=1: the smallest WAL segment size

const name = (n: number, timeline = 1) => `0000000${timeline}00000000000000${n.toString(16).toUpperCase().padStart(2, '0')}`;

void test('wal-fetch --prefetch serves the next segments from a verified spool', { timeout: 180_000 }, async (t) => {
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
  const push = async (segment: string) => {
    const bytes = randomBytes(SEGMENT);
    contents.set(segment, bytes);
    await writeFile(join(dir, segment), bytes);
    const pushed = await hf(['wal-push', join(dir, segment), ...repo]);
    assert.equal(pushed.code, 0, pushed.stderr);
  };
  for (let n = 1; n <= 6; n++) await push(name(n));
  for (let n = 4; n <= 6; n++) await push(name(n, 2));
  const spool = join(dir, 'spool');
  const fetch = async (segment: string, extra: readonly string[] = ['--prefetch', '3', '--spool', spool]) => {
    const out = join(dir, `out-${segment}`);
    const result = await hf(['wal-fetch', segment, out, '--json', ...extra, ...repo]);
    return { result, out, report: result.code === 0 || result.code === 1 ? (JSON.parse(result.stdout) as { outcome: string; key: string }) : undefined };
  };

  const first = await fetch(name(1));
  assert.equal(first.result.code, 0, first.result.stderr);
  assert.equal(first.report!.key, 'db/wal/00000001/' + name(1), 'the first segment comes from the archive');
  assert.deepEqual(await readFile(first.out), contents.get(name(1)));
  const [repoSpool] = await readdir(join(spool, 'archive-get'));
  const spoolDir = join(spool, 'archive-get', repoSpool!);
  const segmentsIn = async () => (await readdir(spoolDir)).filter((entry) => /^[0-9A-F]{24}$/.test(entry)).sort();
  await waitUntil('the worker to prefetch 2..4', async () => (await segmentsIn()).join() === [2, 3, 4].map((n) => name(n)).join());
  assert.ok((await readdir(spoolDir)).includes('worker.lock'), 'the worker stays while recovery goes on');

  const second = await fetch(name(2));
  assert.equal(second.result.code, 0, second.result.stderr);
  assert.equal(second.report!.key, join(spoolDir, name(2)), 'served from the spool');
  assert.deepEqual(await readFile(second.out), contents.get(name(2)), 'the same bytes');
  assert.ok(!(await segmentsIn()).includes(name(2)), 'moved, not copied');

  // The same worker keeps 3 ahead of the segment taken last (it adds 5, then 6).
  for (const n of [3, 4, 5, 6]) {
    await waitUntil(`${name(n)} in the spool`, async () => (await segmentsIn()).includes(name(n)));
    const served = await fetch(name(n));
    assert.equal(served.report!.key, join(spoolDir, name(n)));
    assert.deepEqual(await readFile(served.out), contents.get(name(n)));
  }
  const end = await fetch(name(7));
  assert.equal(end.result.code, 1, 'past the end of the archive: "missing", quietly');
  assert.equal(end.result.stderr, '');
  // The worker keeps asking for 7 and for the next timeline's history file, and leaves its
  // answer in the spool: wal-fetch then says "missing" without a request of its own.
  for (const missing of [name(7), '00000002.history']) {
    await waitUntil(`wal-fetch ${missing} answered by the worker's marker`, async () => {
      const answer = await fetch(missing);
      assert.equal(answer.result.code, 1, answer.result.stderr);
      assert.equal(answer.report!.outcome, 'missing');
      return answer.report!.key === join(spoolDir, `${missing}.absent`);
    });
  }

  // A timeline switch: recovery asks for timeline 2 from segment 4 on. The spool misses it; the
  // wal-fetch that serves it from the archive tells the worker, which fetches 2/5 and 2/6 next.
  const switched = await fetch(name(4, 2));
  assert.equal(switched.report!.key, 'db/wal/00000002/' + name(4, 2));
  await waitUntil('the worker to follow timeline 2', async () => (await segmentsIn()).join() === [name(5, 2), name(6, 2)].join());
  const onTwo = await fetch(name(5, 2));
  assert.equal(onTwo.report!.key, join(spoolDir, name(5, 2)));
  assert.deepEqual(await readFile(onTwo.out), contents.get(name(5, 2)));

  // Recovery stops asking: the worker leaves after its idle time (20 s), taking its segments along.
  await waitUntil('the idle worker to exit', async () => !(await readdir(spoolDir)).includes('worker.lock'), 90_000, 500);
  assert.deepEqual(await segmentsIn(), [], 'what recovery did not take is removed');
  assert.deepEqual((await readdir(spoolDir)).filter((entry) => entry.endsWith('.absent')), [], 'and its markers');
  const log = await readFile(join(spoolDir, 'worker.log'), 'utf8');
  assert.match(log, new RegExp(`prefetched ${name(6)}`));
  assert.match(log, new RegExp(`recovery at ${name(4, 2)}`));
  assert.equal(log.match(/idle for/g)?.length, 1, 'one worker served the whole recovery');
  assert.doesNotMatch(log, new RegExp(vault.secretAccessKey));

  // Another repository through the same spool: its own folder, so nothing of db/ is served for it.
  await writeFile(join(dir, 'other'), randomBytes(SEGMENT));
  assert.equal((await hf(['wal-push', join(dir, name(1)), '--repo', 's3://prefetch/other', '--endpoint', vault.endpoint])).code, 0);
  const other = await hf(['wal-fetch', name(1), join(dir, 'other-out'), '--json', '--prefetch', '2', '--spool', spool, '--repo', 's3://prefetch/other', '--endpoint', vault.endpoint]);
  assert.equal((JSON.parse(other.stdout) as { key: string }).key, 'other/wal/00000001/' + name(1));
  assert.equal((await readdir(join(spool, 'archive-get'))).length, 2, 'one spool folder per repository');

  // Usage: the two options go together.
  const lonely = await fetch(name(1), ['--prefetch', '3']);
  assert.equal(lonely.result.code, 126);
  assert.match(lonely.result.stderr, /--prefetch N and --spool DIR go together/);
});

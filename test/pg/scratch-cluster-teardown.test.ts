import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { tearDownScratchTarget } from '../../src/backup/jobs/drills/scratch-target.js';
import { Teardown } from '../support/teardown.js';
import { requireTool } from '../support/tools.js';
import { PG_BIN, startThrowawayCluster } from './throwaway-cluster.js';

/**
 * What start-up does with the throwaway cluster of a drill a crash cut off: the postmaster named
 * by postmaster.pid is stopped (it is a detached process group: killing the server does not take
 * it along) and the directory removed. A pid file whose pid now belongs to another program is
 * never signalled.
 */
const teardown = new Teardown();
after(() => teardown.run());

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a running throwaway cluster is stopped by its postmaster.pid and its directory removed', { timeout: 120_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'postgres'), ['--version'], 'postgresql-15'))) return;
  const pg = await startThrowawayCluster();
  teardown.add(() => pg.stop());
  const pid = Number((await readFile(join(pg.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  assert.ok(alive(pid));
  const scratch = dirname(pg.dataDir);
  const started = performance.now();
  const note = await tearDownScratchTarget({ kind: 'pg-scratch', path: scratch }, { env: process.env });
  t.diagnostic(`stopped and removed in ${Math.round(performance.now() - started)} ms: ${note}`);
  assert.equal(note, `stopped postmaster ${pid}; removed throwaway PostgreSQL cluster under ${scratch}`);
  assert.equal(alive(pid), false, 'the postmaster is gone');
  await assert.rejects(stat(scratch), { code: 'ENOENT' });
  // Idempotent: a second teardown (a retried start-up) finds nothing to do.
  assert.match(await tearDownScratchTarget({ kind: 'pg-scratch', path: scratch }, { env: process.env }), /^no postmaster was running; removed/);
});

test('a postmaster.pid whose pid is now another program (not working in that data directory) is left alone', { timeout: 30_000 }, async () => {
  const scratch = await mkdtemp(join(tmpdir(), 'holdfast-stale-pid-'));
  teardown.removeDir(scratch);
  const dataDir = join(scratch, 'x', 'data');
  await mkdir(dataDir, { recursive: true });
  const other = spawn('sleep', ['60'], { cwd: tmpdir(), stdio: 'ignore' });
  teardown.add(() => other.kill('SIGKILL'));
  await writeFile(join(dataDir, 'postmaster.pid'), `${other.pid}\n${dataDir}\n1700000000\n5432\n`);
  const note = await tearDownScratchTarget({ kind: 'pg-scratch', path: scratch }, { env: process.env, shutdownGraceMs: 1000 });
  assert.match(note, /^no postmaster was running; removed/);
  assert.ok(alive(other.pid!), 'the unrelated process still runs');
  await assert.rejects(stat(scratch), { code: 'ENOENT' });
  await rm(scratch, { recursive: true, force: true });
});

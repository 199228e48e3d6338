// Crash-safety of archive_command (issue 5): `holdfast pg wal-push` is SIGKILLed at moments
// spread over its whole run (start-up, compression, upload, read-back). After each kill the
// archive either does not hold the segment at all, or holds it complete — wal-fetch returns the
// exact bytes; it never holds a partial segment that a later push or a restore would trust. The
// push PostgreSQL retries afterwards always succeeds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, NotFound } from '@aws-sdk/client-s3';
import { clientFor, holdfastCli, rootKey } from '../support/admin-cli.js';
import { runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';

const BUCKET = 'wal-kill';
const SEGMENT_BYTES = 16 * 1024 * 1024;

void test('killing wal-push at any moment never leaves a segment the archive would trust partially', { timeout: 180_000 }, async (t) => {
  const vault = await startVault();
  const sdk = clientFor(vault, rootKey(vault));
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-wal-kill-'));
  t.after(async () => {
    sdk.destroy();
    await vault.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await sdk.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const env = { PATH: process.env['PATH'], HOME: dir, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey };
  const repo = ['--repo', `s3://${BUCKET}/db`, '--endpoint', vault.endpoint];

  // How long one uninterrupted push takes here, to spread the kills over it.
  const probe = join(dir, '0000000100000000000000FF');
  await writeFile(probe, randomBytes(SEGMENT_BYTES));
  const whole = await runCommand(process.execPath, [holdfastCli, 'pg', 'wal-push', probe, ...repo], { env });
  const fullMs = whole.durationMs;

  const KILLS = 12;
  let absent = 0;
  let complete = 0;
  for (let i = 0; i < KILLS; i++) {
    const name = `0000000100000000000000${(0x10 + i).toString(16).toUpperCase().padStart(2, '0')}`;
    const path = join(dir, name);
    // Half random (incompressible, slow to upload), half zeros: gzip has work and so does the network.
    const bytes = Buffer.concat([randomBytes(SEGMENT_BYTES / 2), Buffer.alloc(SEGMENT_BYTES / 2)]);
    await writeFile(path, bytes);
    const delayMs = Math.round((fullMs * (i + 0.5)) / KILLS);
    const child = spawn(process.execPath, [holdfastCli, 'pg', 'wal-push', path, ...repo], { env, stdio: 'ignore' });
    const ended = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    child.kill('SIGKILL');
    const code = await ended;

    const key = `db/wal/00000001/${name}`;
    const stored = await sdk.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).catch((error: unknown) => {
      if (error instanceof NotFound) return undefined;
      throw error;
    });
    const fetchAndCompare = async (what: string) => {
      // wal-fetch checks the stored and the original SHA-256: it returns the exact file or fails.
      const out = join(dir, `${name}.${what}`);
      await runCommand(process.execPath, [holdfastCli, 'pg', 'wal-fetch', name, out, ...repo], { env });
      assert.equal(createHash('sha256').update(await readFile(out)).digest('hex'), createHash('sha256').update(bytes).digest('hex'), `${name} killed after ${delayMs} ms (exit ${code}), ${what}`);
    };
    if (stored === undefined) absent += 1;
    else {
      complete += 1;
      await fetchAndCompare('after-kill');
    }
    // PostgreSQL retries the same file: that push succeeds either way. (A segment absent a moment
    // ago may be there now: a PUT whose body had fully arrived commits even if its client died.)
    const retried = await runCommand(process.execPath, [holdfastCli, 'pg', 'wal-push', path, '--json', ...repo], { env });
    const outcome = (JSON.parse(retried.stdout) as { outcome: string }).outcome;
    if (stored !== undefined) assert.equal(outcome, 'already-archived');
    else assert.ok(outcome === 'archived' || outcome === 'already-archived', outcome);
    await fetchAndCompare('after-retry');
  }
  assert.equal(absent + complete, KILLS);
  t.diagnostic(`one push of a 16 MiB segment: ${Math.round(fullMs)} ms; ${KILLS} kills spread over it: ${absent} left nothing, ${complete} left the complete segment, none left a partial one`);
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DeleteObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { readRunManifest, restoreDirectoryRun } from '../../src/backup/jobs/job-restore.js';
import { clientFor, createIdentityWithKey, holdfast, holdfastCli, rootKey } from '../support/admin-cli.js';
import { createBackupBucket, leanClient } from '../support/job-fixtures.js';
import { Teardown } from '../support/teardown.js';
import { runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * `holdfast agent` on "another host": its own process, its own data directory, only a
 * backup-writer service key in the standard AWS variables. A job scheduled every minute runs on
 * its schedule against a running vault, the run restores byte for byte, the agent's local
 * `jobs list|history` show it — and the same key can neither delete what it wrote nor use the
 * admin API.
 */
interface RunView {
  id: string;
  job: string;
  trigger: string;
  outcome: string;
  error: string | null;
  manifestKey: string | null;
}

const teardown = new Teardown();
after(() => teardown.run());

test('an agent with writer credentials runs a scheduled job against the vault; the key cannot delete', { timeout: 240_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-agent-'));
  teardown.removeDir(dir);
  const vault = await startVault({ env: { HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  const bucket = await createBackupBucket(vault);
  const writer = await createIdentityWithKey(vault, rootKey(vault), 'agent-writer', ['backup-writer'], ['--service']);

  const files = join(dir, 'files');
  await mkdir(join(files, 'sub'), { recursive: true });
  await writeFile(join(files, 'a.txt'), 'agent backup\n');
  await writeFile(join(files, 'sub', 'b.bin'), Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 256)));
  const config = join(dir, 'agent.json');
  await writeFile(config, JSON.stringify({ endpoint: vault.endpoint, jobs: [{ name: 'files', source: { kind: 'directory', path: files }, schedule: '* * * * *', destination: { bucket, prefix: 'agent/files' }, retention: { keepCount: 30 } }] }));
  const data = join(dir, 'agent-data');
  const env = { PATH: process.env['PATH'], HOME: dir, AWS_ACCESS_KEY_ID: writer.accessKeyId, AWS_SECRET_ACCESS_KEY: writer.secretAccessKey };

  const agent = spawn(process.execPath, [holdfastCli, 'agent', '--config', config, '--data', data], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  agent.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  agent.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));
  teardown.add(async () => {
    if (agent.exitCode === null) agent.kill('SIGKILL');
    await exited;
  });

  const agentCli = (args: string[]) => runCommand(process.execPath, [holdfastCli, 'agent', ...args, '--data', data], { env, timeoutMs: 30_000 });
  const history = async () => (JSON.parse((await agentCli(['jobs', 'history', '--json'])).stdout) as { runs: RunView[] }).runs;
  const started = performance.now();
  // "* * * * *": the next minute boundary, then up to one 5 s tick; the run itself takes about a second.
  await waitUntil(`a finished scheduled run in the agent's history\n${output}`, async () => (await history()).some((r) => r.outcome !== 'running'), 150_000, 1000);
  console.log(`first scheduled run finished ${Math.round((performance.now() - started) / 1000)} s after the agent started`);
  const run = (await history()).find((r) => r.outcome !== 'running');
  assert.ok(run !== undefined);
  assert.equal(run.outcome, 'succeeded', `${run.error}\n${output}`);
  assert.equal(run.trigger, 'schedule');
  assert.match(output, /running 1 job\(s\) against http:\/\/127\.0\.0\.1:\d+ as access key \w+ \(environment\)/);
  assert.doesNotMatch(output, new RegExp(writer.secretAccessKey), 'the secret is never printed');
  // A writer key alone never deletes: the job's retention is named once as not applied.
  assert.equal(output.match(/warning: runs of job files will not be pruned by its retention/g)?.length, 1, output);

  const listed = JSON.parse((await agentCli(['jobs', 'list', '--config', config, '--json'])).stdout) as { jobs: Array<{ name: string; lastRun: RunView | null; lastSuccessAt: string | null; overdue: boolean }> };
  assert.equal(listed.jobs[0]!.name, 'files');
  assert.notEqual(listed.jobs[0]!.lastRun, null);
  assert.notEqual(listed.jobs[0]!.lastSuccessAt, null);
  assert.equal(listed.jobs[0]!.overdue, false);

  // What the agent stored restores byte for byte (read with the same key: writers read back).
  const s3 = leanClient(vault, writer);
  teardown.add(() => s3.close());
  const manifest = await readRunManifest(s3, bucket, run.manifestKey!);
  const restored = join(dir, 'restored');
  await restoreDirectoryRun(s3, bucket, manifest, restored);
  assert.equal(await readFile(join(restored, 'a.txt'), 'utf8'), 'agent backup\n');
  assert.deepEqual(await readFile(join(restored, 'sub', 'b.bin')), await readFile(join(files, 'sub', 'b.bin')));

  // The agent's key can add backups, never remove them, and has no admin rights.
  const sdk = clientFor(vault, writer);
  teardown.add(() => sdk.destroy());
  const versions = await sdk.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `agent/files/runs/${run.id}/` }));
  const manifestVersion = versions.Versions!.find((v) => v.Key === run.manifestKey)!;
  await assert.rejects(sdk.send(new DeleteObjectCommand({ Bucket: bucket, Key: run.manifestKey!, VersionId: manifestVersion.VersionId })), (e: Error) => e.name === 'AccessDenied');
  await assert.rejects(sdk.send(new DeleteObjectCommand({ Bucket: bucket, Key: run.manifestKey! })), (e: Error) => e.name === 'AccessDenied');
  const admin = await holdfast(vault, writer, ['jobs', 'list'], 'any');
  assert.equal(admin.code, 3, admin.stderr);

  agent.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.match(output, /SIGTERM received/);

  // The pruner key must be another identity's: the writer's own key is refused before anything runs.
  const refused = await runCommand(process.execPath, [holdfastCli, 'agent', '--config', config, '--data', join(dir, 'refused')], {
    env: { ...env, HOLDFAST_PRUNER_ACCESS_KEY_ID: writer.accessKeyId, HOLDFAST_PRUNER_SECRET_ACCESS_KEY: writer.secretAccessKey },
    expectExitCode: 2,
    timeoutMs: 30_000,
  });
  assert.match(refused.stderr, /HOLDFAST_PRUNER_ACCESS_KEY_ID is the writer's key/);
  assert.doesNotMatch(refused.stderr + refused.stdout, new RegExp(writer.secretAccessKey));
});

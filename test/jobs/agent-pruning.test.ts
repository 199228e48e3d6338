import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { type BackupAgent, startBackupAgent } from '../../src/backup/jobs/backup-agent.js';
import { parseBackupJobs } from '../../src/backup/jobs/job-config.js';
import { ManualClock } from '../../src/infra/clock.js';
import type { S3Client } from '../../src/infra/s3-client/s3-client.js';
import { clientFor, createIdentityWithKey, type KeyPair, rootKey } from '../support/admin-cli.js';
import { leanClient } from '../support/job-fixtures.js';
import { randomName } from '../support/mariadb.js';
import { Teardown } from '../support/teardown.js';
import { type RunningVault, startVault } from '../support/vault-server.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * `holdfast agent` with a second key, of a pruner service identity: after each successful run
 * it applies the job's retention against a real vault — runs past keepCount whose Object Lock
 * has expired are deleted, a run still locked stays — and with the writer key alone it deletes
 * nothing and names each job with a retention once at start-up. The agent's scheduler runs on
 * an injected clock; the vault enforces the locks on its own, real one.
 */
const teardown = new Teardown();
after(() => teardown.run());

let vault: RunningVault;
let writerKey: KeyPair;
let prunerKey: KeyPair;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'holdfast-agent-pruning-'));
  teardown.removeDir(work);
  vault = await startVault({ env: { HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  writerKey = await createIdentityWithKey(vault, rootKey(vault), 'agent-writer', ['backup-writer'], ['--service']);
  prunerKey = await createIdentityWithKey(vault, rootKey(vault), 'agent-pruner', ['pruner'], ['--service']);
  await mkdir(join(work, 'files'));
  await writeFile(join(work, 'files', 'data.txt'), 'what the agent backs up\n'.repeat(100));
});

interface AgentHarness {
  readonly agent: BackupAgent;
  readonly clock: ManualClock;
  readonly lines: string[];
}

function startAgent(jobs: unknown[], pruneKey: KeyPair | undefined): AgentHarness {
  const clock = new ManualClock(Date.now());
  const lines: string[] = [];
  const clients: S3Client[] = [leanClient(vault, writerKey), ...(pruneKey === undefined ? [] : [leanClient(vault, pruneKey)])];
  const agent = startBackupAgent({
    jobs: parseBackupJobs(jobs, { alertChannels: ['log'], env: {}, nowMs: clock.nowMs() }),
    dataDir: join(work, randomName('agent')),
    client: clients[0]!,
    ...(clients[1] === undefined ? {} : { pruneClient: clients[1] }),
    clock,
    env: process.env,
    tickMs: 20,
    log: { info: (line) => lines.push(line), error: (line) => lines.push(line) },
  });
  teardown.add(async () => {
    await agent.close();
    for (const client of clients) client.close();
  });
  return { agent, clock, lines };
}

/** Moves the agent's clock to the job's next scheduled time and waits for that run to succeed. */
async function nextScheduledRun({ agent, clock, lines }: AgentHarness): Promise<string> {
  const before = agent.statuses()[0]!;
  clock.set(before.nextRunMs);
  await waitUntil(`the next scheduled run\n${lines.join('\n')}`, () => {
    const last = agent.statuses()[0]!.lastRun;
    return last !== undefined && last.id !== before.lastRun?.id && last.outcome !== 'running';
  }, 60_000, 20);
  const run = agent.statuses()[0]!.lastRun!;
  assert.equal(run.outcome, 'succeeded', `${run.error ?? ''}\n${lines.join('\n')}`);
  return run.id;
}

async function storedRuns(bucket: string): Promise<string[]> {
  const reader = leanClient(vault, prunerKey);
  const ids = new Set<string>();
  for await (const v of reader.listObjectVersions({ bucket, prefix: 'agent/runs/' })) ids.add(v.key.slice('agent/runs/'.length).split('/')[0]!);
  reader.close();
  return [...ids].sort();
}

/** Puts Object Lock retention until `untilMs` on every version of one run, as the bucket's default rule would. */
async function lockRun(bucket: string, runId: string, untilMs: number): Promise<void> {
  const root = clientFor(vault, rootKey(vault));
  const reader = leanClient(vault, prunerKey);
  for await (const v of reader.listObjectVersions({ bucket, prefix: `agent/runs/${runId}/` })) {
    await root.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(untilMs) } }));
  }
  reader.close();
  root.destroy();
}

test('with a pruner key the agent removes runs past keepCount whose lock expired and keeps the one still locked', { timeout: 180_000 }, async () => {
  // Object Lock on, no default rule: the test decides which run is locked and until when.
  const bucket = randomName('agent-prune').replaceAll('_', '-');
  const root = clientFor(vault, rootKey(vault));
  await root.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  root.destroy();
  const harness = startAgent([{ name: 'files', source: { kind: 'directory', path: join(work, 'files') }, schedule: '* * * * *', destination: { bucket, prefix: 'agent' }, retention: { keepCount: 1 } }], prunerKey);
  assert.equal(harness.lines.filter((l) => l.includes('will not be pruned')).length, 0, harness.lines.join('\n'));

  const locked = await nextScheduledRun(harness);
  // Locked well past every time the agent's clock will reach.
  await lockRun(bucket, locked, Date.now() + 3600_000);
  const expiring = await nextScheduledRun(harness);
  await waitUntil('the prune after the second run', () => harness.lines.some((l) => l.includes(`kept ${locked}`)), 30_000, 20);
  // The second run is locked for a few seconds of the vault's own time, and the prune waits for nothing: it runs only after the next success.
  const expiresMs = Date.now() + 2000;
  await lockRun(bucket, expiring, expiresMs);
  await waitUntil("the second run's retention to expire on the vault's clock", () => Date.now() > expiresMs + 500, 10_000, 100);
  const newest = await nextScheduledRun(harness);
  await waitUntil('the prune after the third run', () => harness.lines.some((l) => l.includes(`removed 1 run(s) (${expiring};`)), 30_000, 20);

  assert.deepEqual(await storedRuns(bucket), [locked, newest].sort());
  const pruneLines = harness.lines.filter((l) => l.includes('retention'));
  assert.deepEqual(pruneLines.map((l) => l.replace(/\(\d+ versions, \d+ bytes\)/, '(N versions, N bytes)').replace(/; \d+ versions, \d+ bytes\)/, '; N versions, N bytes)')), [
    `backup job files: retention removed 0 run(s); kept ${locked}: past retention, still under Object Lock`,
    `backup job files: retention removed 1 run(s) (${expiring}; N versions, N bytes); kept ${locked}: past retention, still under Object Lock`,
  ]);
  assert.equal(harness.lines.filter((l) => l.startsWith('ALERT')).length, 0, harness.lines.join('\n'));
});

test('with the writer key alone the agent warns once per job with a retention and deletes nothing', { timeout: 120_000 }, async () => {
  const bucket = randomName('agent-noprune').replaceAll('_', '-');
  const root = clientFor(vault, rootKey(vault));
  await root.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  root.destroy();
  const files = { kind: 'directory', path: join(work, 'files') };
  const harness = startAgent(
    [
      { name: 'files', source: files, schedule: '* * * * *', destination: { bucket, prefix: 'agent' }, retention: { keepCount: 1 } },
      { name: 'forever', source: files, schedule: '@yearly', destination: { bucket, prefix: 'forever' } },
    ],
    undefined,
  );
  const warnings = harness.lines.filter((l) => l.includes('will not be pruned'));
  assert.deepEqual(warnings, [
    'warning: runs of job files will not be pruned by its retention: the agent holds a writer key only. Fix: give it the key of a service identity with the pruner role in HOLDFAST_PRUNER_ACCESS_KEY_ID and HOLDFAST_PRUNER_SECRET_ACCESS_KEY, or remove the job\'s retention.',
  ]);
  const first = await nextScheduledRun(harness);
  const second = await nextScheduledRun(harness);
  assert.deepEqual(await storedRuns(bucket), [first, second].sort());
  assert.equal(harness.lines.filter((l) => l.includes('will not be pruned')).length, 1, 'said once, not per run');
});

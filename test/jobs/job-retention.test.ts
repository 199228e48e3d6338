import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { parseBackupJobs } from '../../src/backup/jobs/job-config.js';
import type { JobRun } from '../../src/backup/jobs/job-run.js';
import { type JobPruneOutcome, JobRunner } from '../../src/backup/jobs/job-runner.js';
import { SqliteJobRunHistory } from '../../src/backup/jobs/sqlite-job-run-history.js';
import { ManualClock } from '../../src/infra/clock.js';
import type { S3Client } from '../../src/infra/s3-client/s3-client.js';
import { clientFor, createIdentityWithKey, type KeyPair, rootKey } from '../support/admin-cli.js';
import { createBackupBucket, leanClient } from '../support/job-fixtures.js';
import { randomName } from '../support/mariadb.js';
import { Teardown } from '../support/teardown.js';
import { type RunningVault, startVault } from '../support/vault-server.js';

/**
 * Pruning by a job's `retention` after each successful run, against a real vault: runs on
 * simulated days (an injected clock names and ages them), deleted by a pruner service identity
 * once older than keepCount/keepDays allow — whole, manifest first, by version id — never while
 * Object Lock holds them, and never by a key that only writes.
 */
const DAY = 24 * 3600 * 1000;
const teardown = new Teardown();
after(() => teardown.run());

let vault: RunningVault;
let writerKey: KeyPair;
let prunerKey: KeyPair;
let files: string;
let work: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'holdfast-job-retention-'));
  teardown.removeDir(work);
  vault = await startVault({ env: { HOLDFAST_AUDIT_LOG_STREAM: 'none' } });
  teardown.add(() => vault.stop());
  writerKey = await createIdentityWithKey(vault, rootKey(vault), 'retention-writer', ['backup-writer'], ['--service']);
  prunerKey = await createIdentityWithKey(vault, rootKey(vault), 'retention-pruner', ['pruner'], ['--service']);
  files = join(work, 'files');
  await mkdir(files);
  await writeFile(join(files, 'data.txt'), 'what the backup holds\n'.repeat(100));
});

function harness(job: Record<string, unknown>, clock: ManualClock, pruneKey: KeyPair) {
  const jobs = parseBackupJobs([{ name: 'files', source: { kind: 'directory', path: files }, schedule: '@daily', ...job }], { alertChannels: ['log'], env: {}, nowMs: clock.nowMs() });
  const history = new SqliteJobRunHistory(join(work, `${randomName('history')}.sqlite`));
  const writer = leanClient(vault, writerKey);
  const pruner = leanClient(vault, pruneKey);
  const pruned: JobPruneOutcome[] = [];
  const runner = new JobRunner({
    jobs,
    history,
    clock,
    client: () => writer,
    pruneClient: () => pruner,
    env: process.env,
    events: { finished: () => undefined, pruned: (_job, outcome) => pruned.push(outcome) },
  });
  teardown.add(async () => {
    await runner.close();
    history.close();
    writer.close();
    pruner.close();
  });
  const runAt = async (ms: number): Promise<JobRun> => {
    clock.set(ms);
    const run = await runner.start('files', 'manual').done;
    assert.equal(run.outcome, 'succeeded', run.error);
    return run;
  };
  return { runAt, pruned, reader: pruner };
}

/** Run ids under PREFIX/runs/ with any version or delete marker left. */
async function storedRuns(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const ids = new Set<string>();
  for await (const v of client.listObjectVersions({ bucket, prefix: `${prefix}/runs/` })) ids.add(v.key.slice(`${prefix}/runs/`.length).split('/')[0]!);
  return [...ids].sort();
}

async function createUnretainedBucket(): Promise<string> {
  // Object Lock on, no default retention: versions are deletable at once, so simulated days can pass.
  const name = randomName('retention').replaceAll('_', '-');
  const s3 = clientFor(vault, rootKey(vault));
  await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
  s3.destroy();
  return name;
}

test('runs past keepCount and keepDays are removed after later successes; the newest runs stay', { timeout: 120_000 }, async () => {
  const bucket = await createUnretainedBucket();
  const t0 = Date.now();
  const clock = new ManualClock(t0);
  const { runAt, pruned, reader } = harness({ destination: { bucket, prefix: 'files' }, retention: { keepCount: 2, keepDays: 7 } }, clock, prunerKey);
  const runs: JobRun[] = [];
  for (const day of [0, 3, 6, 9, 12]) runs.push(await runAt(t0 + day * DAY));
  const ids = runs.map((r) => r.id);
  // Day 9: keepCount keeps days 9 and 6, keepDays (7) keeps days 3 to 9: day 0 goes. Day 12: day 3 goes.
  assert.deepEqual(
    pruned.map((p) => (p.ok ? p.removedRuns : p.error)),
    [[], [], [], [ids[0]], [ids[1]]],
  );
  assert.deepEqual(await storedRuns(reader, bucket, 'files'), ids.slice(2).sort());
  const last = pruned.at(-1)!;
  assert.ok(last.ok && last.deletedVersions >= 2, 'the manifest and at least one part');
});

test('a run Object Lock still protects stays, reported as kept-locked, until its retention expires', { timeout: 120_000 }, async () => {
  const bucket = await createBackupBucket(vault); // COMPLIANCE 1 day by default
  const t0 = Date.now();
  const clock = new ManualClock(t0);
  const { runAt, pruned, reader } = harness({ destination: { bucket, prefix: 'files' }, retention: { keepCount: 1 } }, clock, prunerKey);
  const first = await runAt(t0);
  const second = await runAt(t0 + 60_000);
  assert.deepEqual(pruned.at(-1), { ok: true, removedRuns: [], keptLocked: [first.id], deletedVersions: 0, deletedBytes: 0 });
  assert.deepEqual(await storedRuns(reader, bucket, 'files'), [first.id, second.id].sort());
});

test('a key that can only write cannot prune: the prune fails with the refusal, nothing is deleted', { timeout: 120_000 }, async () => {
  const bucket = await createUnretainedBucket();
  const t0 = Date.now();
  const clock = new ManualClock(t0);
  const { runAt, pruned, reader } = harness({ destination: { bucket, prefix: 'files' }, retention: { keepCount: 1 } }, clock, writerKey);
  const first = await runAt(t0);
  const second = await runAt(t0 + DAY);
  const outcome = pruned.at(-1)!;
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.error, /AccessDenied|not authorized|denied/i);
  assert.deepEqual(await storedRuns(reader, bucket, 'files'), [first.id, second.id].sort());
});

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManualClock } from '../../../infra/clock.js';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import { parseBackupJobs } from '../job-config.js';
import type { JobRun } from '../job-run.js';
import { MONGODB_TOOLS_INSTALL_HINT } from '../sources/mongodb-tools.js';
import { runJobDrill } from './job-drill.js';
import { requireMongoDrillTools } from './mongo-scratch-database.js';

/**
 * A mongodump drill on a host without the MongoDB tools (this build machine has none): it fails
 * before it reads or creates anything, its record naming the missing tools and where to get
 * them. The drill itself (mongorestore, mongosh) is not exercised here; see README.
 */
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-mongo-drill-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a mongodump drill without mongorestore and mongosh on PATH fails naming both and the install hint; with only mongorestore, mongosh', async () => {
  const clock = new ManualClock(Date.parse('2026-06-01T05:00:00Z'));
  const [job] = parseBackupJobs(
    [{ name: 'mongo', source: { kind: 'mongodump', uri: 'mongodb://backup@127.0.0.1:27017/', database: 'shop' }, schedule: '0 3 * * *', destination: { bucket: 'backups' }, drill: { schedule: '0 5 * * SUN' } }],
    { alertChannels: ['log'], env: {}, nowMs: clock.nowMs() },
  );
  const run: JobRun = { id: '20260601T030000Z-abcdef', job: 'mongo', trigger: 'schedule', startedMs: Date.parse('2026-06-01T03:00:00Z'), endedMs: Date.parse('2026-06-01T03:01:00Z'), outcome: 'succeeded', bytes: 100, objects: 2, manifestKey: 'runs/20260601T030000Z-abcdef/manifest.json', error: undefined, logExcerpt: undefined };
  const tracked: unknown[] = [];
  const record = await runJobDrill(job!, run, {
    client: {} as S3Client,
    clock,
    env: { PATH: dir },
    id: '20260601T050000Z-123456',
    startedMs: clock.nowMs(),
    trigger: 'manual',
    endpoint: 'http://127.0.0.1:1',
    restoreCommand: () => 'false',
    onStep: () => undefined,
    signal: new AbortController().signal,
    track: async (target) => void tracked.push(target),
    tearDownTracked: async () => [],
  });
  assert.equal(record.outcome, 'failed');
  assert.equal(record.reason, `restore failed: a mongodump drill needs mongorestore and mongosh, not found on PATH: ${MONGODB_TOOLS_INSTALL_HINT}. mongosh: apt-get install mongodb-mongosh from the same repository.`);
  assert.deepEqual(tracked, [], 'no scratch target was made');

  // A file that is there and executable is found; only the shell is missing then.
  await writeFile(join(dir, 'mongorestore'), '#!/bin/sh\nexit 0\n');
  await chmod(join(dir, 'mongorestore'), 0o755);
  await assert.rejects(requireMongoDrillTools({ PATH: dir }), (e: Error) => e.message.startsWith('a mongodump drill needs mongosh, not found on PATH: '));
});

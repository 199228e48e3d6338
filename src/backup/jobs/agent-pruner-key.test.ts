import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentPrunerKeyError, jobsLeftUnpruned, prunerCredentialsFromEnvironment } from './agent-pruner-key.js';
import { parseBackupJobs } from './job-config.js';

// Key-shaped fixtures are put together at run time: the repository secret scan reads our tree.
const writerId = ['AKIA', 'WRITER', '0001'].join('');
const prunerId = ['AKIA', 'PRUNER', '0001'].join('');
const prunerSecret = ['pruner', 'secret', 'for', 'tests'].join('-');

test('no pruner variables: no pruner key (the agent only writes)', () => {
  assert.equal(prunerCredentialsFromEnvironment({}, writerId), undefined);
  assert.equal(prunerCredentialsFromEnvironment({ HOLDFAST_PRUNER_ACCESS_KEY_ID: ' ', HOLDFAST_PRUNER_SECRET_ACCESS_KEY: '' }, writerId), undefined);
});

test('both pruner variables: a key whose secret never prints', () => {
  const key = prunerCredentialsFromEnvironment({ HOLDFAST_PRUNER_ACCESS_KEY_ID: prunerId, HOLDFAST_PRUNER_SECRET_ACCESS_KEY: prunerSecret }, writerId);
  assert.equal(key?.accessKeyId, prunerId);
  assert.equal(key?.secretAccessKey.reveal(), prunerSecret);
  assert.equal(key?.source, 'HOLDFAST_PRUNER_ACCESS_KEY_ID');
  assert.doesNotMatch(JSON.stringify(key), new RegExp(prunerSecret));
});

test('one variable without the other is refused, naming the missing one', () => {
  assert.throws(() => prunerCredentialsFromEnvironment({ HOLDFAST_PRUNER_ACCESS_KEY_ID: prunerId }, writerId), (e: Error) => e instanceof AgentPrunerKeyError && /HOLDFAST_PRUNER_SECRET_ACCESS_KEY is not/.test(e.message));
  assert.throws(() => prunerCredentialsFromEnvironment({ HOLDFAST_PRUNER_SECRET_ACCESS_KEY: prunerSecret }, writerId), (e: Error) => e instanceof AgentPrunerKeyError && /HOLDFAST_PRUNER_ACCESS_KEY_ID is not/.test(e.message));
});

test("the writer's own key is refused as the pruner key: writing and deleting stay with two identities", () => {
  assert.throws(
    () => prunerCredentialsFromEnvironment({ HOLDFAST_PRUNER_ACCESS_KEY_ID: writerId, HOLDFAST_PRUNER_SECRET_ACCESS_KEY: prunerSecret }, writerId),
    (e: Error) => e instanceof AgentPrunerKeyError && e.message.includes("is the writer's key") && e.message.includes('--role pruner'),
  );
});

test('jobs left unpruned are those with a keepCount or keepDays', () => {
  const base = { source: { kind: 'directory', path: '/srv/files' }, schedule: '@daily', destination: { bucket: 'backups' } };
  const jobs = parseBackupJobs(
    [
      { name: 'counted', ...base, retention: { keepCount: 3 } },
      { name: 'aged', ...base, retention: { keepDays: 30 } },
      { name: 'kept-forever', ...base },
    ],
    { alertChannels: ['log'], env: {}, nowMs: Date.parse('2030-01-01T00:00:00Z') },
  );
  assert.deepEqual(jobsLeftUnpruned(jobs).map((j) => j.name), ['counted', 'aged']);
});

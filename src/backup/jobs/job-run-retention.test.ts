import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newBackupId } from '../pg/backup-id.js';
import { planJobRunRetention, type StoredRunKey } from './job-run-retention.js';

const DAY = 24 * 3600 * 1000;
const NOW = Date.parse('2031-03-01T12:00:00Z');
const HOUR = 3600 * 1000;

/** A run's keys as ListObjectVersions sums them: parts, and a manifest when it completed. */
function run(daysAgo: number, options: { complete?: boolean; manifestHidden?: boolean; modifiedAgoMs?: number } = {}): { id: string; keys: StoredRunKey[] } {
  const started = NOW - daysAgo * DAY;
  const id = newBackupId(started, () => Buffer.from([daysAgo & 0xff, 0, 1]));
  const modified = NOW - (options.modifiedAgoMs ?? daysAgo * DAY);
  const keys: StoredRunKey[] = [{ key: `db/runs/${id}/dump.sql.gz.part-00001`, versions: 1, current: true, newestModifiedMs: modified }];
  if (options.complete !== false) keys.push({ key: `db/runs/${id}/manifest.json`, versions: 1, current: options.manifestHidden !== true, newestModifiedMs: modified });
  return { id, keys };
}

function plan(runs: Array<{ keys: StoredRunKey[] }>, keepCount: number | undefined, keepDays: number | undefined, protectedRuns = new Map<string, 'newest-recorded-success' | 'running'>()) {
  return planJobRunRetention({ prefix: 'db', stored: runs.flatMap((r) => r.keys), keepCount, keepDays, nowMs: NOW, protectedRuns });
}

const kept = (p: ReturnType<typeof plan>) => p.runs.filter((r) => r.keep).map((r) => r.runId);
const removed = (p: ReturnType<typeof plan>) => p.runs.filter((r) => !r.keep).map((r) => r.runId);

test('keepCount OR keepDays keeps a run; the rest go, manifest first', () => {
  const runs = [0, 2, 4, 6, 8, 10].map((d) => run(d));
  const p = plan(runs, 2, 5);
  assert.deepEqual(kept(p), [runs[0]!.id, runs[1]!.id, runs[2]!.id]);
  assert.deepEqual(removed(p), [runs[3]!.id, runs[4]!.id, runs[5]!.id]);
  assert.deepEqual(p.runs[0]!.reasons, ['newest', 'keep-count', 'keep-days']);
  assert.deepEqual(p.runs[2]!.reasons, ['keep-days']);
  assert.match(p.runs[5]!.keys[0]!, /manifest\.json$/, 'the commit point goes first');
});

test('the newest complete run stays even past keepDays and the 90-day ceiling', () => {
  const runs = [120, 130].map((d) => run(d));
  const p = plan(runs, undefined, 7);
  assert.deepEqual(kept(p), [runs[0]!.id]);
  assert.deepEqual(p.runs[0]!.reasons, ['newest']);
  assert.equal(p.runs[0]!.beyondPolicyMaximum, true);
});

test('keepCount never keeps a run past the policy ceiling of 90 days', () => {
  const runs = [1, 30, 89, 91, 200].map((d) => run(d));
  const p = plan(runs, 100, undefined);
  assert.deepEqual(kept(p), [runs[0]!.id, runs[1]!.id, runs[2]!.id]);
  assert.deepEqual(removed(p), [runs[3]!.id, runs[4]!.id]);
});

test('failed runs (no manifest) go after 24 h unchanged; the recorded newest success and a running run are protected; hidden manifests and strays are left alone', () => {
  const fresh = run(0.1, { complete: false, modifiedAgoMs: HOUR });
  const abandoned = run(3, { complete: false });
  const hidden = run(40, { manifestHidden: true });
  const recorded = run(50);
  const newest = run(1);
  const stray: StoredRunKey = { key: 'db/runs/not-a-run-id/file', versions: 1, current: true, newestModifiedMs: NOW - 100 * DAY };
  const p = planJobRunRetention({
    prefix: 'db',
    stored: [...fresh.keys, ...abandoned.keys, ...hidden.keys, ...recorded.keys, ...newest.keys, stray],
    keepCount: 1,
    keepDays: undefined,
    nowMs: NOW,
    protectedRuns: new Map([[recorded.id, 'newest-recorded-success']]),
  });
  assert.deepEqual(kept(p), [fresh.id, newest.id, recorded.id]);
  assert.deepEqual(p.runs.find((r) => r.runId === fresh.id)!.reasons, ['running']);
  assert.deepEqual(removed(p), [abandoned.id]);
  assert.deepEqual([...p.untouched].sort(), [...hidden.keys.map((k) => k.key), stray.key].sort());
});

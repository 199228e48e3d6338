import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { S3Error } from '../errors.js';
import { SqliteMetadataStore } from '../../infra/metadata/sqlite/sqlite-metadata-store.js';
import { ChangeApprovals, type ProtectedChange, loosensBounds, weakensDefaultRetention } from './change-approvals.js';

let dir: string;
let store: SqliteMetadataStore;
let nowMs = Date.UTC(2031, 5, 1);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-approvals-'));
  store = new SqliteMetadataStore(join(dir, 'm.sqlite'));
});

after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

test('loosening means a longer maximum, a shorter minimum, or a bound removed', () => {
  const cases: Array<[Parameters<typeof loosensBounds>[0], Parameters<typeof loosensBounds>[1], boolean]> = [
    [undefined, { maxDays: 90 }, false],
    [{ maxDays: 90 }, { maxDays: 30 }, false],
    [{ maxDays: 90 }, { maxDays: 91 }, true],
    [{ maxDays: 90 }, {}, true],
    [{ maxDays: 90 }, undefined, true],
    [{ minDays: 7 }, { minDays: 14 }, false],
    [{ minDays: 7 }, { minDays: 6 }, true],
    [{ minDays: 7, maxDays: 90 }, { minDays: 7, maxDays: 90 }, false],
    [{ minDays: 7, maxDays: 90 }, { minDays: 8, maxDays: 89 }, false],
  ];
  for (const [current, next, expected] of cases) assert.equal(loosensBounds(current, next), expected, `${JSON.stringify(current)} → ${JSON.stringify(next)}`);
});

test('weakening a default retention: removed, shorter, or compliance turned into governance', () => {
  assert.equal(weakensDefaultRetention(undefined, undefined), false);
  assert.equal(weakensDefaultRetention(undefined, { mode: 'GOVERNANCE', days: 1 }), false);
  assert.equal(weakensDefaultRetention({ mode: 'COMPLIANCE', days: 30 }, undefined), true);
  assert.equal(weakensDefaultRetention({ mode: 'COMPLIANCE', days: 30 }, { mode: 'COMPLIANCE', days: 29 }), true);
  assert.equal(weakensDefaultRetention({ mode: 'COMPLIANCE', days: 30 }, { mode: 'GOVERNANCE', days: 365 }), true);
  assert.equal(weakensDefaultRetention({ mode: 'GOVERNANCE', days: 30 }, { mode: 'COMPLIANCE', days: 30 }), false);
  assert.equal(weakensDefaultRetention({ mode: 'COMPLIANCE', days: 400 }, { mode: 'COMPLIANCE', years: 1 }), true);
  assert.equal(weakensDefaultRetention({ mode: 'COMPLIANCE', years: 1 }, { mode: 'COMPLIANCE', days: 366 }), false);
});

test('a pending change is applied only when a different admin approves it, once, before it expires', async () => {
  const applied: ProtectedChange[] = [];
  const approvals = new ChangeApprovals(store, () => nowMs, async (change) => {
    applied.push(change);
  }, 3_600_000);
  const change: ProtectedChange = { kind: 'retention-bounds', bucket: 'b', bounds: { maxDays: 120 } };
  const { request, error } = await approvals.propose(change, 'Raising the maximum', 'alice');
  assert.equal(error.code, 'ApprovalRequired');
  assert.equal(error.status, 403);
  assert.equal(error.details['ChangeId'], request.id);
  assert.match(error.message, new RegExp(`holdfast admin approvals approve ${request.id}`));
  // Asking again does not pile up duplicates.
  assert.equal((await approvals.propose(change, 'Raising the maximum', 'alice')).request.id, request.id);
  assert.equal((await approvals.list()).filter((r) => r.status === 'pending').length, 1);

  await assert.rejects(approvals.approve(request.id, 'alice'), (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
  assert.deepEqual(applied, []);
  const approved = await approvals.approve(request.id, 'bob');
  assert.equal(approved.status, 'approved');
  assert.deepEqual(applied, [change]);
  await assert.rejects(approvals.approve(request.id, 'carol'), /approved, not pending/);
  assert.equal(applied.length, 1);

  const late = await approvals.propose({ kind: 'bucket-protection', bucket: 'b', protected: false }, 'Unprotecting', 'alice');
  nowMs += 3_600_000;
  assert.equal((await approvals.get(late.request.id)).status, 'expired');
  await assert.rejects(approvals.approve(late.request.id, 'bob'), /expired, not pending/);
  assert.equal(applied.length, 1);
});

test('two nodes sharing the store: proposals made at once are all kept; an approval racing a cancel has one outcome, applied only if approved', async () => {
  const shared = new SqliteMetadataStore(join(dir, 'shared.sqlite'));
  const applied: ProtectedChange[] = [];
  const node = () => new ChangeApprovals(shared, () => nowMs, async (change) => void applied.push(change));
  const [a, b] = [node(), node()];
  const change = (bucket: string): ProtectedChange => ({ kind: 'bucket-protection', bucket, protected: false });
  const proposed = await Promise.all(['one', 'two', 'three', 'four'].map((bucket, i) => (i % 2 === 0 ? a : b).propose(change(bucket), `unprotect ${bucket}`, 'alice')));
  assert.deepEqual((await a.list()).map((r) => r.id).sort(), proposed.map((p) => p.request.id).sort(), 'no proposal overwrote another');
  for (const { request } of proposed) {
    const [approved, cancelled] = await Promise.allSettled([a.approve(request.id, 'bob'), b.cancel(request.id, 'carol')]);
    assert.equal([approved, cancelled].filter((outcome) => outcome.status === 'fulfilled').length, 1, 'exactly one decision lands');
    const stored = await b.get(request.id);
    assert.equal(stored.status, approved.status === 'fulfilled' ? 'approved' : 'cancelled');
    assert.equal(applied.some((c) => c.bucket === request.change.bucket), stored.status === 'approved', 'applied exactly when approved');
  }
  await shared.close();
});

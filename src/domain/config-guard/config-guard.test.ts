import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ConfigCollection, ConfigItem } from '../../guard/config/config-item.js';
import { FsBlobStore } from '../../infra/blob/fs/fs-blob-store.js';
import { ManualClock } from '../../infra/clock.js';
import { SqliteConfigGuardStore } from '../../infra/config-guard/sqlite-config-guard-store.js';
import { SqliteMetadataStore } from '../../infra/metadata/sqlite/sqlite-metadata-store.js';
import { VaultEvidenceArchive } from '../../server/vault-evidence-archive.js';
import type { NewSecurityAlert } from '../alerts/security-alert.js';
import { S3Error } from '../errors.js';
import { Vault } from '../vault.js';
import { parseConfigCollection } from './config-collection-input.js';
import { BASELINE_EVIDENCE, ConfigGuard, SIGN_OFF_EVIDENCE } from './config-guard.js';
import { renderBaselinePage } from './baseline-page.js';
import { parseExpectedChanges } from './expected-changes.js';
import { DEFAULT_REVIEW_FREQUENCIES } from './review-calendar.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-config-guard-'));
after(() => rmSync(root, { recursive: true, force: true }));
const DAY = 86_400_000;
let n = 0;

/** A guard over real parts: SQLite store, a vault on disk for the evidence archive, a manual clock. */
async function guardAt(startMs: number) {
  const dir = join(root, `g${++n}`);
  const clock = new ManualClock(startMs);
  const vault = new Vault(new SqliteMetadataStore(join(dir, 'meta.sqlite')), new FsBlobStore(join(dir, 'blobs')), clock, { region: 'us-east-1', inlineLimit: 1024 });
  const evidence = new VaultEvidenceArchive(vault, 400);
  await evidence.ensureBucket();
  const alerts: NewSecurityAlert[] = [];
  const store = new SqliteConfigGuardStore(join(dir, 'config-guard.sqlite'));
  const guard = new ConfigGuard({ store, evidence, nowMs: () => clock.nowMs(), frequencies: DEFAULT_REVIEW_FREQUENCIES, raise: (a) => alerts.push(a) });
  return { guard, clock, alerts, evidence };
}

const sshRule = { cidr_blocks: ['0.0.0.0/0'], from_port: 22, protocol: 'tcp', to_port: 22 };
const httpsRule = { cidr_blocks: ['0.0.0.0/0'], from_port: 443, protocol: 'tcp', to_port: 443 };
const items = (over: { ingress?: object[]; www?: string; lock?: object | null } = {}): ConfigItem[] => [
  { component: 'network', resourceId: 'aws_security_group.web', kind: 'security_group', source: 'main.tfstate', attributes: { ingress: (over.ingress ?? [httpsRule]) as never } },
  { component: 'dns', resourceId: 'example.com./www/A', kind: 'dns_record', source: 'zone.db', attributes: { ttl: 300, values: [over.www ?? '203.0.113.7'] } },
  { component: 'storage', resourceId: 'bucket:backups', kind: 's3_bucket', source: 'live', attributes: over.lock === null ? { versioning: 'Enabled' } : { versioning: 'Enabled', objectLock: (over.lock ?? { mode: 'COMPLIANCE', days: 30 }) as never } },
];
const collection = (list: ConfigItem[]): ConfigCollection => parseConfigCollection({ format: 'holdfast-config-items/1', collectedAt: '2031-06-01T00:00:00Z', inputs: [{ kind: 'terraform-state', location: 'main.tfstate' }], items: list });
const refused = (code: string, pattern: RegExp) => (e: unknown) => e instanceof S3Error && e.code === code && pattern.test(e.message);

test('two-person rule: the proposer cannot approve their own baseline; another identity can, and the approval is locked evidence', async () => {
  const { guard, evidence, clock } = await guardAt(Date.UTC(2031, 5, 1));
  const proposed = await guard.captureBaseline(collection(items()), 'alice');
  assert.equal(proposed.status, 'proposed');
  assert.equal(proposed.itemCount, 3);
  assert.match(proposed.digest, /^[0-9a-f]{64}$/);
  await assert.rejects(guard.approveBaseline(proposed.id, 'alice', undefined), refused('AccessDenied', /two-person rule/));
  await assert.rejects(guard.checkDrift(collection(items()), 'alice'), /no approved baseline/);
  const approved = await guard.approveBaseline(proposed.id, 'bob', 'matches the Terraform plan');
  assert.equal(approved.status, 'approved');
  assert.equal(approved.decision?.by, 'bob');
  assert.match(approved.evidence?.location ?? '', /^s3:\/\/holdfast-system-evidence\/config-baselines\//);
  const record = await evidence.get(BASELINE_EVIDENCE, approved.id);
  assert.equal(record?.['approvedBy'], 'bob');
  assert.equal(record?.['proposedBy'], 'alice');
  assert.equal((record?.['items'] as unknown[]).length, 3);
  await assert.rejects(guard.approveBaseline(proposed.id, 'carol', undefined), /approved, not proposed/);

  // A second approved baseline supersedes the first; both stay in the history.
  clock.advance(60_000);
  const next = await guard.captureBaseline(collection(items({ www: '198.51.100.9' })), 'bob');
  await guard.approveBaseline(next.id, 'alice', undefined);
  const history = await guard.listBaselines(10);
  assert.deepEqual(history.map((b) => [b.id, b.status]), [[next.id, 'approved'], [proposed.id, 'superseded']]);

  assert.equal((await guard.getBaseline('current')).id, next.id);
  clock.advance(60_000);
  const rejected = await guard.captureBaseline(collection(items()), 'bob');
  await guard.rejectBaseline(rejected.id, 'carol', 'wrong account');
  assert.equal((await guard.getBaseline(rejected.id)).status, 'rejected');
  const page = renderBaselinePage(await guard.getBaseline('current'), 'md');
  assert.match(page, /^# Baseline Configuration Settings/);
  assert.match(page, /\| Networking \| Security groups, NACLs \| Reviewed quarterly \| 1 \|/);
  assert.match(page, /Approved by \| alice, /);
  assert.match(page, /\| `values` \| `\["198\.51\.100\.9"\]` \|/);
  const html = renderBaselinePage(await guard.getBaseline('current'), 'html');
  assert.match(html, /<h2>DNS \/ Edge<\/h2>/);
  assert.doesNotMatch(html, /<script/);
});

test('drift: exactly the changed items with attribute paths, first-seen kept across checks; an approved change request covers only its target state', async () => {
  const { guard, clock, alerts } = await guardAt(Date.UTC(2031, 5, 1));
  const base = await guard.captureBaseline(collection(items()), 'alice');
  await guard.approveBaseline(base.id, 'bob', undefined);
  clock.advance(3600_000);
  const drifted = collection(items({ ingress: [httpsRule, sshRule], www: '198.51.100.9', lock: null }));
  const first = await guard.checkDrift(drifted, 'ci');
  assert.deepEqual(first.items.map((i) => [i.component, i.resourceId, i.difference, i.changes.map((c) => c.path)]), [
    ['network', 'aws_security_group.web', 'changed', ['$.attributes.ingress']],
    ['dns', 'example.com./www/A', 'changed', ['$.attributes.values[0]']],
    ['storage', 'bucket:backups', 'changed', ['$.attributes.objectLock']],
  ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))));
  assert.deepEqual(first.summary, { added: 0, removed: 0, changed: 3, explained: 0, unexplained: 3 });
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.rule, 'config-drift');
  const firstSeen = first.items[0]!.firstSeenMs;

  // The DNS change goes through review: the proposer cannot review it, someone else approves it.
  const expected = parseExpectedChanges({ changes: [{ component: 'dns', resourceId: 'example.com./www/A', target: { kind: 'dns_record', attributes: { ttl: 300, values: ['198.51.100.9'] } } }] });
  const change = await guard.proposeChange({ title: 'Move www', description: 'new load balancer', risk: 'low', expected }, 'alice');
  // The request carries the diff it will cause against the approved baseline, as drift reports it.
  assert.equal(change.baselineId, base.id);
  assert.deepEqual(change.diff?.map((d) => [d.component, d.resourceId, d.difference, d.changes]), [['dns', 'example.com./www/A', 'changed', [{ path: '$.attributes.values[0]', before: '203.0.113.7', after: '198.51.100.9' }]]]);
  await assert.rejects(guard.reviewChange(change.id, 'alice', 'approve', 'lgtm'), refused('AccessDenied', /different identity must review/));
  await assert.rejects(guard.applyChange(change.id, 'alice'), /only an approved change can be applied/);
  await guard.reviewChange(change.id, 'bob', 'approve', 'checked the LB address');
  // A request for a different target covers nothing.
  const other = await guard.proposeChange({ title: 'Close SSH', description: '', risk: 'high', expected: parseExpectedChanges({ changes: [{ component: 'network', resourceId: 'aws_security_group.web', target: { kind: 'security_group', attributes: { ingress: [httpsRule] } } }] }) }, 'alice');
  assert.deepEqual(other.diff, [], 'the baseline already holds that state: the request changes nothing');
  // A rejected request, whose target is exactly the drifted state, covers nothing either; its proposer cannot reject it.
  const unlock = await guard.proposeChange({ title: 'Drop the default retention', description: '', risk: 'high', expected: parseExpectedChanges({ changes: [{ component: 'storage', resourceId: 'bucket:backups', target: { kind: 's3_bucket', attributes: { versioning: 'Enabled' } } }] }) }, 'alice');
  await assert.rejects(guard.reviewChange(unlock.id, 'alice', 'reject', 'withdrawn'), refused('AccessDenied', /different identity must review/));
  const rejected = await guard.reviewChange(unlock.id, 'bob', 'reject', 'the lock stays');
  assert.equal(rejected.status, 'rejected');
  assert.deepEqual(rejected.reviews.map((r) => [r.by, r.decision, r.comment]), [['bob', 'reject', 'the lock stays']]);
  await assert.rejects(guard.applyChange(unlock.id, 'bob'), /only an approved change can be applied/);
  await guard.reviewChange(other.id, 'bob', 'approve', 'yes');

  clock.advance(3600_000);
  const second = await guard.checkDrift(drifted, 'ci');
  const dnsItem = second.items.find((i) => i.component === 'dns')!;
  assert.equal(dnsItem.coveredBy, change.id);
  assert.equal(second.items.find((i) => i.component === 'network')?.coveredBy, undefined);
  assert.equal(second.items.find((i) => i.component === 'storage')?.coveredBy, undefined);
  assert.deepEqual(second.summary, { added: 0, removed: 0, changed: 3, explained: 1, unexplained: 2 });
  assert.equal(second.items[0]!.firstSeenMs, firstSeen, 'first-seen survives a later check');
  assert.equal(alerts.length, 2);
  assert.doesNotMatch(alerts[1]!.summary, /example\.com/);

  // Applying makes a new approved baseline (approved by the reviewer) and the DNS drift disappears.
  const { change: applied, baseline } = await guard.applyChange(change.id, 'alice');
  assert.equal(applied.status, 'applied');
  assert.deepEqual(applied.applied?.explainedDrift, ['dns example.com./www/A']);
  assert.equal(baseline.status, 'approved');
  assert.equal(baseline.decision?.by, 'bob');
  assert.deepEqual(baseline.origin, { kind: 'change-request', changeId: change.id, basedOn: base.id, appliedBy: 'alice' });
  assert.ok(baseline.evidence !== undefined);
  assert.equal((await guard.getBaseline(base.id)).status, 'superseded');
  const third = await guard.checkDrift(drifted, 'ci');
  assert.deepEqual(third.items.map((i) => i.component), ['network', 'storage']);
  assert.deepEqual((await guard.driftHistory(10)).map((c) => c.summary.unexplained), [2, 2, 3]);
  await assert.rejects(guard.applyChange(change.id, 'alice'), /is applied/);
});

test('drift counts added and removed items, each reported whole at $', async () => {
  const { guard } = await guardAt(Date.UTC(2031, 5, 1));
  const base = await guard.captureBaseline(collection(items()), 'alice');
  await guard.approveBaseline(base.id, 'bob', undefined);
  const mail = { component: 'dns' as const, resourceId: 'example.com./mail/A', kind: 'dns_record', source: 'zone.db', attributes: { ttl: 300, values: ['192.0.2.25'] } };
  const check = await guard.checkDrift(collection([...items().filter((i) => i.component !== 'storage'), mail]), 'ci');
  assert.deepEqual(check.items.map((i) => [i.difference, i.resourceId, i.changes.map((c) => c.path)]), [['added', 'example.com./mail/A', ['$']], ['removed', 'bucket:backups', ['$']]]);
  assert.deepEqual(check.items[1]!.changes[0]!.before, { kind: 's3_bucket', attributes: { versioning: 'Enabled', objectLock: { mode: 'COMPLIANCE', days: 30 } } });
  assert.deepEqual(check.summary, { added: 1, removed: 1, changed: 0, explained: 0, unexplained: 2 });
});

test('review sign-off is kept as evidence; the overdue alert fires once per due date', async () => {
  const start = Date.UTC(2031, 0, 10);
  const { guard, clock, alerts, evidence } = await guardAt(start);
  const b = await guard.captureBaseline(collection(items()), 'alice');
  await guard.approveBaseline(b.id, 'bob', undefined);
  clock.set(start + 100 * DAY);
  const due = await guard.reviewsDue();
  assert.deepEqual(due.filter((s) => s.status === 'overdue').map((s) => s.component), ['network', 'storage', 'iam']);
  assert.equal((await guard.alertOverdueReviews()).length, 3);
  assert.equal((await guard.alertOverdueReviews()).length, 0, 'no second alert for the same due date');
  assert.deepEqual(alerts.map((a) => a.rule), ['config-review-overdue', 'config-review-overdue', 'config-review-overdue']);
  const signOff = await guard.signOff('network', 'carol', 'SG rules match the runbook');
  assert.equal((await evidence.get(SIGN_OFF_EVIDENCE, signOff.id))?.['notes'], 'SG rules match the runbook');
  assert.equal((await guard.reviewsDue()).find((s) => s.component === 'network')?.status, 'ok');
  await assert.rejects(guard.signOff('networking', 'carol', 'x'), /not a reviewed component/);
});

test('no approval without its evidence: when the locked record cannot be written the baseline stays proposed', async () => {
  const { guard, evidence } = await guardAt(Date.UTC(2031, 5, 1));
  const proposed = await guard.captureBaseline(collection(items()), 'alice');
  // A different record already holds the id: the archive refuses to replace it (write-once).
  await evidence.put(BASELINE_EVIDENCE, proposed.id, { squatted: true });
  await assert.rejects(guard.approveBaseline(proposed.id, 'bob', undefined), (e: Error) => e.name === 'EvidenceConflictError');
  const after = await guard.getBaseline(proposed.id);
  assert.equal(after.status, 'proposed');
  assert.equal(after.decision, undefined);
  assert.equal(await guard.currentBaseline(), undefined);
});

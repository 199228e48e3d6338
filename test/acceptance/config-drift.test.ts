import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { eventually } from '../../src/infra/alerts/receivers.test-fixture.js';
import { type KeyPair, clientFor, createIdentityWithKey, holdfast } from '../support/admin-cli.js';
import { startConfigGuardVault } from '../support/config-guard-vault.js';
import { Teardown } from '../support/teardown.js';

/**
 * Issue 8's drift scenario against the built server and CLI, as operators would run it: capture
 * a baseline, approve it as a second admin, change the inputs (port 22 opened to the world, a DNS
 * record changed, a bucket's lock removed), and see exactly those reported and alerted; a change
 * request approved by another admin turns the DNS change into approved drift.
 */
const teardown = new Teardown();
after(() => teardown.run());

const https = { cidr_blocks: ['0.0.0.0/0'], from_port: 443, protocol: 'tcp', to_port: 443 };
const ssh = { cidr_blocks: ['0.0.0.0/0'], from_port: 22, protocol: 'tcp', to_port: 22 };
function collection(over: { ssh?: boolean; www?: string; lock?: boolean } = {}) {
  return {
    format: 'holdfast-config-items/1',
    collectedAt: '2026-11-26T12:00:00Z',
    inputs: [{ kind: 'terraform-state', location: 'infra/terraform.tfstate' }, { kind: 'dns-zone', location: 'dns/example.com.zone' }],
    items: [
      { component: 'network', resourceId: 'aws_security_group.web', kind: 'security_group', source: 'infra/terraform.tfstate', attributes: { name: 'web', ingress: over.ssh === true ? [ssh, https] : [https] } },
      { component: 'dns', resourceId: 'example.com./www/A', kind: 'dns_record', source: 'dns/example.com.zone', attributes: { ttl: 300, values: [over.www ?? '203.0.113.7'] } },
      { component: 'dns', resourceId: 'example.com./@/MX', kind: 'dns_record', source: 'dns/example.com.zone', attributes: { ttl: 3600, values: ['10 mail.example.com.'] } },
      {
        component: 'storage',
        resourceId: 'bucket:backups',
        kind: 's3_bucket',
        source: 'infra/terraform.tfstate',
        attributes: over.lock === false ? { versioning: 'Enabled' } : { versioning: 'Enabled', objectLock: { mode: 'COMPLIANCE', days: 30 } },
      },
      { component: 'container', resourceId: 'image:api', kind: 'image', source: 'deploy/api.yaml', attributes: { digest: 'sha256:' + 'a'.repeat(64), user: '10001' } },
    ],
  };
}

interface DriftItem {
  component: string;
  resourceId: string;
  difference: string;
  changes: { path: string; before?: unknown; after?: unknown }[];
  firstSeenAt: string;
  status: string;
  coveredBy: string | null;
}

test('capture → second-admin approval → drift reported exactly and alerted → a peer-approved change request explains the DNS change', { timeout: 180_000 }, async () => {
  const { dir, webhook, vault, root, alice, bob } = await startConfigGuardVault(teardown, 'holdfast-config-drift-');
  const auditor = await createIdentityWithKey(vault, root, 'audrey', ['auditor']);
  const file = async (name: string, value: unknown) => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(value, null, 2));
    return path;
  };
  const json = async <T>(key: KeyPair, args: string[], code = 0) => JSON.parse((await holdfast(vault, key, [...args, '--json'], code)).stdout) as T;

  // ---- baseline: proposed by alice, refused to alice, approved by bob ----
  const started = performance.now();
  const proposed = await json<{ id: string; status: string; itemCount: number }>(alice, ['baseline', 'capture', '--items', await file('baseline.json', collection())]);
  assert.equal(proposed.status, 'proposed');
  assert.equal(proposed.itemCount, 5);
  const own = await holdfast(vault, alice, ['baseline', 'approve', proposed.id], 3);
  assert.match(own.stderr, /AccessDenied: .*proposed by alice; a different identity must approve it \(two-person rule\)/);
  const refusedToAuditor = await holdfast(vault, auditor, ['baseline', 'approve', proposed.id], 3);
  assert.match(refusedToAuditor.stderr, /AccessDenied/);
  const approved = await json<{ status: string; decidedBy: string; evidence: { location: string } }>(bob, ['baseline', 'approve', proposed.id, '--comment', 'matches terraform plan #412']);
  assert.equal(approved.status, 'approved');
  assert.equal(approved.decidedBy, 'bob');
  // The auditor reads what was approved.
  const listed = await json<{ baselines: { id: string; status: string }[] }>(auditor, ['baseline', 'list']);
  assert.deepEqual(listed.baselines.map((b) => [b.id, b.status]), [[proposed.id, 'approved']]);

  // ---- the evidence object: locked, root cannot delete it ----
  const location = new URL(approved.evidence.location.replace(/^s3:/, 'http:'));
  const evidenceKey = location.pathname.slice(1);
  const versionId = location.searchParams.get('versionId')!;
  assert.equal(location.host, 'holdfast-system-evidence');
  const s3 = clientFor(vault, root);
  teardown.add(() => s3.destroy());
  for (const input of [{ VersionId: versionId }, {}]) {
    await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: 'holdfast-system-evidence', Key: evidenceKey, ...input })), (e: Error) => e.name === 'AccessDenied', `root DeleteObject ${JSON.stringify(input)} must be refused`);
  }
  const evidence = await json<{ decidedBy: string; proposedBy: string; items: unknown[] }>(auditor, ['baseline', 'show', proposed.id]);
  assert.equal(evidence.decidedBy, 'bob');
  assert.equal(evidence.items.length, 5);
  const stored = await s3.send(new GetObjectCommand({ Bucket: 'holdfast-system-evidence', Key: evidenceKey, VersionId: versionId }));
  const record = JSON.parse(await stored.Body!.transformToString()) as { approvedBy: string; proposedBy: string; items: unknown[] };
  assert.deepEqual([record.proposedBy, record.approvedBy, record.items.length], ['alice', 'bob', 5]);
  assert.equal(stored.ObjectLockMode, 'COMPLIANCE');

  // ---- the settings page ----
  const pagePath = join(dir, 'baseline.html');
  await holdfast(vault, auditor, ['baseline', 'page', '--format', 'html', '--out', pagePath]);
  const page = await readFile(pagePath, 'utf8');
  assert.match(page, /<h1>Baseline Configuration Settings<\/h1>/);
  assert.match(page, /<td>Networking<\/td><td>Security groups, NACLs<\/td><td>Reviewed quarterly<\/td>/);
  assert.match(page, /<td>Storage \(S3\)<\/td><td>Bucket policies, versioning, Object Lock<\/td><td>Reviewed quarterly<\/td>/);
  assert.match(page, /Approved by<\/th><td>bob, /);
  const markdown = (await holdfast(vault, auditor, ['baseline', 'page'])).stdout;
  assert.match(markdown, /## DNS \/ Edge/);
  assert.match(markdown, /\| `objectLock\.mode` \| `"COMPLIANCE"` \|/);

  // ---- drift: exactly the three changes, alerted ----
  const driftedFile = await file('drifted.json', collection({ ssh: true, www: '198.51.100.9', lock: false }));
  const first = await json<{ id: string; summary: Record<string, number>; items: DriftItem[] }>(alice, ['drift', 'check', '--items', driftedFile], 4);
  assert.deepEqual(
    first.items.map((i) => [i.component, i.resourceId, i.difference, i.changes.map((c) => c.path), i.status]),
    [
      ['dns', 'example.com./www/A', 'changed', ['$.attributes.values[0]'], 'unexplained'],
      ['network', 'aws_security_group.web', 'changed', ['$.attributes.ingress'], 'unexplained'],
      ['storage', 'bucket:backups', 'changed', ['$.attributes.objectLock'], 'unexplained'],
    ],
  );
  assert.deepEqual(first.items[0]!.changes[0], { path: '$.attributes.values[0]', before: '203.0.113.7', after: '198.51.100.9' });
  assert.deepEqual(first.items[2]!.changes[0], { path: '$.attributes.objectLock', before: { mode: 'COMPLIANCE', days: 30 } });
  assert.deepEqual(first.summary, { added: 0, removed: 0, changed: 3, explained: 0, unexplained: 3 });
  const driftAlerts = () => webhook.requests.map((r) => (JSON.parse(r.body) as { alert: { rule: string; summary: string; details: Record<string, unknown> } }).alert).filter((a) => a.rule === 'config-drift');
  await eventually('the webhook receives the drift alert', () => driftAlerts().length > 0, 60_000);
  assert.match(driftAlerts()[0]!.summary, /3 item\(s\) that differ from the approved baseline/);
  assert.equal(driftAlerts()[0]!.details['unexplained'], 3);

  // ---- a change request for the DNS change: not reviewable by its proposer, approved by bob ----
  const expect = await file('expect.json', { changes: [{ component: 'dns', resourceId: 'example.com./www/A', target: { kind: 'dns_record', attributes: { ttl: 300, values: ['198.51.100.9'] } } }] });
  const change = await json<{ id: string; status: string; baselineId: string; diff: unknown[] }>(alice, ['changes', 'propose', '--title', 'Move www to the new load balancer', '--risk', 'low', '--expect', expect, '--description', 'LB migration, ticket OPS-7']);
  assert.equal(change.status, 'proposed');
  // The diff the change will cause against the approved baseline: what the reviewer approves.
  assert.equal(change.baselineId, proposed.id);
  assert.deepEqual(change.diff, [{ component: 'dns', resourceId: 'example.com./www/A', difference: 'changed', kind: 'dns_record', changes: [{ path: '$.attributes.values[0]', before: '203.0.113.7', after: '198.51.100.9' }] }]);
  const shownChange = await holdfast(vault, bob, ['changes', 'show', change.id]);
  assert.match(shownChange.stdout, new RegExp(`diff against baseline ${proposed.id}: 1 resource\\(s\\)\\n {4}changed dns example\\.com\\./www/A\\n {6}\\$\\.attributes\\.values\\[0\\]: "203\\.0\\.113\\.7" -> "198\\.51\\.100\\.9"`), shownChange.stdout);
  const selfReview = await holdfast(vault, alice, ['changes', 'review', change.id, '--approve', '--comment', 'lgtm'], 3);
  assert.match(selfReview.stderr, /proposed by alice; a different identity must review it/);
  const reviewed = await json<{ status: string; reviews: { by: string; comment: string }[] }>(bob, ['changes', 'review', change.id, '--approve', '--comment', 'LB address checked']);
  assert.equal(reviewed.status, 'approved');
  assert.deepEqual(reviewed.reviews.map((r) => [r.by, r.comment]), [['bob', 'LB address checked']]);

  const second = await json<{ summary: Record<string, number>; items: DriftItem[] }>(alice, ['drift', 'check', '--items', driftedFile], 4);
  assert.deepEqual(second.items.map((i) => [i.component, i.status, i.coveredBy]), [['dns', 'approved', change.id], ['network', 'unexplained', null], ['storage', 'unexplained', null]]);
  assert.deepEqual(second.items.map((i) => i.firstSeenAt), first.items.map((i) => i.firstSeenAt), 'first-seen times are kept across checks');
  assert.deepEqual(second.summary, { added: 0, removed: 0, changed: 3, explained: 1, unexplained: 2 });

  // ---- apply: a new approved baseline (evidence), the DNS drift is gone from the next check ----
  const applied = await json<{ change: { status: string; applied: { explainedDrift: string[] } }; baseline: { id: string; evidence: { location: string } } }>(alice, ['changes', 'apply', change.id]);
  assert.equal(applied.change.status, 'applied');
  assert.deepEqual(applied.change.applied.explainedDrift, ['dns example.com./www/A']);
  assert.match(applied.baseline.evidence.location, /^s3:\/\/holdfast-system-evidence\/config-baselines\//);
  const third = await json<{ items: DriftItem[] }>(alice, ['drift', 'check', '--items', driftedFile], 4);
  assert.deepEqual(third.items.map((i) => i.component), ['network', 'storage']);
  const clean = await json<{ summary: Record<string, number> }>(alice, ['drift', 'check', '--items', await file('reverted.json', collection({ www: '198.51.100.9' }))], 0);
  assert.equal(clean.summary['unexplained'], 0);
  const history = await json<{ checks: { summary: { unexplained: number } }[] }>(auditor, ['drift', 'history']);
  assert.deepEqual(history.checks.map((c) => c.summary.unexplained), [0, 2, 2, 3]);
  const baselines = await json<{ baselines: { status: string }[] }>(auditor, ['baseline', 'list']);
  assert.deepEqual(baselines.baselines.map((b) => b.status), ['approved', 'superseded']);

  // ---- rejections: by another identity, with a comment, audit-logged like every other step ----
  const unwanted = await json<{ id: string }>(alice, ['baseline', 'capture', '--items', driftedFile]);
  const rejectedBaseline = await json<{ status: string; decidedBy: string; comment: string }>(bob, ['baseline', 'reject', unwanted.id, '--comment', 'SSH is open in it: not a baseline']);
  assert.deepEqual([rejectedBaseline.status, rejectedBaseline.decidedBy, rejectedBaseline.comment], ['rejected', 'bob', 'SSH is open in it: not a baseline']);
  const retire = await json<{ id: string; diff: { difference: string; resourceId: string }[] }>(alice, ['changes', 'propose', '--title', 'Retire the backups bucket', '--risk', 'high', '--expect', await file('retire.json', { changes: [{ component: 'storage', resourceId: 'bucket:backups', target: null }] })]);
  assert.deepEqual(retire.diff.map((d) => [d.difference, d.resourceId]), [['removed', 'bucket:backups']]);
  const refusedChange = await json<{ status: string; reviews: { by: string; decision: string; comment: string }[] }>(bob, ['changes', 'review', retire.id, '--reject', '--comment', 'the backups stay']);
  assert.deepEqual([refusedChange.status, refusedChange.reviews.map((r) => [r.by, r.decision, r.comment])], ['rejected', [['bob', 'reject', 'the backups stay']]]);
  const changes = await json<{ changes: { id: string; status: string }[] }>(auditor, ['changes', 'list']);
  assert.deepEqual(changes.changes.map((c) => [c.id, c.status]), [[retire.id, 'rejected'], [change.id, 'applied']]);

  // ---- every step is in the audit log ----
  const audit = (await holdfast(vault, auditor, ['audit', 'export', '--action', 'config:config-'])).stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { action: string; identity: string });
  assert.deepEqual(
    audit.map((e) => `${e.identity} ${e.action}`),
    [
      'alice config:config-baseline-proposed',
      'bob config:config-baseline-approved',
      'alice config:config-drift-checked',
      'alice config:config-change-proposed',
      'bob config:config-change-approved',
      'alice config:config-drift-checked',
      'alice config:config-change-applied',
      'alice config:config-drift-checked',
      'alice config:config-drift-checked',
      'alice config:config-baseline-proposed',
      'bob config:config-baseline-rejected',
      'alice config:config-change-proposed',
      'bob config:config-change-rejected',
    ],
  );
  process.stderr.write(`config drift scenario through the CLI: ${Math.round(performance.now() - started)} ms\n`);
});

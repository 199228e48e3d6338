import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand, PutObjectLockConfigurationCommand } from '@aws-sdk/client-s3';
import { eventually } from '../../src/infra/alerts/receivers.test-fixture.js';
import { type KeyPair, clientFor, holdfast, holdfastCli, rootKey } from '../support/admin-cli.js';
import { startConfigGuardVault } from '../support/config-guard-vault.js';
import { Teardown } from '../support/teardown.js';
import { bucket, PUBLIC_ACCESS_BLOCKED, stateV4, tlsOnlyPolicy, type FixtureResource } from '../support/terraform-fixtures.js';
import { runCommand } from '../support/tools.js';
import { startVault } from '../support/vault-server.js';

/**
 * Issue 8's drift scenario end to end with REAL inputs: the collectors run in the CLI of
 * `holdfast baseline capture` and `holdfast drift check --sources FILE` over a Terraform state v4
 * (a security group, and a backup bucket whose versioning and Object Lock are separate resources),
 * a BIND zone file, a .env file and the running vault's own buckets. Where config-drift.test.ts
 * hands the server built collections, this proves the collectors and the drift machinery agree
 * on resource ids and attribute paths, so a real change in a real input is what gets reported.
 */
const teardown = new Teardown();
after(() => teardown.run());

// Built at run time so this file itself holds no credential-shaped literal (repository-secrets.test.ts).
const ENV_SECRET = ['sk', 'live', '51HqLyjWDarjtT1zdp7dcXkQ9'].join('_');

function terraformState(over: { sshOpen?: boolean; lockResource?: boolean } = {}): string {
  const ingress = [{ cidr_blocks: ['0.0.0.0/0'], description: 'https', from_port: 443, ipv6_cidr_blocks: [], prefix_list_ids: [], protocol: 'tcp', security_groups: [], self: false, to_port: 443 }];
  if (over.sshOpen === true) ingress.push({ cidr_blocks: ['0.0.0.0/0'], description: 'ssh', from_port: 22, ipv6_cidr_blocks: [], prefix_list_ids: [], protocol: 'tcp', security_groups: [], self: false, to_port: 22 });
  const resources: FixtureResource[] = [
    { type: 'aws_security_group', name: 'web', attributes: { id: 'sg-0a1b2c3d', name: 'web', vpc_id: 'vpc-1', ingress, egress: [] } },
    // Provider v4+: the bucket's settings live in their own resources; its inline blocks are stale defaults.
    { type: 'aws_s3_bucket', name: 'backups', attributes: bucket('acme-backups', { object_lock_enabled: true }) },
    { type: 'aws_s3_bucket_versioning', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', versioning_configuration: [{ status: 'Enabled', mfa_delete: '' }] } },
    { type: 'aws_s3_bucket_public_access_block', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', ...PUBLIC_ACCESS_BLOCKED } },
    { type: 'aws_s3_bucket_policy', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', policy: tlsOnlyPolicy('acme-backups') } },
  ];
  if (over.lockResource !== false) {
    resources.push({ type: 'aws_s3_bucket_object_lock_configuration', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', object_lock_enabled: 'Enabled', rule: [{ default_retention: [{ mode: 'COMPLIANCE', days: 30, years: 0 }] }] } });
  }
  return stateV4(resources);
}

function zoneFile(www: string): string {
  return `$ORIGIN example.com.
$TTL 3600
@       IN SOA  ns1.example.com. hostmaster.example.com. ( 2026112601 7200 900 1209600 300 )
@       IN NS   ns1.example.com.
@       IN MX   10 mail.example.com.
ns1     IN A    192.0.2.53
www 300 IN A    ${www}
api     IN CNAME www
`;
}

interface DriftItem {
  component: string;
  resourceId: string;
  difference: string;
  changes: { path: string; before?: unknown; after?: unknown }[];
  status: string;
  coveredBy: string | null;
}

test('real inputs: capture → approve → change the files → drift check --sources reports exactly the three changes and alerts; a peer-approved change explains the DNS one', { timeout: 180_000 }, async () => {
  const { dir, webhook, vault, root, alice, bob } = await startConfigGuardVault(teardown, 'holdfast-config-drift-collected-');

  // The vault's own backup bucket, compliance-locked: read live over S3 and the admin API.
  const s3 = clientFor(vault, root);
  teardown.add(() => s3.destroy());
  await s3.send(new CreateBucketCommand({ Bucket: 'app-backups', ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'app-backups', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 } } } }));

  // The inputs, as a team keeps them beside its infrastructure code.
  await writeFile(join(dir, 'terraform.tfstate'), terraformState());
  await writeFile(join(dir, 'example.com.zone'), zoneFile('203.0.113.7'));
  await writeFile(join(dir, '.env.production'), `LOG_LEVEL=info\nSTRIPE_KEY=${ENV_SECRET}\n`);
  // Every bucket the vault lists: its system buckets (evidence, created by the first approval) are not listed, so they are no drift.
  await writeFile(
    join(dir, 'holdfast-sources.yaml'),
    `version: 1
terraform: [terraform.tfstate]
zones: [example.com.zone]
env: [{ path: .env.production, name: production }]
vaults: [{ endpoint: "${vault.endpoint}", name: main }]
`,
  );
  const sources = ['--sources', join(dir, 'holdfast-sources.yaml')];
  const json = async <T>(key: KeyPair, args: string[], code = 0) => {
    const run = await holdfast(vault, key, [...args, '--json'], code);
    assert.equal(run.stdout.includes(ENV_SECRET) || run.stderr.includes(ENV_SECRET), false, 'an environment value leaked');
    return { result: JSON.parse(run.stdout) as T, stderr: run.stderr, durationMs: run.durationMs };
  };

  // ---- capture (alice, collectors run in the CLI) → approve (bob) ----
  const captured = await json<{ id: string; status: string; itemCount: number }>(alice, ['baseline', 'capture', ...sources]);
  process.stderr.write(`baseline capture --sources (collect + propose): ${captured.durationMs.toFixed(0)} ms\n`);
  assert.equal(captured.result.status, 'proposed');
  // Which inputs were read is printed (stderr, so --json stays parseable).
  assert.match(captured.stderr, /holdfast baseline: read 4 input\(s\)/);
  for (const kind of ['terraform', 'dns-zone', 'environment', 'vault']) assert.match(captured.stderr, new RegExp(`\\n {2}${kind} +\\S`), captured.stderr);
  const shown = await json<{ items: { component: string; resourceId: string }[] }>(bob, ['baseline', 'show', captured.result.id]);
  const ids = shown.result.items.map((i) => `${i.component} ${i.resourceId}`);
  for (const id of ['network aws_security_group.web', 'storage bucket:acme-backups', 'dns example.com./www/A', 'environment production/STRIPE_KEY', 'storage vault:main/app-backups']) assert.ok(ids.includes(id), `${id} is missing from\n${ids.join('\n')}`);
  assert.equal(captured.result.itemCount, ids.length);
  await holdfast(vault, alice, ['baseline', 'approve', captured.result.id], 3);
  await json(bob, ['baseline', 'approve', captured.result.id, '--comment', 'matches the repo at 4f2e1a']);

  // Unchanged inputs: no drift, exit 0.
  const unchanged = await json<{ summary: Record<string, number> }>(alice, ['drift', 'check', ...sources], 0);
  assert.deepEqual(unchanged.result.summary, { added: 0, removed: 0, changed: 0, explained: 0, unexplained: 0 });

  // ---- the inputs change: port 22 opened to the world, www moved, the lock resource removed ----
  await writeFile(join(dir, 'terraform.tfstate'), terraformState({ sshOpen: true, lockResource: false }));
  await writeFile(join(dir, 'example.com.zone'), zoneFile('198.51.100.9'));
  const first = await json<{ summary: Record<string, number>; items: DriftItem[] }>(alice, ['drift', 'check', ...sources], 4);
  process.stderr.write(`drift check --sources (collect + compare): ${first.durationMs.toFixed(0)} ms\n`);
  assert.deepEqual(
    first.result.items.map((i) => [i.component, i.resourceId, i.difference, i.changes.map((c) => c.path), i.status]),
    [
      ['dns', 'example.com./www/A', 'changed', ['$.attributes.values[0]'], 'unexplained'],
      ['network', 'aws_security_group.web', 'changed', ['$.attributes.ingress'], 'unexplained'],
      // The bucket still has object_lock_enabled, but no default retention: mode and period are gone.
      ['storage', 'bucket:acme-backups', 'changed', ['$.attributes.definedBy', '$.attributes.objectLock.days', '$.attributes.objectLock.mode', '$.attributes.objectLock.years'], 'unexplained'],
    ],
  );
  const [dns, network, storage] = first.result.items;
  assert.deepEqual(dns!.changes[0], { path: '$.attributes.values[0]', before: '203.0.113.7', after: '198.51.100.9' });
  const opened = (network!.changes[0]!.after as { fromPort: number; toPort: number; cidrBlocks: string[] }[]).filter((rule) => !(network!.changes[0]!.before as unknown[]).some((old) => JSON.stringify(old) === JSON.stringify(rule)));
  assert.deepEqual(opened.map((rule) => [rule.fromPort, rule.toPort, rule.cidrBlocks]), [[22, 22, ['0.0.0.0/0']]]);
  assert.deepEqual(storage!.changes.find((c) => c.path === '$.attributes.objectLock.mode'), { path: '$.attributes.objectLock.mode', before: 'COMPLIANCE', after: null });
  assert.ok((storage!.changes[0]!.before as string[]).includes('aws_s3_bucket_object_lock_configuration.backups'));
  assert.equal((storage!.changes[0]!.after as string[]).includes('aws_s3_bucket_object_lock_configuration.backups'), false);
  assert.deepEqual(first.result.summary, { added: 0, removed: 0, changed: 3, explained: 0, unexplained: 3 });
  const driftAlerts = () => webhook.requests.map((r) => (JSON.parse(r.body) as { alert: { rule: string; summary: string; details: Record<string, unknown> } }).alert).filter((a) => a.rule === 'config-drift');
  await eventually('the webhook receives the drift alert', () => driftAlerts().length > 0, 60_000);
  assert.equal(driftAlerts()[0]!.details['unexplained'], 3);

  // ---- a change request for the DNS change: refused to its proposer, approved by bob ----
  const expectPath = join(dir, 'expect.json');
  // A change's target is the resource's whole state after it, which the collector itself gives: take it from `config collect`.
  const collected = JSON.parse((await runCommand(process.execPath, [holdfastCli, 'config', 'collect', '--zone', join(dir, 'example.com.zone'), '--json'], { expectExitCode: 0, timeoutMs: 30_000 })).stdout) as { items: { component: string; resourceId: string; kind: string; attributes: unknown }[] };
  const www = collected.items.find((i) => i.component === 'dns' && i.resourceId === 'example.com./www/A')!;
  assert.deepEqual((www.attributes as { values: string[] }).values, ['198.51.100.9']);
  await writeFile(expectPath, JSON.stringify({ changes: [{ component: 'dns', resourceId: www.resourceId, target: { kind: www.kind, attributes: www.attributes } }] }));
  const change = await json<{ id: string }>(alice, ['changes', 'propose', '--title', 'Move www to the new load balancer', '--risk', 'low', '--expect', expectPath, '--description', 'OPS-7']);
  const selfReview = await holdfast(vault, alice, ['changes', 'review', change.result.id, '--approve', '--comment', 'lgtm'], 3);
  assert.match(selfReview.stderr, /proposed by alice; a different identity must review it/);
  await json(bob, ['changes', 'review', change.result.id, '--approve', '--comment', 'LB address checked']);
  const second = await json<{ summary: Record<string, number>; items: DriftItem[] }>(alice, ['drift', 'check', ...sources], 4);
  assert.deepEqual(second.result.items.map((i) => [i.resourceId, i.status, i.coveredBy]), [['example.com./www/A', 'approved', change.result.id], ['aws_security_group.web', 'unexplained', null], ['bucket:acme-backups', 'unexplained', null]]);
  assert.deepEqual(second.result.summary, { added: 0, removed: 0, changed: 3, explained: 1, unexplained: 2 });
});

test('usage: --items with inputs, no inputs at all, and an unreadable sources file exit 2 and name the fix', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-config-drift-usage-'));
  teardown.removeDir(dir);
  const vault = await startVault();
  teardown.add(() => vault.stop());
  const root = rootKey(vault);
  await writeFile(join(dir, 'items.json'), JSON.stringify({ format: 'holdfast-config-items/1', collectedAt: '2026-11-26T12:00:00Z', inputs: [], items: [] }));
  const both = await holdfast(vault, root, ['drift', 'check', '--items', join(dir, 'items.json'), '--zone', join(dir, 'x.zone')], 2);
  assert.match(both.stderr, /--items sends a written collection; do not give inputs/);
  const none = await holdfast(vault, root, ['baseline', 'capture'], 2);
  assert.match(none.stderr, /no inputs: give --sources FILE/);
  const missing = await holdfast(vault, root, ['drift', 'check', '--sources', join(dir, 'nope.yaml')], 2);
  assert.match(missing.stderr, /--sources .*nope\.yaml: cannot read it \(ENOENT\)/);
});

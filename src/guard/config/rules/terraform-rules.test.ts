import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../../infra/clock.js';
import { bucket, PUBLIC_ACCESS_BLOCKED, stateV4, tlsOnlyPolicy } from '../../../../test/support/terraform-fixtures.js';
import type { ConfigItem } from '../config-item.js';
import { collectTerraform } from '../collectors/terraform-collector.js';
import { checkConfigItems } from './check-config-items.js';

const clock = new ManualClock(Date.UTC(2030, 5, 1));

function check(items: readonly ConfigItem[], backupBuckets?: string) {
  return checkConfigItems(items, { clock, ...(backupBuckets === undefined ? {} : { backupBuckets }) });
}

function ruleHits(items: readonly ConfigItem[], ruleId: string): string[] {
  return check(items)
    .filter((finding) => finding.ruleId === ruleId)
    .map((finding) => finding.resourceId)
    .sort();
}

const ingress = (from: number, to: number, protocol: string, cidrs: string[], ipv6: string[] = []) => ({ from_port: from, to_port: to, protocol, cidr_blocks: cidrs, ipv6_cidr_blocks: ipv6, security_groups: [], prefix_list_ids: [], self: false, description: '' });

describe('network rules on Terraform state v4', () => {
  const items = collectTerraform(
    stateV4([
      { type: 'aws_security_group', name: 'bastion', attributes: { id: 'sg-0a1', name: 'bastion', vpc_id: 'vpc-1', ingress: [ingress(22, 22, 'tcp', ['0.0.0.0/0'])], egress: [ingress(0, 0, '-1', ['0.0.0.0/0'])], tags: {} } },
      { type: 'aws_security_group', name: 'web', attributes: { id: 'sg-0b2', name: 'web', vpc_id: 'vpc-1', ingress: [ingress(443, 443, 'tcp', ['0.0.0.0/0'], ['::/0']), ingress(22, 22, 'tcp', ['10.0.0.0/8'])], egress: [], tags: {} } },
      { type: 'aws_security_group', name: 'legacy', attributes: { id: 'sg-0c3', name: 'legacy', vpc_id: 'vpc-1', ingress: [], egress: [], tags: {} } },
      { type: 'aws_security_group_rule', name: 'legacy_ssh_v6', attributes: { id: 'sgrule-1', type: 'ingress', security_group_id: 'sg-0c3', protocol: 'tcp', from_port: 20, to_port: 25, cidr_blocks: [], ipv6_cidr_blocks: ['::/0'], self: false } },
      { type: 'aws_vpc_security_group_ingress_rule', name: 'legacy_everything', attributes: { id: 'sgr-2', security_group_id: 'sg-0c3', ip_protocol: '-1', cidr_ipv4: '0.0.0.0/0', from_port: null, to_port: null } },
      { type: 'aws_vpc_security_group_ingress_rule', name: 'legacy_everything_v6', attributes: { id: 'sgr-6', security_group_id: 'sg-0c3', ip_protocol: '-1', cidr_ipv6: '::/0', from_port: null, to_port: null } },
      { type: 'aws_vpc_security_group_ingress_rule', name: 'web_https', attributes: { id: 'sgr-3', security_group_id: 'sg-0b2', ip_protocol: 'tcp', cidr_ipv4: '0.0.0.0/0', from_port: 443, to_port: 443 } },
      { type: 'aws_security_group_rule', name: 'full_tcp', attributes: { id: 'sgrule-4', type: 'ingress', security_group_id: 'sg-0b2', protocol: '6', from_port: 0, to_port: 65535, cidr_blocks: ['0.0.0.0/0'], self: false } },
      { type: 'aws_security_group_rule', name: 'egress_ssh', attributes: { id: 'sgrule-5', type: 'egress', security_group_id: 'sg-0b2', protocol: 'tcp', from_port: 22, to_port: 22, cidr_blocks: ['0.0.0.0/0'] } },
      {
        type: 'aws_network_acl',
        name: 'public',
        attributes: {
          id: 'acl-1',
          vpc_id: 'vpc-1',
          subnet_ids: ['subnet-b', 'subnet-a'],
          ingress: [
            { rule_no: 200, action: 'allow', protocol: '-1', cidr_block: '0.0.0.0/0', from_port: 0, to_port: 0 },
            { rule_no: 100, action: 'allow', protocol: 'tcp', cidr_block: '0.0.0.0/0', from_port: 22, to_port: 22 },
          ],
          egress: [],
        },
      },
      { type: 'aws_network_acl', name: 'guarded', attributes: { id: 'acl-2', vpc_id: 'vpc-1', ingress: [{ rule_no: 50, action: 'deny', protocol: 'tcp', cidr_block: '0.0.0.0/0', from_port: 22, to_port: 22 }, { rule_no: 100, action: 'allow', protocol: 'tcp', cidr_block: '0.0.0.0/0', from_port: 0, to_port: 1024 }], egress: [] } },
      { type: 'aws_network_acl_rule', name: 'ssh_in', attributes: { network_acl_id: 'acl-3', rule_number: 110, egress: false, protocol: '6', rule_action: 'allow', cidr_block: '0.0.0.0/0', from_port: 22, to_port: 22 } },
    ]),
    'infra/terraform.tfstate',
  ).items;

  test('SSH from 0.0.0.0/0 or ::/0 is reported for inline, aws_security_group_rule and NACL rules; a private CIDR and egress are not', () => {
    assert.deepEqual(ruleHits(items, 'network-ssh-open-to-world'), ['aws_network_acl.public', 'aws_network_acl_rule.ssh_in', 'aws_security_group.bastion', 'aws_security_group_rule.legacy_ssh_v6']);
  });

  test('all ports (protocol -1, or tcp 0-65535) from 0.0.0.0/0 or ::/0 is its own finding, not also an SSH one', () => {
    assert.deepEqual(ruleHits(items, 'network-all-ports-open-to-world'), ['aws_security_group_rule.full_tcp', 'aws_vpc_security_group_ingress_rule.legacy_everything', 'aws_vpc_security_group_ingress_rule.legacy_everything_v6']);
  });

  test('rules are normalized: protocol names, sorted sets, the group a separate rule belongs to', () => {
    const rule = items.find((item) => item.resourceId === 'aws_security_group_rule.full_tcp')!;
    assert.equal(rule.attributes.protocol, 'tcp');
    assert.equal(rule.attributes.securityGroup, 'aws_security_group.web');
    const acl = items.find((item) => item.resourceId === 'aws_network_acl.public')!;
    assert.deepEqual(acl.attributes.subnetIds, ['subnet-a', 'subnet-b']);
    assert.deepEqual((acl.attributes.ingress as Array<{ ruleNo: number }>).map((entry) => entry.ruleNo), [100, 200]);
    const everything = items.find((item) => item.resourceId === 'aws_vpc_security_group_ingress_rule.legacy_everything')!;
    assert.equal(everything.attributes.protocol, 'all');
    assert.equal(everything.attributes.fromPort, null);
  });
});

describe('S3 buckets joined from split resources and legacy inline blocks', () => {
  const wormPolicy = tlsOnlyPolicy('acme-backups');
  const items = collectTerraform(
    stateV4([
      // Provider v4+: every setting in its own resource; the bucket's inline blocks are stale defaults.
      { type: 'aws_s3_bucket', name: 'backups', attributes: bucket('acme-backups', { object_lock_enabled: true }) },
      { type: 'aws_s3_bucket_versioning', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', versioning_configuration: [{ status: 'Enabled', mfa_delete: '' }] } },
      { type: 'aws_s3_bucket_object_lock_configuration', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', object_lock_enabled: 'Enabled', rule: [{ default_retention: [{ mode: 'COMPLIANCE', days: 35, years: 0 }] }] } },
      { type: 'aws_s3_bucket_public_access_block', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', ...PUBLIC_ACCESS_BLOCKED } },
      { type: 'aws_s3_bucket_policy', name: 'backups', attributes: { id: 'acme-backups', bucket: 'acme-backups', policy: wormPolicy } },
      // Provider v3 style: inline blocks, governance mode, no public access block.
      {
        type: 'aws_s3_bucket',
        name: 'legacy',
        attributes: bucket('acme-db-backup-legacy', {
          versioning: [{ enabled: false, mfa_delete: false }],
          object_lock_configuration: [{ object_lock_enabled: 'Enabled', rule: [{ default_retention: [{ mode: 'GOVERNANCE', days: 7, years: 0 }] }] }],
          acl: 'public-read',
        }),
      },
      // Not a backup bucket by name, but tagged as one; versioned inline, no lock.
      { type: 'aws_s3_bucket', name: 'tagged', attributes: bucket('acme-exports', { tags: { purpose: 'backup' }, versioning: [{ enabled: true, mfa_delete: false }] }) },
      { type: 'aws_s3_bucket_public_access_block', name: 'tagged', attributes: { bucket: 'acme-exports', ...PUBLIC_ACCESS_BLOCKED, restrict_public_buckets: false } },
      { type: 'aws_s3_bucket', name: 'assets', attributes: bucket('acme-assets') },
    ]),
    'infra/terraform.tfstate',
  ).items;

  test('a bucket whose versioning, lock, public access block and policy are separate resources has no finding', () => {
    const findings = check(items).filter((finding) => finding.resourceId === 'bucket:acme-backups');
    assert.deepEqual(findings, []);
    const joined = items.find((item) => item.resourceId === 'bucket:acme-backups')!;
    assert.equal(joined.attributes.versioning, 'Enabled');
    assert.deepEqual(joined.attributes.objectLock, { days: 35, enabled: true, mode: 'COMPLIANCE', years: 0 });
    assert.deepEqual(joined.attributes.definedBy, ['aws_s3_bucket.backups', 'aws_s3_bucket_object_lock_configuration.backups', 'aws_s3_bucket_policy.backups', 'aws_s3_bucket_public_access_block.backups', 'aws_s3_bucket_versioning.backups']);
  });

  test('legacy inline settings are read: unversioned, governance-mode lock, public ACL and no policy are each reported', () => {
    const findings = check(items).filter((finding) => finding.resourceId === 'bucket:acme-db-backup-legacy');
    assert.deepEqual(findings.map((finding) => finding.ruleId).sort(), ['backup-bucket-compliance-lock', 'backup-bucket-versioning', 'bucket-policy-not-tls-only', 'bucket-public-access-not-blocked']);
    assert.match(findings.find((finding) => finding.ruleId === 'backup-bucket-compliance-lock')!.evidence, /GOVERNANCE mode for 7 days/);
    assert.match(findings.find((finding) => finding.ruleId === 'bucket-public-access-not-blocked')!.evidence, /no public access block.*public-read/);
  });

  test('a bucket tagged as a backup bucket is one; one flag of four off is reported by name', () => {
    const findings = check(items).filter((finding) => finding.resourceId === 'bucket:acme-exports');
    assert.deepEqual(findings.map((finding) => finding.ruleId).sort(), ['backup-bucket-compliance-lock', 'bucket-policy-not-tls-only', 'bucket-public-access-not-blocked']);
    assert.match(findings.find((finding) => finding.ruleId === 'bucket-public-access-not-blocked')!.evidence, /restrictPublicBuckets is not true/);
  });

  test('the backup pattern is configurable; an ordinary bucket is not held to the backup rules', () => {
    assert.deepEqual(ruleHits(items, 'backup-bucket-versioning'), ['bucket:acme-db-backup-legacy']);
    const custom = checkConfigItems(items, { clock, backupBuckets: '^acme-assets$' }).filter((finding) => finding.ruleId.startsWith('backup-bucket'));
    assert.deepEqual([...new Set(custom.map((finding) => finding.resourceId))], ['bucket:acme-assets']);
  });
});

describe('TLS-only bucket policies', () => {
  const statement = (effect: string, condition: unknown) => ({ Effect: effect, Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'], ...(condition === undefined ? {} : { Condition: condition }) });
  const policy = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const items = collectTerraform(
    stateV4([
      { type: 'aws_s3_bucket', name: 'tls', attributes: bucket('acme-tls') },
      { type: 'aws_s3_bucket_policy', name: 'tls', attributes: { bucket: 'acme-tls', policy: tlsOnlyPolicy('acme-tls') } },
      // A policy that grants reads but refuses nothing over plain HTTP.
      { type: 'aws_s3_bucket', name: 'reads', attributes: bucket('acme-reads') },
      { type: 'aws_s3_bucket_policy', name: 'reads', attributes: { bucket: 'acme-reads', policy: policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:role/reader' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme-reads/*' }) } },
      // The Deny is conditioned the wrong way round (SecureTransport true) or is an Allow.
      { type: 'aws_s3_bucket', name: 'inverted', attributes: bucket('acme-inverted', { policy: policy(statement('Deny', { Bool: { 'aws:SecureTransport': 'true' } }), statement('Allow', { Bool: { 'aws:SecureTransport': 'false' } })) }) },
    ]),
    'tls.tfstate',
  ).items;

  test('a policy without a Deny of aws:SecureTransport = false is reported with what it lacks; the documented pattern is not', () => {
    const findings = check(items).filter((finding) => finding.ruleId === 'bucket-policy-not-tls-only');
    assert.deepEqual(findings.map((finding) => finding.resourceId).sort(), ['bucket:acme-inverted', 'bucket:acme-reads']);
    assert.match(findings.find((finding) => finding.resourceId === 'bucket:acme-reads')!.evidence, /the policy of bucket acme-reads has no Deny for aws:SecureTransport = false/);
    assert.match(findings[0]!.fix, /"aws:SecureTransport": "false"/);
  });
});

describe('IAM policies with their JSON parsed', () => {
  const admin = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
  const scoped = JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::acme-backups/*' } });
  const denyAll = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }] });
  const items = collectTerraform(
    stateV4([
      { type: 'aws_iam_policy', name: 'admin', attributes: { name: 'admin', path: '/', arn: 'arn:aws:iam::1:policy/admin', policy: admin } },
      { type: 'aws_iam_policy', name: 'writer', attributes: { name: 'backup-writer', path: '/', policy: scoped } },
      { type: 'aws_iam_policy', name: 'deny', attributes: { name: 'deny', policy: denyAll } },
      { type: 'aws_iam_role_policy', name: 'ci', attributes: { name: 'ci', role: 'ci', policy: JSON.stringify({ Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: ['*:*'], Resource: ['*'] }] }) } },
      { type: 'aws_iam_role', name: 'ops', attributes: { name: 'ops', assume_role_policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }), inline_policy: [{ name: 'break-glass', policy: admin }], managed_policy_arns: [] } },
      { type: 'aws_iam_policy_document', name: 'wide', mode: 'data', attributes: { id: '1', json: admin, statement: [] } },
      { type: 'aws_iam_policy_document', name: 'narrow', mode: 'data', module: 'module.backup', attributes: { id: '2', json: scoped } },
    ]),
    'iam.tfstate',
  ).items;

  test('Allow of "*" (or "*:*") on "*" is reported wherever the policy lives; Deny and scoped policies are not', () => {
    assert.deepEqual(ruleHits(items, 'iam-wildcard-admin'), ['aws_iam_policy.admin', 'aws_iam_role.ops', 'aws_iam_role_policy.ci', 'data.aws_iam_policy_document.wide']);
  });

  test('one-or-many fields become sorted sets, so the same policy written two ways is equal', () => {
    const writer = items.find((item) => item.resourceId === 'aws_iam_policy.writer')!;
    const narrow = items.find((item) => item.resourceId === 'module.backup.data.aws_iam_policy_document.narrow')!;
    assert.deepEqual(writer.attributes.document, narrow.attributes.document);
    assert.deepEqual((writer.attributes.document as { statements: Array<{ actions: string[] }> }).statements[0]!.actions, ['s3:GetObject', 's3:PutObject']);
  });
});

describe('terraform show -json of a plan', () => {
  // The bucket's id is unknown until apply; the split resources' `bucket` is therefore missing from
  // planned_values and the configuration's references say which bucket they belong to.
  const plan = {
    format_version: '1.2',
    terraform_version: '1.7.5',
    planned_values: {
      root_module: {
        child_modules: [
          {
            address: 'module.vault',
            resources: [
              { address: 'module.vault.aws_s3_bucket.wal', mode: 'managed', type: 'aws_s3_bucket', name: 'wal', provider_name: 'registry.terraform.io/hashicorp/aws', schema_version: 0, values: { bucket: 'acme-wal-backup', force_destroy: false, object_lock_enabled: true, tags: null }, sensitive_values: {} },
              { address: 'module.vault.aws_s3_bucket_versioning.wal', mode: 'managed', type: 'aws_s3_bucket_versioning', name: 'wal', values: { expected_bucket_owner: null, mfa: null, versioning_configuration: [{ status: 'Enabled' }] }, sensitive_values: {} },
              { address: 'module.vault.aws_s3_bucket_object_lock_configuration.wal', mode: 'managed', type: 'aws_s3_bucket_object_lock_configuration', name: 'wal', values: { object_lock_enabled: 'Enabled', rule: [{ default_retention: [{ mode: 'COMPLIANCE', days: 14, years: null }] }] }, sensitive_values: {} },
              { address: 'module.vault.aws_s3_bucket_public_access_block.wal', mode: 'managed', type: 'aws_s3_bucket_public_access_block', name: 'wal', values: PUBLIC_ACCESS_BLOCKED, sensitive_values: {} },
              { address: 'module.vault.aws_s3_bucket_policy.wal', mode: 'managed', type: 'aws_s3_bucket_policy', name: 'wal', values: { policy: tlsOnlyPolicy('acme-wal-backup') }, sensitive_values: {} },
            ],
          },
        ],
        resources: [{ address: 'aws_security_group.db', mode: 'managed', type: 'aws_security_group', name: 'db', values: { name: 'db', ingress: [ingress(22, 22, 'tcp', ['0.0.0.0/0'])], egress: [] }, sensitive_values: {} }],
      },
    },
    resource_changes: [
      { address: 'aws_security_group.db', mode: 'managed', type: 'aws_security_group', name: 'db', change: { actions: ['create'], before: null, after: {}, after_unknown: { id: true } } },
      { address: 'aws_s3_bucket.old', mode: 'managed', type: 'aws_s3_bucket', name: 'old', change: { actions: ['delete'], before: bucket('acme-old-backup'), after: null } },
    ],
    configuration: {
      root_module: {
        module_calls: {
          vault: {
            source: './modules/vault',
            module: {
              resources: [
                { address: 'aws_s3_bucket.wal', mode: 'managed', type: 'aws_s3_bucket', name: 'wal', expressions: { bucket: { constant_value: 'acme-wal-backup' } } },
                { address: 'aws_s3_bucket_versioning.wal', mode: 'managed', type: 'aws_s3_bucket_versioning', name: 'wal', expressions: { bucket: { references: ['aws_s3_bucket.wal.id', 'aws_s3_bucket.wal'] } } },
                { address: 'aws_s3_bucket_object_lock_configuration.wal', mode: 'managed', type: 'aws_s3_bucket_object_lock_configuration', name: 'wal', expressions: { bucket: { references: ['aws_s3_bucket.wal.id', 'aws_s3_bucket.wal'] } } },
                { address: 'aws_s3_bucket_public_access_block.wal', mode: 'managed', type: 'aws_s3_bucket_public_access_block', name: 'wal', expressions: { bucket: { references: ['aws_s3_bucket.wal.id', 'aws_s3_bucket.wal'] } } },
                { address: 'aws_s3_bucket_policy.wal', mode: 'managed', type: 'aws_s3_bucket_policy', name: 'wal', expressions: { bucket: { references: ['aws_s3_bucket.wal.id', 'aws_s3_bucket.wal'] } } },
              ],
            },
          },
        },
      },
    },
  };

  test('split resources with unknown bucket ids are joined through configuration references: no false positive', () => {
    const { document, items } = collectTerraform(JSON.stringify(plan), 'plan.json');
    assert.equal(document.shape, 'show-plan');
    const wal = items.find((item) => item.resourceId === 'bucket:acme-wal-backup')!;
    assert.equal(wal.attributes.versioning, 'Enabled');
    assert.equal(items.some((item) => item.resourceId.includes('acme-old-backup')), false, 'a bucket the plan deletes is not an item');
    assert.deepEqual(check(items).map((finding) => `${finding.ruleId} ${finding.resourceId}`), ['network-ssh-open-to-world aws_security_group.db']);
  });

  test('the same configuration as a state and as `terraform show -json` of that state gives equal items', () => {
    const resources = [{ type: 'aws_security_group', name: 'db', attributes: { id: 'sg-1', name: 'db', ingress: [ingress(5432, 5432, 'tcp', ['10.0.0.0/8'])], egress: [], tags: {} } }];
    const fromState = collectTerraform(stateV4(resources), 'x').items;
    const show = { format_version: '1.0', terraform_version: '1.7.5', values: { root_module: { resources: [{ address: 'aws_security_group.db', mode: 'managed', type: 'aws_security_group', name: 'db', values: resources[0]!.attributes }] } } };
    assert.deepEqual(collectTerraform(JSON.stringify(show), 'x').items, fromState);
  });

  test('an older state version and HCL are refused with what to pass instead', () => {
    assert.throws(() => collectTerraform(JSON.stringify({ version: 3, modules: [] }), 'old.tfstate'), /state version 3 is not supported/);
    assert.throws(() => collectTerraform('resource "aws_s3_bucket" "x" {}', 'main.tf'), /not JSON.*not HCL/);
  });
});

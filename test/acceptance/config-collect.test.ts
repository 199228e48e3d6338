import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { CreateBucketCommand, PutBucketPolicyCommand, PutBucketVersioningCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { ConfigCollection } from '../../src/guard/config/config-item.js';
import { holdfast, holdfastCli, rootKey } from '../support/admin-cli.js';
import { sdkClient } from '../support/sdk-client.js';
import { Teardown } from '../support/teardown.js';
import { bucket, stateV4 } from '../support/terraform-fixtures.js';
import { runCommand } from '../support/tools.js';
import { startVault, type RunningVault } from '../support/vault-server.js';

/**
 * `holdfast config collect|check` from outside, as a team runs it: live items from a running vault
 * (S3 and admin API) and from the PostgreSQL server at 127.0.0.1:5432, plus files named in a
 * sources file; exit code 4 on findings; no secret value in any output.
 */
const PG_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
// Built at run time so this file itself holds no credential-shaped literal (repository-secrets.test.ts).
const SECRET = ['ghp', 'R8mT2vQ9xL4nW7cK1pZ6yB3dF5hJ0sA8uE2i'].join('_');
const teardown = new Teardown();
let vault: RunningVault;
let s3: S3Client;
let dir: string;

before(async () => {
  vault = await startVault();
  teardown.add(() => vault.stop());
  s3 = sdkClient(vault);
  teardown.add(() => s3.destroy());
  dir = await mkdtemp(join(tmpdir(), 'holdfast-config-cli-'));
  teardown.removeDir(dir);
  // app-backups: versioned, compliance-locked; logs-backup: versioned only; assets: not a backup bucket.
  await s3.send(new CreateBucketCommand({ Bucket: 'app-backups', ObjectLockEnabledForBucket: true }));
  await s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'app-backups', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 7 } } } }));
  await s3.send(new CreateBucketCommand({ Bucket: 'logs-backup' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'logs-backup', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new CreateBucketCommand({ Bucket: 'assets' }));
  // Written with one-or-many fields out of order: the collector parses the JSON into a canonical document.
  const readAssets = { Sid: 'ReadAssets', Effect: 'Allow', Principal: { AWS: 'arn:holdfast:iam:::user/reader' }, Action: ['s3:ListBucket', 's3:GetObject'], Resource: ['arn:aws:s3:::assets/*', 'arn:aws:s3:::assets'] };
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'assets', Policy: JSON.stringify({ Version: '2012-10-17', Statement: [readAssets] }) }));
  await holdfast(vault, rootKey(vault), ['admin', 'buckets', 'set-retention-bounds', 'app-backups', '--max-days', '90']);
});
after(() => teardown.run());

async function postgresReachable(t: TestContext): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at 127.0.0.1:5432 is not reachable (${(error as Error).message}); .ci/run starts it`, { cause: error });
    t.skip('PostgreSQL is not running at 127.0.0.1:5432');
    return false;
  }
}

function config(args: readonly string[], expectExitCode: number | 'any' = 'any') {
  return runCommand(process.execPath, [holdfastCli, 'config', ...args], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey, PGCONNECT_TIMEOUT: '5' },
    expectExitCode,
    timeoutMs: 60_000,
    cwd: dir,
  });
}

test('live collection: a vault\'s buckets over S3 and the admin API, and PostgreSQL\'s settings', { timeout: 90_000 }, async (t) => {
  if (!(await postgresReachable(t))) return;
  const out = join(dir, 'items.json');
  const run = await config(['collect', '--vault-endpoint', vault.endpoint, '--vault-name', 'main', '--postgres', PG_URL, '--out', out], 0);
  t.diagnostic(`collect took ${run.durationMs.toFixed(0)} ms`);
  const collection = JSON.parse(await readFile(out, 'utf8')) as ConfigCollection;
  assert.equal(collection.format, 'holdfast-config-items/1');
  const byId = new Map(collection.items.map((item) => [item.resourceId, item.attributes]));
  assert.deepEqual(byId.get('vault:main/app-backups'), {
    name: 'app-backups',
    objectLock: { days: 7, enabled: true, mode: 'COMPLIANCE', years: null },
    policy: null,
    protected: false,
    retentionBounds: { maxDays: 90 },
    versioning: 'Enabled',
  });
  assert.equal(byId.get('vault:main/assets')!.versioning, 'Disabled');
  assert.deepEqual(byId.get('vault:main/assets')!.policy, {
    statements: [{ actions: ['s3:GetObject', 's3:ListBucket'], effect: 'Allow', notActions: [], notResources: [], principals: { AWS: ['arn:holdfast:iam:::user/reader'] }, resources: ['arn:aws:s3:::assets', 'arn:aws:s3:::assets/*'], sid: 'ReadAssets' }],
    version: '2012-10-17',
  });
  assert.equal(byId.get('postgresql:127.0.0.1:5432/ssl')!.value, 'off');
  assert.equal(byId.get('postgresql:127.0.0.1:5432/password_encryption')!.value, 'scram-sha-256');
  const hba = byId.get('postgresql:127.0.0.1:5432/hba')!;
  assert.equal(hba.readable, true);
  assert.ok(Array.isArray(hba.rules) && hba.rules.length > 0);
  assert.ok((byId.get('postgresql:127.0.0.1:5432/roles')!.superusers as string[]).includes('postgres'));
  assert.deepEqual(collection.inputs.map((input) => input.kind), ['vault', 'postgresql']);
  assert.equal(collection.inputs[1]!.location, 'postgresql://127.0.0.1:5432/postgres');

  // check --items judges the written collection: the unlocked backup bucket and the server's trust lines.
  const check = await config(['check', '--items', out, '--json'], 4);
  const report = JSON.parse(check.stdout) as { findings: Array<{ ruleId: string; resourceId: string; severity: string }> };
  const hits = report.findings.map((finding) => `${finding.ruleId} ${finding.resourceId}`);
  assert.ok(hits.includes('backup-bucket-compliance-lock vault:main/logs-backup'), hits.join('\n'));
  assert.equal(hits.some((hit) => hit.includes('vault:main/app-backups') || hit.includes('vault:main/assets')), false, hits.join('\n'));
  assert.ok(hits.includes('postgres-trust-auth postgresql:127.0.0.1:5432/hba'), hits.join('\n'));
  assert.ok(hits.includes('postgres-ssl-off postgresql:127.0.0.1:5432/ssl'), hits.join('\n'));
});

test('a sources file: files and suppressions; table, JSON and SARIF; exit 0 when clean, 4 with findings; values never printed', { timeout: 60_000 }, async () => {
  await writeFile(join(dir, '.env.production'), `DATABASE_URL=postgres://app@db:5432/app\nGITHUB_TOKEN=${SECRET}\nADMIN_PASSWORD=changeme\n`);
  await writeFile(join(dir, 'example.com.zone'), '$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\nwww IN A 192.0.2.1\n');
  await writeFile(
    join(dir, 'terraform.tfstate'),
    stateV4([
      { type: 'aws_security_group', name: 'bastion', attributes: { id: 'sg-1', name: 'bastion', ingress: [{ from_port: 22, to_port: 22, protocol: 'tcp', cidr_blocks: ['0.0.0.0/0'] }], egress: [] } },
      { type: 'aws_s3_bucket', name: 'site', attributes: bucket('acme-site') },
    ]),
  );
  await writeFile(
    join(dir, 'holdfast-sources.yaml'),
    `version: 1
terraform: [terraform.tfstate]
zones: [{ path: example.com.zone, origin: example.com }]
env: [{ path: .env.production, name: production }]
suppressions:
  - { rule: bucket-policy-not-tls-only, resource: "bucket:acme-*", reason: "static site behind CloudFront", owner: web@example.org, expires: "2999-12-31" }
`,
  );
  const table = await config(['check', '--sources', 'holdfast-sources.yaml'], 4);
  assert.match(table.stdout, /critical\s+network-ssh-open-to-world\s+network aws_security_group\.bastion/);
  assert.match(table.stdout, /env-default-credential\s+environment production\/ADMIN_PASSWORD/);
  assert.match(table.stdout, /Suppressed:\n {2}bucket-policy-not-tls-only bucket:acme-site until 2999-12-31/);
  const json = await config(['check', '--sources', 'holdfast-sources.yaml', '--json', '--sarif', 'config.sarif'], 4);
  const sarif = JSON.parse(await readFile(join(dir, 'config.sarif'), 'utf8')) as { runs: Array<{ results: Array<{ ruleId: string; suppressions?: unknown[] }> }> };
  assert.ok(sarif.runs[0]!.results.some((result) => result.ruleId === 'bucket-policy-not-tls-only' && result.suppressions !== undefined));
  const collected = await config(['collect', '--sources', 'holdfast-sources.yaml', '--json'], 0);
  for (const output of [table.stdout, table.stderr, json.stdout, collected.stdout, JSON.stringify(sarif)]) {
    assert.equal(output.includes(SECRET), false, 'the token leaked');
    assert.equal(output.includes('changeme'), false, 'the default password leaked');
  }
  // Clean inputs: only the zone and a safe env set.
  await writeFile(join(dir, 'clean.env'), 'LOG_LEVEL=info\n');
  const clean = await config(['check', '--zone', 'example.com.zone:example.com', '--env', 'clean.env'], 0);
  assert.match(clean.stdout, /^0 finding\(s\)/m);
});

test('usage errors exit 2 and name the fix; an unreadable input exits 1 and names it', { timeout: 30_000 }, async () => {
  assert.match((await config(['check'], 2)).stderr, /no inputs: give --sources FILE/);
  assert.match((await config(['collect', '--postgres', `postgresql://postgres:${'hunter2'}@127.0.0.1/postgres`], 2)).stderr, /PGPASSWORD/);
  const missing = await config(['collect', '--terraform', 'nope.tfstate'], 1);
  assert.match(missing.stderr, /terraform nope\.tfstate: no such file or directory/);
});

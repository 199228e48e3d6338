import assert from 'node:assert/strict';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { holdfastCli, type KeyPair, rootKey } from '../support/admin-cli.js';
import { Teardown } from '../support/teardown.js';
import { requireTool, runCommand } from '../support/tools.js';
import { REGION, type RunningVault, startVault } from '../support/vault-server.js';
import { switchAndArchive } from './pg-test-kit.js';
import { PG_BIN, startThrowawayCluster } from './throwaway-cluster.js';

/**
 * A pg-base-backup job drilled inside a vault that serves HTTPS with a self-signed certificate
 * (`holdfast cert`): the scratch cluster's restore_command (`holdfast pg wal-fetch`, run by the
 * postgres OS user) must trust that certificate. The server itself is given no AWS_CA_BUNDLE, so
 * only the bundle the drill hands to the cluster can make it pass.
 */
interface DrillRecord {
  outcome: string;
  reason?: string;
  checks: { name: string; outcome: string; detail: string }[];
  rtoSeconds: number | null;
}

const teardown = new Teardown();
after(() => teardown.run());

test('over https with a self-signed certificate, a pg-base-backup drill fetches WAL trusting the vault certificate and passes', { timeout: 300_000 }, async (t) => {
  if (!(await requireTool(t, join(PG_BIN, 'pg_amcheck'), ['--version'], 'postgresql-15'))) return;
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-pg-tls-drill-'));
  teardown.removeDir(dir);
  // The postgres OS user runs archive_command: it reads the files below.
  await chmod(dir, 0o755);
  const made = JSON.parse((await runCommand(process.execPath, [holdfastCli, 'cert', '--out', join(dir, 'tls'), '--json'])).stdout) as { certFile: string; keyFile: string };
  const caFile = join(dir, 'ca.pem');
  await copyFile(made.certFile, caFile);
  await chmod(caFile, 0o644);
  const ca = await readFile(caFile, 'utf8');
  const bucket = 'pg-tls-drill';
  const secret = (name: string) => `"$(cat ${join(dir, name)})"`;
  const archiveCommand = `AWS_CA_BUNDLE=${caFile} AWS_ACCESS_KEY_ID=${secret('key-id')} AWS_SECRET_ACCESS_KEY=${secret('key-secret')} '${process.execPath}' '${holdfastCli}' pg wal-push %p --repo s3://${bucket}/main --endpoint ${secret('endpoint')}`;
  const pg = await startThrowawayCluster({ settings: { archive_mode: 'on', archive_command: archiveCommand, wal_level: 'replica' } });
  teardown.add(() => pg.stop());
  await pg.query('CREATE TABLE orders (id int PRIMARY KEY)');
  await pg.query('INSERT INTO orders SELECT generate_series(1, 1000)');

  const config = join(dir, 'holdfast.json');
  const scratch = join(dir, 'scratch');
  await mkdir(scratch, { mode: 0o755 });
  await writeFile(
    config,
    JSON.stringify({
      jobs: [
        {
          name: 'pg-tls',
          source: { kind: 'pg-base-backup', connection: `host=127.0.0.1 port=${pg.port} user=postgres dbname=postgres` },
          schedule: '@daily',
          destination: { bucket, prefix: 'main' },
          drill: { scratchDirectory: scratch, probes: [{ name: 'orders', sql: 'SELECT count(*) = 1100 FROM orders' }] },
        },
      ],
    }),
  );
  // AWS_CA_BUNDLE empty in the server's environment: whatever the test runner has must not help.
  const vault: RunningVault = await startVault({ env: { HOLDFAST_CONFIG: config, HOLDFAST_AUDIT_LOG_STREAM: 'none', HOLDFAST_TLS_CERT_FILE: made.certFile, HOLDFAST_TLS_KEY_FILE: made.keyFile, AWS_CA_BUNDLE: '' }, ca });
  teardown.add(() => vault.stop());
  assert.match(vault.endpoint, /^https:/);
  const cli = async (key: KeyPair, args: readonly string[], code: number | 'any' = 0) =>
    runCommand(process.execPath, [holdfastCli, ...args, '--endpoint', vault.endpoint], { env: { ...process.env, AWS_CA_BUNDLE: caFile, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey }, expectExitCode: code, timeoutMs: 120_000 });
  const root = rootKey(vault);
  const sdk = new S3Client({ endpoint: vault.endpoint, region: REGION, forcePathStyle: true, credentials: root, maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }) });
  teardown.add(() => sdk.destroy());
  await sdk.send(new CreateBucketCommand({ Bucket: bucket }));
  await cli(root, ['admin', 'users', 'create', 'wal-writer', '--role', 'backup-writer', '--service', '--json']);
  const writer = JSON.parse((await cli(root, ['admin', 'keys', 'create', 'wal-writer', '--json'])).stdout) as KeyPair;
  for (const [name, value] of [['key-id', writer.accessKeyId], ['key-secret', writer.secretAccessKey], ['endpoint', vault.endpoint]] as const) await writeFile(join(dir, name), value, { mode: 0o644 });

  const ran = JSON.parse((await cli(root, ['jobs', 'run', 'pg-tls', '--json'])).stdout) as { run: { outcome: string; error: string | null } };
  assert.equal(ran.run.outcome, 'succeeded', ran.run.error ?? '');
  // Rows only in WAL after the backup: the probe passes only if wal-fetch read them over https.
  await pg.query('INSERT INTO orders SELECT generate_series(1001, 1100)');
  await switchAndArchive(pg);

  const drilled = await cli(root, ['drill', 'run', 'pg-tls', '--json'], 'any');
  const record = JSON.parse(drilled.stdout) as DrillRecord;
  assert.equal(record.outcome, 'passed', JSON.stringify(record, null, 2));
  assert.deepEqual(record.checks.map((c) => [c.name, c.outcome]), [
    ['restore', 'passed'],
    ['recovery', 'passed'],
    ['pg_amcheck', 'passed'],
    ['probe orders', 'passed'],
  ]);
  assert.deepEqual(await readdir(scratch), [], 'the scratch cluster and its copy of the certificate are removed');
  t.diagnostic(`pg drill over https: RTO ${record.rtoSeconds} s`);
  await rm(join(dir, 'key-secret'), { force: true });
});

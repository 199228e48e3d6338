import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { holdfastCli } from '../support/admin-cli.js';
import { requireTool, runCommand } from '../support/tools.js';
import { REGION, type RunningVault, startVault } from '../support/vault-server.js';

/**
 * Transport: `holdfast cert` makes a certificate, the server serves HTTPS with it, real clients
 * (the AWS SDK, aws-cli) trust it through their usual CA settings; plain HTTP on an address other
 * machines can reach is refused. Metrics: the Prometheus endpoint counts what happened.
 */
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
let dir: string;
let ca: string;
let vault: RunningVault;
let s3: S3Client;
let serverStdout = '';

function httpsText(url: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString('utf8') }));
    }).on('error', reject);
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-tls-'));
  const made = await runCommand(process.execPath, [holdfastCli, 'cert', '--out', join(dir, 'tls'), '--json']);
  const files = JSON.parse(made.stdout) as { certFile: string; keyFile: string };
  ca = await readFile(files.certFile, 'utf8');
  vault = await startVault({ env: { HOLDFAST_TLS_CERT_FILE: files.certFile, HOLDFAST_TLS_KEY_FILE: files.keyFile }, ca });
  vault.process.stdout?.on('data', (chunk: Buffer) => {
    serverStdout += chunk.toString('utf8');
  });
  s3 = new S3Client({
    endpoint: vault.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: vault.accessKeyId, secretAccessKey: vault.secretAccessKey },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }),
  });
});

after(async () => {
  s3?.destroy();
  await vault?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the vault serves HTTPS with a holdfast cert certificate; the AWS SDK and aws-cli trust it via their CA settings; requests are JSON lines on stdout', { timeout: 60_000 }, async (t) => {
  assert.match(vault.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  await s3.send(new CreateBucketCommand({ Bucket: 'over-tls' }));
  const body = Buffer.from('encrypted in transit');
  await s3.send(new PutObjectCommand({ Bucket: 'over-tls', Key: 'k', Body: body, ContentMD5: createHash('md5').update(body).digest('base64') }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'over-tls', Key: 'k' }));
  assert.equal(await got.Body?.transformToString(), 'encrypted in transit');
  // The default audit stream: one JSON object per line on the server's stdout (read raw here:
  // the helper's output tail is for failure messages, its prefixes can land mid-line).
  let line: string | undefined;
  const deadline = Date.now() + 5_000;
  while (line === undefined && Date.now() < deadline) {
    line = serverStdout.split('\n').find((l) => l.includes('"type":"audit"') && l.includes('"action":"PutObject"'));
    if (line === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.ok(line, 'the upload appears on stdout as an audit line');
  const entry = JSON.parse(line) as { resource: string; result: string; hash: string };
  assert.equal(entry.resource, 'over-tls/k');
  assert.equal(entry.result, 'ok');
  assert.match(entry.hash, /^[0-9a-f]{64}$/);

  if (!(await requireTool(t, '/usr/bin/aws', ['--version']))) return;
  const awsEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: vault.accessKeyId,
    AWS_SECRET_ACCESS_KEY: vault.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CA_BUNDLE: join(dir, 'tls', 'holdfast.crt'),
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  };
  const listed = await runCommand('/usr/bin/aws', ['s3', 'ls', 's3://over-tls/', '--endpoint-url', vault.endpoint], { env: awsEnv });
  assert.match(listed.stdout, / k$/m);
  // Without our certificate in the bundle (the system's public CAs only) the connection is refused.
  // (An empty AWS_CA_BUNDLE would not do: botocore reads '' as "do not verify".)
  const { AWS_CA_BUNDLE: _, ...withoutBundle } = awsEnv;
  const untrusted = await runCommand('/usr/bin/aws', ['s3', 'ls', 's3://over-tls/', '--endpoint-url', vault.endpoint], {
    env: existsSync(SYSTEM_BUNDLE) ? { ...withoutBundle, AWS_CA_BUNDLE: SYSTEM_BUNDLE } : withoutBundle,
    expectExitCode: 'any',
  });
  assert.notEqual(untrusted.code, 0);
  assert.match(untrusted.stderr, /SSL|certificate/i);
});

test('holdfast admin talks to an HTTPS server with --ca-bundle', { timeout: 30_000 }, async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: vault.accessKeyId, AWS_SECRET_ACCESS_KEY: vault.secretAccessKey };
  delete env['AWS_CA_BUNDLE'];
  const listed = await runCommand(process.execPath, [holdfastCli, 'admin', 'buckets', 'list', '--endpoint', vault.endpoint, '--ca-bundle', join(dir, 'tls', 'holdfast.crt'), '--json'], { env });
  assert.deepEqual((JSON.parse(listed.stdout) as { buckets: Array<{ name: string }> }).buckets.map((b) => b.name), ['holdfast-system-audit', 'holdfast-system-evidence', 'over-tls']);
  const untrusted = await runCommand(process.execPath, [holdfastCli, 'admin', 'buckets', 'list', '--endpoint', vault.endpoint], { env, expectExitCode: 1 });
  assert.match(untrusted.stderr, /self-signed certificate|certificate/i);
});

test('plain HTTP on a non-loopback address is refused at start-up, naming the fix', { timeout: 30_000 }, async () => {
  const data = join(dir, 'refused');
  const refused = await runCommand(process.execPath, [holdfastCli, 'server', '--data', data, '--listen', '0.0.0.0:0'], {
    env: { ...process.env, HOLDFAST_ROOT_ACCESS_KEY_ID: vault.accessKeyId, HOLDFAST_ROOT_SECRET_ACCESS_KEY: vault.secretAccessKey },
    expectExitCode: 2,
  });
  assert.match(refused.stderr, /Refusing to serve plain HTTP on 0\.0\.0\.0.*holdfast cert/);
});

test('the Prometheus endpoint counts requests, bytes and latency, and what is under retention', { timeout: 30_000 }, async () => {
  const metrics = await httpsText(`${vault.endpoint}/_holdfast/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
  assert.match(metrics.text, /^holdfast_requests_total\{api="s3",operation="PutObject",status="200"\} 1$/m);
  assert.match(metrics.text, /^holdfast_requests_total\{api="s3",operation="GetObject",status="200"\} 1$/m);
  assert.match(metrics.text, /^holdfast_received_bytes_total\{operation="PutObject"\} 20$/m);
  assert.match(metrics.text, /^holdfast_sent_bytes_total\{operation="GetObject"\} 20$/m);
  assert.match(metrics.text, /^holdfast_request_duration_seconds_count\{api="s3",operation="PutObject"\} 1$/m);
  assert.match(metrics.text, /^holdfast_objects_under_retention 0$/m);
  assert.match(metrics.text, /^holdfast_audit_entries_total \d+$/m);
  assert.match(metrics.text, /^holdfast_alerts_pending \d+$/m);
  assert.match(metrics.text, /^process_resident_memory_bytes \d+/m);
});

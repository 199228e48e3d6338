// Scale-out blobs: a vault whose object bytes live in a bucket of another S3-compatible store —
// here a second Holdfast vault, started from the built CLI like the first. Clients (AWS SDK v3,
// aws-cli v2) write through the front vault; the backend must hold the bytes, and they must read
// back byte-exact after the front restarts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent as HttpsAgent } from 'node:https';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { holdfastCli } from '../support/admin-cli.js';
import { MiB, sha256, sha256File, tempDir, writeRandomFile } from '../support/file-tree.js';
import { sdkClient } from '../support/sdk-client.js';
import { isolatedClientEnv, requireTool, runCommand } from '../support/tools.js';
import { randomCredentials, REGION, type RunningVault, startVault } from '../support/vault-server.js';

const AWS = '/usr/bin/aws';
const BLOB_BUCKET = 'holdfast-blobs';

async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

async function backendBytes(client: S3Client, prefix: string): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: BLOB_BUCKET, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      objects += 1;
      bytes += object.Size ?? 0;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return { objects, bytes };
}

void test('a vault with blobS3Endpoint keeps object bytes in the backend bucket, across a restart', { timeout: 120_000 }, async (t) => {
  if (!(await requireTool(t, AWS, ['--version']))) return;
  const backend = await startVault();
  t.after(() => backend.stop());
  const backendClient = sdkClient(backend);
  t.after(() => backendClient.destroy());
  await backendClient.send(new CreateBucketCommand({ Bucket: BLOB_BUCKET }));

  const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-front-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const root = randomCredentials();
  const frontEnv = {
    HOLDFAST_BLOB_S3_ENDPOINT: backend.endpoint,
    HOLDFAST_BLOB_S3_BUCKET: BLOB_BUCKET,
    HOLDFAST_BLOB_S3_PREFIX: 'front-1/',
    HOLDFAST_BLOB_S3_ACCESS_KEY_ID: backend.accessKeyId,
    HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: backend.secretAccessKey,
    // Below 4 KiB, so the small object is a blob too rather than a metadata row.
    HOLDFAST_INLINE_OBJECT_BYTES: '1024',
    HOLDFAST_ROOT_ACCESS_KEY_ID: root.accessKeyId,
    HOLDFAST_ROOT_SECRET_ACCESS_KEY: root.secretAccessKey,
  };
  let front: RunningVault = await startVault({ dataDir, env: frontEnv });
  let client = sdkClient(front);

  const small = randomBytes(4096);
  const large = randomBytes(20 * MiB + 5);
  await client.send(new CreateBucketCommand({ Bucket: 'data' }));
  await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'small.bin', Body: small }));
  await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'large.bin', Body: large }));

  const work = await tempDir(t);
  const home = join(work, 'home');
  await mkdir(home);
  const cliFile = join(work, 'cli.bin');
  await writeRandomFile(cliFile, 20 * MiB + 3);
  const aws = (args: readonly string[]) =>
    runCommand(AWS, ['--endpoint-url', front.endpoint, ...args], {
      env: isolatedClientEnv(home, {
        AWS_ACCESS_KEY_ID: root.accessKeyId,
        AWS_SECRET_ACCESS_KEY: root.secretAccessKey,
        AWS_DEFAULT_REGION: REGION,
        AWS_CONFIG_FILE: join(home, 'aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_MAX_ATTEMPTS: '1',
      }),
      timeoutMs: 60_000,
    });
  // aws-cli goes multipart at 8 MiB: each part is a blob of its own in the backend.
  await aws(['s3', 'cp', cliFile, 's3://data/cli.bin']);

  const stored = await backendBytes(backendClient, 'front-1/blobs/');
  assert.ok(stored.bytes >= small.length + large.length + 20 * MiB + 3, `the backend holds ${stored.bytes} bytes in ${stored.objects} objects`);
  assert.ok(stored.objects >= 5, `small, large and three cli parts: ${stored.objects} objects`);

  client.destroy();
  await front.stop();
  front = await startVault({ dataDir, env: frontEnv });
  t.after(() => front.stop());
  client = sdkClient(front);
  t.after(() => client.destroy());

  assert.equal(sha256(await getBytes(client, 'data', 'small.bin')), sha256(small));
  assert.equal(sha256(await getBytes(client, 'data', 'large.bin')), sha256(large));
  const copy = join(work, 'cli-copy.bin');
  await aws(['s3', 'cp', 's3://data/cli.bin', copy]);
  assert.equal(await sha256File(copy), await sha256File(cliFile));
});

void test('a vault whose blob bucket is missing refuses to start and says which setting to fix', { timeout: 60_000 }, async (t) => {
  const backend = await startVault();
  t.after(() => backend.stop());
  await assert.rejects(
    startVault({
      env: {
        HOLDFAST_BLOB_S3_ENDPOINT: backend.endpoint,
        HOLDFAST_BLOB_S3_BUCKET: 'no-such-bucket',
        HOLDFAST_BLOB_S3_ACCESS_KEY_ID: backend.accessKeyId,
        HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: backend.secretAccessKey,
      },
    }),
    (error: Error) => /Cannot write to the S3 blob store s3:\/\/no-such-bucket\/blobs\//.test(error.message) && /NoSuchBucket/.test(error.message) && /Fix:/.test(error.message) && !error.message.includes(backend.secretAccessKey),
  );
});

void test('an https blob backend with a private CA is trusted through blobS3CaFile, and refused without it', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const made = await runCommand(process.execPath, [holdfastCli, 'cert', '--out', join(dir, 'tls'), '--json']);
  const files = JSON.parse(made.stdout) as { certFile: string; keyFile: string };
  const ca = await readFile(files.certFile, 'utf8');
  const backend = await startVault({ env: { HOLDFAST_TLS_CERT_FILE: files.certFile, HOLDFAST_TLS_KEY_FILE: files.keyFile }, ca });
  t.after(() => backend.stop());
  assert.match(backend.endpoint, /^https:/);
  const backendClient = sdkClient(backend, { requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca }) }) });
  t.after(() => backendClient.destroy());
  await backendClient.send(new CreateBucketCommand({ Bucket: BLOB_BUCKET }));
  const blobEnv = {
    HOLDFAST_BLOB_S3_ENDPOINT: backend.endpoint,
    HOLDFAST_BLOB_S3_BUCKET: BLOB_BUCKET,
    HOLDFAST_BLOB_S3_ACCESS_KEY_ID: backend.accessKeyId,
    HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: backend.secretAccessKey,
    HOLDFAST_INLINE_OBJECT_BYTES: '1024',
  };
  await assert.rejects(startVault({ env: blobEnv }), /Cannot write to the S3 blob store[\s\S]*certificate[\s\S]*blobS3CaFile/);

  const front = await startVault({ env: { ...blobEnv, HOLDFAST_BLOB_S3_CA_FILE: files.certFile } });
  t.after(() => front.stop());
  const client = sdkClient(front);
  t.after(() => client.destroy());
  const body = randomBytes(100_000);
  await client.send(new CreateBucketCommand({ Bucket: 'data' }));
  await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'over-tls.bin', Body: body }));
  assert.equal(sha256(await getBytes(client, 'data', 'over-tls.bin')), sha256(body));
  assert.equal((await backendBytes(backendClient, 'blobs/')).bytes, body.length);
});

/** Waits (bounded by count, not by a clock) until the server has printed `pattern`. */
async function printed(vault: RunningVault, pattern: RegExp): Promise<RegExpExecArray> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const match = pattern.exec(vault.output());
    if (match !== null) return match;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server never printed ${pattern}\n${vault.output()}`);
}

void test('an S3 blob prefix belongs to one vault: a second vault is refused, and a fresh unreferenced blob survives the start-up sweep', { timeout: 60_000 }, async (t) => {
  const backend = await startVault();
  t.after(() => backend.stop());
  const backendClient = sdkClient(backend);
  t.after(() => backendClient.destroy());
  await backendClient.send(new CreateBucketCommand({ Bucket: BLOB_BUCKET }));
  // A blob stored a moment before the front starts, its metadata not yet committed: to the sweep
  // it looks like an orphan older than the start, as a write racing the start would (the backend's
  // clock, in whole seconds). Only the grace keeps it.
  const fresh = `${'ab'.repeat(16)}`;
  const freshKey = `front-2/blobs/ab/${fresh}`;
  await backendClient.send(new PutObjectCommand({ Bucket: BLOB_BUCKET, Key: freshKey, Body: Buffer.from('in flight') }));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const blobEnv = {
    HOLDFAST_BLOB_S3_ENDPOINT: backend.endpoint,
    HOLDFAST_BLOB_S3_BUCKET: BLOB_BUCKET,
    HOLDFAST_BLOB_S3_PREFIX: 'front-2/',
    HOLDFAST_BLOB_S3_ACCESS_KEY_ID: backend.accessKeyId,
    HOLDFAST_BLOB_S3_SECRET_ACCESS_KEY: backend.secretAccessKey,
  };
  const front = await startVault({ env: blobEnv });
  t.after(() => front.stop());
  const [, examined, removed] = await printed(front, /orphan blob sweep done: (\d+) blob\(s\) examined, (\d+)/);
  assert.equal(examined, '1');
  assert.equal(removed, '0');
  assert.equal(sha256(await getBytes(backendClient, BLOB_BUCKET, freshKey)), sha256(Buffer.from('in flight')));
  const marker = JSON.parse((await getBytes(backendClient, BLOB_BUCKET, 'front-2/holdfast-owner.json')).toString('utf8')) as { id: string };
  assert.match(marker.id, /^node-/);

  await assert.rejects(
    startVault({ env: blobEnv }),
    (error: Error) => error.message.includes(`belong to vault ${marker.id}`) && /blobS3Prefix[\s\S]*Fix: give each vault its own blobS3Prefix/.test(error.message),
  );
});

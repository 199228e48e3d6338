import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client as SdkClient } from '@aws-sdk/client-s3';
import { clientFor, rootKey } from '../../../test/support/admin-cli.js';
import { type RunningVault, startVault } from '../../../test/support/vault-server.js';
import { Secret } from '../../domain/secret.js';
import { S3Client } from './s3-client.js';
import { isAlreadyExists, isNoSuchKey, S3RequestError } from './s3-client-errors.js';

/** The client against a real vault (built CLI: `npm run build` first). */

const DAY_MS = 24 * 3600 * 1000;
let vault: RunningVault;
let sdk: SdkClient;
let client: S3Client;
let dir: string;

before(async () => {
  vault = await startVault();
  sdk = clientFor(vault, rootKey(vault));
  await sdk.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await sdk.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  await sdk.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'locked',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );
  client = new S3Client({
    endpoint: new URL(vault.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: vault.accessKeyId, secretAccessKey: new Secret(vault.secretAccessKey), source: 'test' },
  });
  dir = await mkdtemp(join(tmpdir(), 'holdfast-s3-client-'));
});

after(async () => {
  client?.close();
  sdk?.destroy();
  await vault?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function sha256Base64(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64');
}

describe('S3 client against the vault', { timeout: 120_000 }, () => {
  test('PutObject from bytes with metadata; HeadObject and GetObject return them with the verified SHA-256', async () => {
    const bytes = Buffer.from('a small object');
    const put = await client.putObject({ bucket: 'plain', key: 'dir/small', body: { kind: 'bytes', bytes }, contentType: 'text/plain', metadata: { 'Holdfast-Note': 'kept' } });
    assert.equal(put.checksumSha256, sha256Base64(bytes));
    assert.equal(put.size, bytes.length);
    const head = await client.headObject({ bucket: 'plain', key: 'dir/small' }, { checksumMode: true });
    assert.equal(head.contentLength, bytes.length);
    assert.equal(head.contentType, 'text/plain');
    assert.deepEqual(head.metadata, { 'holdfast-note': 'kept' });
    assert.deepEqual(head.checksum, { algorithm: 'SHA256', value: sha256Base64(bytes), type: 'FULL_OBJECT' });
    assert.equal(head.objectLock, undefined);
    const got = await client.getObject({ bucket: 'plain', key: 'dir/small' });
    assert.equal(got.checksumVerified, true);
    assert.deepEqual(await buffer(got.body), bytes);
  });

  test('PutObject streams a 16 MiB file (hashed first, then sent) and GetObject returns it byte for byte', async (t) => {
    const bytes = randomBytes(16 * 1024 * 1024);
    const path = join(dir, 'random.bin');
    await writeFile(path, bytes);
    const started = performance.now();
    const put = await client.putObject({ bucket: 'plain', key: 'big/random.bin', body: { kind: 'file', path } });
    const putMs = performance.now() - started;
    assert.equal(put.size, bytes.length);
    assert.equal(put.checksumSha256, sha256Base64(bytes));
    const getStarted = performance.now();
    const got = await client.getObject({ bucket: 'plain', key: 'big/random.bin' });
    const back = await buffer(got.body);
    const getMs = performance.now() - getStarted;
    assert.ok(back.equals(bytes), 'the object reads back byte for byte');
    t.diagnostic(`16 MiB random: PUT from file ${putMs.toFixed(0)} ms (${(16 / (putMs / 1000)).toFixed(0)} MiB/s), verified GET ${getMs.toFixed(0)} ms`);
  });

  test('create-only PutObject (If-None-Match: *) never replaces an existing object', async () => {
    await client.putObject({ bucket: 'plain', key: 'once', body: { kind: 'bytes', bytes: Buffer.from('first') }, createOnly: true });
    const second = client.putObject({ bucket: 'plain', key: 'once', body: { kind: 'bytes', bytes: Buffer.from('second') }, createOnly: true });
    await assert.rejects(second, (e: unknown) => isAlreadyExists(e) && e instanceof S3RequestError && e.status === 412 && e.code === 'PreconditionFailed');
    assert.equal((await buffer((await client.getObject({ bucket: 'plain', key: 'once' })).body)).toString(), 'first');
  });

  test('in an Object Lock bucket, writes get the default retention, or the explicit lock headers', async () => {
    const before = Date.now();
    await client.putObject({ bucket: 'locked', key: 'default', body: { kind: 'bytes', bytes: Buffer.from('x') } });
    const defaulted = await client.headObject({ bucket: 'locked', key: 'default' });
    assert.equal(defaulted.objectLock?.mode, 'COMPLIANCE');
    assert.ok(defaulted.objectLock.retainUntilMs >= before + DAY_MS - 2_000 && defaulted.objectLock.retainUntilMs <= Date.now() + DAY_MS + 2_000);
    assert.ok(defaulted.versionId !== undefined, 'a lock bucket is versioned');

    const until = Date.now() + 3 * DAY_MS;
    await client.putObject({ bucket: 'locked', key: 'explicit', body: { kind: 'bytes', bytes: Buffer.from('y') }, objectLock: { mode: 'GOVERNANCE', retainUntilMs: until } });
    const explicit = await client.headObject({ bucket: 'locked', key: 'explicit' });
    assert.equal(explicit.objectLock?.mode, 'GOVERNANCE');
    assert.equal(Math.floor(explicit.objectLock.retainUntilMs / 1000), Math.floor(until / 1000));

    // The vault refuses to delete a version under compliance retention, whoever asks.
    await assert.rejects(client.deleteObject({ bucket: 'locked', key: 'default', versionId: defaulted.versionId }), (e: unknown) => e instanceof S3RequestError && e.status === 403);
  });

  test('ListObjectsV2 follows continuation tokens and decodes url-encoded keys', async () => {
    const keys = ['list/a b', 'list/c+d', 'list/e%f', 'list/ü/g', 'list/h&i<j>'].sort();
    for (const key of keys) await client.putObject({ bucket: 'plain', key, body: { kind: 'bytes', bytes: Buffer.from(key) } });
    await client.putObject({ bucket: 'plain', key: 'listing-not-included', body: { kind: 'bytes', bytes: Buffer.from('-') } });
    const page = await client.listObjectsV2Page({ bucket: 'plain', prefix: 'list/', maxKeys: 2 });
    assert.equal(page.objects.length, 2);
    assert.equal(page.isTruncated, true);
    const listed = [];
    for await (const object of client.listObjects({ bucket: 'plain', prefix: 'list/', maxKeys: 2 })) listed.push(object);
    assert.deepEqual(listed.map((o) => o.key), keys);
    assert.deepEqual(listed.map((o) => o.size), keys.map((k) => Buffer.byteLength(k)));
    assert.ok(listed.every((o) => Number.isFinite(o.lastModifiedMs) && o.etag !== ''));
  });

  test('a missing key is told apart from a missing bucket', async () => {
    await assert.rejects(client.headObject({ bucket: 'plain', key: 'nothing-here' }), (e: unknown) => isNoSuchKey(e));
    await assert.rejects(client.getObject({ bucket: 'plain', key: 'nothing-here' }), (e: unknown) => isNoSuchKey(e) && e instanceof S3RequestError && e.code === 'NoSuchKey');
    await assert.rejects(client.getObject({ bucket: 'no-such-bucket', key: 'k' }), (e: unknown) => !isNoSuchKey(e) && e instanceof S3RequestError && e.code === 'NoSuchBucket');
  });

  test('a wrong secret is refused once (SignatureDoesNotMatch, not retried) and the message does not carry it', async () => {
    const wrongSecret = 'Wrong0Secret0Wrong0Secret0Wrong0Secret00';
    const impostor = new S3Client({
      endpoint: new URL(vault.endpoint),
      region: 'us-east-1',
      credentials: { accessKeyId: vault.accessKeyId, secretAccessKey: new Secret(wrongSecret), source: 'test' },
      sleep: () => Promise.reject(new Error('a 4xx must not be retried')),
    });
    try {
      await assert.rejects(
        impostor.putObject({ bucket: 'plain', key: 'k', body: { kind: 'bytes', bytes: Buffer.from('x') } }),
        (e: unknown) => e instanceof S3RequestError && e.code === 'SignatureDoesNotMatch' && e.status === 403 && !e.message.includes(wrongSecret),
      );
    } finally {
      impostor.close();
    }
  });
});

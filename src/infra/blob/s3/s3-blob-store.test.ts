import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, ListMultipartUploadsCommand, PutBucketVersioningCommand, type S3Client as SdkClient } from '@aws-sdk/client-s3';
import { clientFor, rootKey } from '../../../../test/support/admin-cli.js';
import { type RunningVault, startVault } from '../../../../test/support/vault-server.js';
import { blobStoreContract } from '../../../domain/blob-store-contract.js';
import { Secret } from '../../../domain/secret.js';
import { systemClock } from '../../clock.js';
import { S3Client } from '../../s3-client/s3-client.js';
import { BlobPrefixOwnedError } from './blob-prefix-owner.js';
import { S3BlobStore } from './s3-blob-store.js';

/**
 * S3BlobStore against a real second vault (the built server: `npm run build` first), as the
 * "existing S3-compatible cluster" of a scale-out deployment: an unversioned bucket, a versioned
 * one (delete must remove versions, not leave them behind a marker) and an Object Lock bucket.
 */

const PART_BYTES = 5 * 1024 * 1024;
let backend: RunningVault;
let sdk: SdkClient;
let client: S3Client;
let n = 0;

before(async () => {
  backend = await startVault();
  sdk = clientFor(backend, rootKey(backend));
  await sdk.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await sdk.send(new CreateBucketCommand({ Bucket: 'versioned' }));
  await sdk.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  await sdk.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  client = new S3Client({
    endpoint: new URL(backend.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: new Secret(backend.secretAccessKey), source: 'test' },
  });
});

after(async () => {
  client?.close();
  sdk?.destroy();
  await backend?.stop();
});

/** A fresh store: its own prefix in `bucket`, small parts and pages so the tests cross both. */
const storeIn = (bucket: string) => new S3BlobStore({ client, bucket, prefix: `t${n++}/`, clock: systemClock, partBytes: PART_BYTES, listPageSize: 2 });
const contract = { largeBodyBytes: 2 * PART_BYTES + 12_345, modifiedToleranceMs: 2_000 };

blobStoreContract('S3BlobStore, unversioned bucket', async () => storeIn('plain'), contract);
blobStoreContract('S3BlobStore, versioned bucket', async () => storeIn('versioned'), contract);
// Where protect() really sets a retention on the backend, and delete() needs the governance bypass.
blobStoreContract('S3BlobStore, Object Lock bucket', async () => storeIn('locked'), contract);

async function openUploads(bucket: string): Promise<number> {
  const answer = await sdk.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return answer.Uploads?.length ?? 0;
}

async function versionsOf(bucket: string, prefix: string): Promise<number> {
  let count = 0;
  for await (const version of client.listObjectVersions({ bucket, prefix })) count += version.key.length > 0 ? 1 : 0;
  return count;
}

test('a source that fails mid-multipart aborts the upload on the backend', async () => {
  const store = storeIn('plain');
  async function* failing(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 3; i++) yield randomBytes(PART_BYTES);
    throw new Error('client went away');
  }
  await assert.rejects(store.write(failing()), /client went away/);
  assert.equal(await openUploads('plain'), 0);
});

test('delete() on a versioned bucket leaves no version and no delete marker behind', async () => {
  const store = storeIn('versioned');
  const prefix = `t${n - 1}/`;
  const blob = await store.write([randomBytes(100)]);
  assert.equal(await versionsOf('versioned', prefix), 1);
  await store.delete(blob.blobId);
  assert.equal(await versionsOf('versioned', prefix), 0);
});

test('protect() on an Object Lock bucket puts the version retention; governance still deletes with bypass', async () => {
  const store = storeIn('locked');
  const prefix = `t${n - 1}/`;
  const until = Date.now() + 3_600_000;
  const compliance = await store.write([Buffer.from('compliance')]);
  await store.protect(compliance.blobId, { retention: { mode: 'COMPLIANCE', retainUntilMs: until }, legalHold: false });
  const key = `${prefix}blobs/${compliance.blobId.slice(0, 2)}/${compliance.blobId}`;
  const retention = await client.getObjectRetention({ bucket: 'locked', key });
  assert.equal(retention?.mode, 'COMPLIANCE');
  assert.ok(retention !== undefined && Math.abs(retention.retainUntilMs - until) < 1000, `retain until ${retention?.retainUntilMs}, expected ${until}`);
  await assert.rejects(store.delete(compliance.blobId), /AccessDenied/, 'the backend refuses to delete a compliance-locked blob');
  // The refused delete left the blob as it was: readable and listed, not hidden behind a marker.
  assert.notEqual(await store.modifiedMs(compliance.blobId), undefined);
  const listed: string[] = [];
  for await (const id of store.list()) listed.push(id);
  assert.ok(listed.includes(compliance.blobId));
  assert.equal(await versionsOf('locked', prefix), 1, 'one version, no delete marker');

  const governance = await store.write([Buffer.from('governance')]);
  await store.protect(governance.blobId, { retention: { mode: 'GOVERNANCE', retainUntilMs: until }, legalHold: false });
  await store.delete(governance.blobId);
  assert.equal(await store.modifiedMs(governance.blobId), undefined);
});

test('protect() on a bucket without Object Lock is a no-op', async () => {
  const store = storeIn('plain');
  const blob = await store.write([Buffer.from('x')]);
  await store.protect(blob.blobId, { retention: { mode: 'COMPLIANCE', retainUntilMs: Date.now() + 3_600_000 }, legalHold: true });
  await store.delete(blob.blobId);
  assert.equal(await store.modifiedMs(blob.blobId), undefined);
});

test('probe() writes and removes an object, and fails naming the operation for a missing bucket', async () => {
  await storeIn('plain').probe();
  await assert.rejects(storeIn('no-such-bucket').probe(), /PutObject s3:\/\/no-such-bucket\/.*NoSuchBucket/);
});

test('a multipart blob carries SHA-256 part checksums the backend verified and kept', async () => {
  const store = storeIn('plain');
  const prefix = `t${n - 1}/`;
  const blob = await store.write([randomBytes(PART_BYTES), randomBytes(PART_BYTES), randomBytes(10)]);
  const head = await client.headObject({ bucket: 'plain', key: `${prefix}blobs/${blob.blobId.slice(0, 2)}/${blob.blobId}` }, { checksumMode: true });
  assert.equal(head.contentLength, 2 * PART_BYTES + 10);
  assert.equal(head.checksum?.algorithm, 'SHA256');
  assert.match(head.checksum?.value ?? '', /-3$/, 'a composite of three part checksums');
});

test('claimOwner() claims the prefix once: the same owner again passes, another is refused, list() skips the marker', async () => {
  const store = storeIn('plain');
  const prefix = `t${n - 1}/`;
  const blob = await store.write([Buffer.from('x')]);
  await store.claimOwner({ id: 'node-a', metadata: 'SQLite in /a' });
  await store.claimOwner({ id: 'node-a', metadata: 'SQLite in /a' });
  await assert.rejects(store.claimOwner({ id: 'node-b', metadata: 'SQLite in /b' }), (error: Error) => {
    assert.ok(error instanceof BlobPrefixOwnedError);
    assert.equal(error.holder.id, 'node-a');
    assert.equal(error.markerUrl, `s3://plain/${prefix}holdfast-owner.json`);
    return true;
  });
  const listed: string[] = [];
  for await (const id of store.list()) listed.push(id);
  assert.deepEqual(listed, [blob.blobId]);
});

test('claimOwner() on an unreadable marker refuses rather than taking the prefix over', async () => {
  const store = storeIn('plain');
  const prefix = `t${n - 1}/`;
  await client.putObject({ bucket: 'plain', key: `${prefix}holdfast-owner.json`, body: { kind: 'bytes', bytes: Buffer.from('not json') } });
  await assert.rejects(store.claimOwner({ id: 'node-a', metadata: 'x' }), BlobPrefixOwnedError);
});

test('an aborted write that sent nothing leaves nothing on a versioned bucket, not even a delete marker', async () => {
  const store = storeIn('versioned');
  const prefix = `t${n - 1}/`;
  await (await store.create()).abort();
  const writer = await store.create();
  await writer.append(Buffer.from('never committed'));
  await writer.abort();
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('partial');
    throw new Error('client went away');
  }
  await assert.rejects(store.write(failing()), /client went away/);
  assert.equal(await versionsOf('versioned', prefix), 0);
});

/** A backend that stores every PutObject but whose answer never arrives. */
class LostPutReplies extends S3Client {
  override async putObject(...args: Parameters<S3Client['putObject']>): ReturnType<S3Client['putObject']> {
    await super.putObject(...args);
    throw new Error('socket hang up after the object was stored');
  }
}

test('abort() after a commit whose answer was lost removes the stored object, every version, on a versioned bucket', async () => {
  const losing = new LostPutReplies({
    endpoint: new URL(backend.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: new Secret(backend.secretAccessKey), source: 'test' },
  });
  after(() => losing.close());
  const prefix = `t${n++}/`;
  const store = new S3BlobStore({ client: losing, bucket: 'versioned', prefix, clock: systemClock, partBytes: PART_BYTES });
  const writer = await store.create();
  await writer.append(Buffer.from('stored, answer lost'));
  await assert.rejects(writer.commit(), /socket hang up/);
  assert.equal(await versionsOf('versioned', prefix), 1, 'the backend stored the object');
  await writer.abort();
  assert.equal(await versionsOf('versioned', prefix), 0);
});

/** A backend that fails the first DeleteObject of a version id (a reset connection, say). */
class FirstVersionDeleteFails extends S3Client {
  failed = false;
  override async deleteObject(...args: Parameters<S3Client['deleteObject']>): ReturnType<S3Client['deleteObject']> {
    if (args[0].versionId !== undefined && !this.failed) {
      this.failed = true;
      throw new Error('connection reset deleting a version');
    }
    return super.deleteObject(...args);
  }
}

test('delete() on a versioned bucket that fails part-way leaves the blob readable and listed, never hidden behind a delete marker', async () => {
  const flaky = new FirstVersionDeleteFails({
    endpoint: new URL(backend.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: new Secret(backend.secretAccessKey), source: 'test' },
  });
  after(() => flaky.close());
  const prefix = `t${n++}/`;
  const store = new S3BlobStore({ client: flaky, bucket: 'versioned', prefix, clock: systemClock, partBytes: PART_BYTES });
  const blob = await store.write([Buffer.from('keep me visible until gone')]);
  await assert.rejects(store.delete(blob.blobId), /connection reset/);
  assert.notEqual(await store.modifiedMs(blob.blobId), undefined, 'still readable');
  const listed: string[] = [];
  for await (const id of store.list()) listed.push(id);
  assert.deepEqual(listed, [blob.blobId]);
  await store.delete(blob.blobId);
  assert.equal(await versionsOf('versioned', prefix), 0);
});

test('maxWriteMs: a write overdue at commit is refused with RequestTimeout and leaves nothing, small or multipart', async () => {
  let nowMs = 0;
  const store = new S3BlobStore({ client, bucket: 'plain', prefix: `t${n++}/`, clock: systemClock, partBytes: PART_BYTES, maxWriteMs: 60_000, monotonicMs: () => nowMs });
  const slow = async function* (bytes: number) {
    yield randomBytes(bytes);
    // The client took longer than the limit to send the rest.
    nowMs += 60_001;
    yield randomBytes(10);
  };
  const uploadsBefore = await openUploads('plain');
  for (const size of [1_000, 2 * PART_BYTES]) {
    await assert.rejects(store.write(slow(size)), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'RequestTimeout', `${size} bytes`);
  }
  const left: string[] = [];
  for await (const id of store.list()) left.push(id);
  assert.deepEqual(left, [], 'no blob stored');
  assert.equal(await openUploads('plain'), uploadsBefore, 'the multipart upload was aborted');
  // Within the limit, writes go through as before.
  const { blobId } = await store.write([randomBytes(100)]);
  assert.equal(await store.modifiedMs(blobId) !== undefined, true);
});

test('backendNowMs() is the backend\'s clock, not the node\'s, and leaves no probe behind', async () => {
  // A node whose clock runs a day ahead of the backend's: the sweep's "now" must not follow it.
  const aheadMs = 24 * 3600 * 1000;
  const store = new S3BlobStore({ client, bucket: 'plain', prefix: `t${n++}/`, clock: { nowMs: () => Date.now() + aheadMs } });
  const before = Date.now();
  const backendNowMs = await store.backendNowMs();
  const afterMs = Date.now();
  // LastModified has whole seconds; the backend runs on this machine's clock.
  assert.ok(backendNowMs >= before - 1_000 && backendNowMs <= afterMs, `${new Date(backendNowMs).toISOString()} is not the backend's now`);
  const left: string[] = [];
  for await (const id of store.list()) left.push(id);
  assert.deepEqual(left, []);
});

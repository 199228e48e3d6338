import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  PutBucketVersioningCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  type S3Client as SdkClient,
} from '@aws-sdk/client-s3';
import { clientFor, rootKey } from '../../../test/support/admin-cli.js';
import { type RunningVault, startVault } from '../../../test/support/vault-server.js';
import { Secret } from '../../domain/secret.js';
import { S3Client } from './s3-client.js';
import { S3RequestError } from './s3-client-errors.js';
import type { ListedObjectVersion } from './s3-xml.js';

/**
 * The version-aware operations a prune needs — ListObjectVersions, DeleteObject of a version or
 * delete marker, GetObjectRetention, GetObjectLegalHold, GetObjectLockConfiguration — against a
 * real vault (built CLI: `npm run build` first).
 */

const DAY_MS = 24 * 3600 * 1000;
let vault: RunningVault;
let sdk: SdkClient;
let client: S3Client;

before(async () => {
  vault = await startVault();
  sdk = clientFor(vault, rootKey(vault));
  await sdk.send(new CreateBucketCommand({ Bucket: 'versioned' }));
  await sdk.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
  await sdk.send(new CreateBucketCommand({ Bucket: 'locked', ObjectLockEnabledForBucket: true }));
  await sdk.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'locked',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );
  await sdk.send(new CreateBucketCommand({ Bucket: 'lock-no-default', ObjectLockEnabledForBucket: true }));
  client = new S3Client({
    endpoint: new URL(vault.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: vault.accessKeyId, secretAccessKey: new Secret(vault.secretAccessKey), source: 'test' },
  });
});

after(async () => {
  client?.close();
  sdk?.destroy();
  await vault?.stop();
});

async function allVersions(bucket: string, prefix: string, maxKeys?: number): Promise<ListedObjectVersion[]> {
  const found: ListedObjectVersion[] = [];
  for await (const v of client.listObjectVersions({ bucket, prefix, ...(maxKeys === undefined ? {} : { maxKeys }) })) found.push(v);
  return found;
}

const put = (bucket: string, key: string, text: string) => client.putObject({ bucket, key, body: { kind: 'bytes', bytes: Buffer.from(text) } });

describe('S3 client: versions and Object Lock state, against the vault', { timeout: 120_000 }, () => {
  test('ListObjectVersions returns versions and delete markers, newest first per key, across pages, keys decoded', async () => {
    const first = await put('versioned', 'v/a b+c', 'one');
    const second = await put('versioned', 'v/a b+c', 'two!');
    const marker = await client.deleteObject({ bucket: 'versioned', key: 'v/a b+c' });
    assert.equal(marker.deleteMarker, true, 'a delete without a version id only adds a marker');
    await put('versioned', 'v/ü', 'x');
    await put('versioned', 'other', 'not listed');
    for (const maxKeys of [undefined, 1]) {
      const listed = await allVersions('versioned', 'v/', maxKeys);
      assert.deepEqual(
        listed.map((v) => [v.key, v.versionId, v.isDeleteMarker, v.isLatest, v.size]),
        [
          ['v/a b+c', marker.versionId, true, true, 0],
          ['v/a b+c', second.versionId, false, false, 4],
          ['v/a b+c', first.versionId, false, false, 3],
          ['v/ü', listed[3]!.versionId, false, true, 1],
        ],
        `maxKeys ${maxKeys ?? 'default'}`,
      );
      assert.ok(listed.every((v) => Number.isFinite(v.lastModifiedMs)));
    }
  });

  test('DeleteObject with a version id removes that version, and a delete marker, for good', async () => {
    const a = await put('versioned', 'gone/k', 'a');
    const b = await put('versioned', 'gone/k', 'b');
    const marker = await client.deleteObject({ bucket: 'versioned', key: 'gone/k' });
    for (const versionId of [a.versionId, b.versionId, marker.versionId]) {
      const removed = await client.deleteObject({ bucket: 'versioned', key: 'gone/k', versionId: versionId! });
      assert.equal(removed.versionId, versionId);
    }
    assert.deepEqual(await allVersions('versioned', 'gone/'), [], 'no version and no new delete marker left');
  });

  test('GetObjectLockConfiguration: enabled with its default rule, or not enabled', async () => {
    assert.deepEqual(await client.getObjectLockConfiguration('locked'), { enabled: true, defaultRetention: { mode: 'COMPLIANCE', days: 1, years: undefined } });
    assert.deepEqual(await client.getObjectLockConfiguration('lock-no-default'), { enabled: true, defaultRetention: undefined });
    assert.deepEqual(await client.getObjectLockConfiguration('versioned'), { enabled: false, defaultRetention: undefined });
  });

  test("GetObjectRetention and GetObjectLegalHold read one version's lock; none is undefined / false", async () => {
    const before = Date.now();
    const locked = await put('locked', 'r/k', 'x');
    const retention = await client.getObjectRetention({ bucket: 'locked', key: 'r/k', versionId: locked.versionId! });
    assert.equal(retention?.mode, 'COMPLIANCE');
    assert.ok(retention.retainUntilMs >= before + DAY_MS - 2_000 && retention.retainUntilMs <= Date.now() + DAY_MS + 2_000);
    assert.equal(await client.getObjectLegalHold({ bucket: 'locked', key: 'r/k', versionId: locked.versionId! }), false);

    const free = await put('lock-no-default', 'r/k', 'y');
    assert.equal(await client.getObjectRetention({ bucket: 'lock-no-default', key: 'r/k', versionId: free.versionId! }), undefined);
    assert.equal(await client.getObjectLegalHold({ bucket: 'lock-no-default', key: 'r/k', versionId: free.versionId! }), false);
    await sdk.send(new PutObjectLegalHoldCommand({ Bucket: 'lock-no-default', Key: 'r/k', VersionId: free.versionId!, LegalHold: { Status: 'ON' } }));
    assert.equal(await client.getObjectLegalHold({ bucket: 'lock-no-default', key: 'r/k', versionId: free.versionId! }), true);
    await assert.rejects(client.deleteObject({ bucket: 'lock-no-default', key: 'r/k', versionId: free.versionId! }), (e: unknown) => e instanceof S3RequestError && e.code === 'AccessDenied');
    await sdk.send(new PutObjectLegalHoldCommand({ Bucket: 'lock-no-default', Key: 'r/k', VersionId: free.versionId!, LegalHold: { Status: 'OFF' } }));
    assert.equal(await client.getObjectLegalHold({ bucket: 'lock-no-default', key: 'r/k', versionId: free.versionId! }), false);
    await client.deleteObject({ bucket: 'lock-no-default', key: 'r/k', versionId: free.versionId! });

    // In a bucket without Object Lock there is no retention to read: the server says so.
    const plain = await put('versioned', 'r/k', 'z');
    await assert.rejects(client.getObjectRetention({ bucket: 'versioned', key: 'r/k', versionId: plain.versionId! }), (e: unknown) => e instanceof S3RequestError && e.code === 'InvalidRequest');
  });
});

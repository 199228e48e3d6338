import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import pg from 'pg';
import { S3Error } from '../../../domain/errors.js';
import { metadataStoreContract } from '../../../domain/metadata-store-contract.js';
import type { BucketRecord } from '../../../domain/model.js';
import type { NewObjectVersion } from '../../../domain/ports.js';
import { PostgresMetadataStore } from './postgres-metadata-store.js';

/**
 * Runs against a real PostgreSQL server. Each store gets a fresh schema, dropped at the end.
 * Locally an unreachable server skips these tests; in CI it fails them.
 */
const url = process.env['HOLDFAST_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const howToStart =
  'start PostgreSQL (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, as .ci/run does) ' +
  'or point HOLDFAST_TEST_PG_URL at a server';

const admin = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 3000, max: 2 });
admin.on('error', () => undefined);
const unreachable = await admin.query('SELECT 1').then(
  () => undefined,
  (e: unknown) => `PostgreSQL is not reachable at ${url} (${e instanceof Error ? e.message : String(e)}); ${howToStart}`,
);

const schemas: string[] = [];
after(async () => {
  if (unreachable === undefined) {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  }
  await admin.end();
});

function freshSchema(): string {
  const schema = `holdfast_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

if (unreachable !== undefined) {
  test('PostgreSQL metadata store', (t) => {
    if (process.env['CI'] === 'true') assert.fail(unreachable);
    t.skip(unreachable);
  });
} else {
  metadataStoreContract('PostgreSQL', () => PostgresMetadataStore.open(url, { schema: freshSchema() }));

  const version = (bucket: string, key: string, body: string): NewObjectVersion => ({
    bucket,
    key,
    isDeleteMarker: false,
    size: body.length,
    etag: `"${body}"`,
    lastModifiedMs: 2_000,
    headers: {},
    checksum: undefined,
    partSizes: [],
    data: { kind: 'inline', data: Buffer.from(body) },
    retention: undefined,
    legalHold: undefined,
  });
  const bucket = (name: string): BucketRecord => {
    const record = { name, createdAtMs: 1, region: 'us-east-1', versioning: 'Enabled' as const, objectLockEnabled: false, defaultRetention: undefined, retentionBounds: undefined, controls: {} };
    return record;
  };
  /** Two stores on one schema with separate pools: two vault nodes. */
  const twoNodes = async () => {
    const schema = freshSchema();
    return Promise.all([PostgresMetadataStore.open(url, { schema }), PostgresMetadataStore.open(url, { schema })]);
  };

  test('PostgreSQL: concurrent writes to one key from two nodes leave one latest version and every version', async () => {
    const [a, b] = await twoNodes();
    await a.createBucket(bucket('v'));
    const puts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).putObjectVersion(version('v', 'k', `body${i}`))));
    const ids = new Set(puts.map((p) => p.version.versionId));
    assert.equal(ids.size, 20);
    const all = await b.scanVersions('v', { prefix: '', afterKey: '', afterVersionId: undefined, limit: 100 });
    assert.deepEqual(new Set(all.map((v) => v.versionId)), ids);
    assert.deepEqual(all.map((v) => v.isLatest), [true, ...Array<boolean>(19).fill(false)], 'exactly one latest, and it is the newest by seq');
    assert.equal((await a.getObjectVersion('v', 'k'))?.versionId, all[0]?.versionId);
    // Deleting the latest promotes the next newest in seq order.
    await a.deleteObjectVersion('v', 'k', all[0]!.versionId);
    assert.equal((await b.getObjectVersion('v', 'k'))?.versionId, all[1]?.versionId);
    await Promise.all([a.close(), b.close()]);
  });

  test('PostgreSQL: deleteBucket racing putObjectVersion never leaves a version in a deleted bucket', async () => {
    const [a, b] = await twoNodes();
    const code = (e: unknown) => (e instanceof S3Error ? e.code : e);
    for (let round = 0; round < 20; round++) {
      const name = `race-${round}`;
      await a.createBucket(bucket(name));
      const [deleted, put] = await Promise.allSettled([a.deleteBucket(name), b.putObjectVersion(version(name, 'k', 'x'))]);
      if (deleted.status === 'fulfilled') {
        assert.equal(put.status === 'rejected' && code(put.reason), 'NoSuchBucket');
        assert.equal(await b.getBucket(name), undefined);
      } else {
        assert.equal(code(deleted.reason), 'BucketNotEmpty');
        assert.equal(put.status, 'fulfilled');
        assert.equal((await a.getObjectVersion(name, 'k'))?.etag, '"x"');
      }
    }
    await Promise.all([a.close(), b.close()]);
  });

  test('PostgreSQL: concurrent uploads of one part number return the replaced data exactly once', async () => {
    const [a, b] = await twoNodes();
    await a.createBucket(bucket('m'));
    await a.createUpload({ bucket: 'm', key: 'k', uploadId: 'u', initiatedMs: 1, headers: {}, checksumAlgorithm: undefined, lock: { retention: undefined, legalHold: undefined } });
    const part = (body: string) => ({ uploadId: 'u', partNumber: 1, size: body.length, etag: `"${body}"`, lastModifiedMs: 1, checksum: undefined, data: { kind: 'inline' as const, data: Buffer.from(body) } });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).putPart('m', 'k', part(`p${i}`))));
    assert.equal(results.flatMap((r) => r.displaced).length, 9);
    assert.equal((await a.listParts('u', 0, 10)).length, 1);
    await Promise.all([a.close(), b.close()]);
  });

  test('PostgreSQL: referencedBlobIds covers versions and parts; a NUL in a key is refused as InvalidArgument', async () => {
    const store = await PostgresMetadataStore.open(url, { schema: freshSchema() });
    await store.createBucket(bucket('r'));
    const blobs = (...ids: string[]) => ({ kind: 'blobs' as const, blobs: ids.map((blobId) => ({ blobId, size: 1 })) });
    await store.putObjectVersion({ ...version('r', 'k', 'x'), data: blobs('v1', 'v2') });
    await store.createUpload({ bucket: 'r', key: 'm', uploadId: 'u', initiatedMs: 1, headers: {}, checksumAlgorithm: undefined, lock: { retention: undefined, legalHold: undefined } });
    await store.putPart('r', 'm', { uploadId: 'u', partNumber: 1, size: 1, etag: '"p"', lastModifiedMs: 1, checksum: undefined, data: blobs('p1') });
    assert.deepEqual([...(await store.referencedBlobIds())].sort(), ['p1', 'v1', 'v2']);
    // PostgreSQL text cannot hold U+0000 (SQLite can): the adapter says so as a client error.
    await assert.rejects(store.putObjectVersion(version('r', 'a\u0000b', 'x')), (e) => e instanceof S3Error && e.code === 'InvalidArgument');
    await store.close();
  });

  test('PostgreSQL: a guard error is rethrown unchanged, not translated', async () => {
    const store = await PostgresMetadataStore.open(url, { schema: freshSchema() });
    await store.createBucket(bucket('g'));
    const refusal = new Error('plain guard error');
    await assert.rejects(store.putObjectVersion(version('g', 'k', 'x'), () => { throw refusal; }), (e) => e === refusal);
    assert.equal(await store.getObjectVersion('g', 'k'), undefined);
    await store.close();
  });
}

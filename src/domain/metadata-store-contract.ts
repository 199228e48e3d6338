import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from './errors.js';
import type { BucketRecord } from './model.js';
import type { MetadataStore, NewObjectVersion } from './ports.js';

/**
 * The MetadataStore contract, run against every implementation (SQLite now, PostgreSQL for the
 * scale-out deployment). `open` must return a fresh, empty store each time.
 */
export function metadataStoreContract(name: string, open: () => Promise<MetadataStore>): void {
  const bucket = (name: string, versioning: BucketRecord['versioning'] = 'Unversioned'): BucketRecord => ({
    name,
    createdAtMs: 1_000,
    region: 'us-east-1',
    versioning,
    objectLockEnabled: false,
    defaultRetention: undefined,
    retentionBounds: undefined,
    controls: {},
  });
  const version = (b: string, key: string, body: string): NewObjectVersion => ({
    bucket: b,
    key,
    isDeleteMarker: false,
    size: body.length,
    etag: `"${body}"`,
    lastModifiedMs: 2_000,
    headers: { 'content-type': 'text/plain' },
    checksum: undefined,
    partSizes: [],
    data: { kind: 'inline', data: Buffer.from(body) },
    retention: undefined,
    legalHold: undefined,
  });
  const noLock = { retention: undefined, legalHold: undefined };
  const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;

  describe(`MetadataStore contract: ${name}`, () => {
    test('buckets: create, get, list in name order, duplicate refused, delete', async () => {
      const store = await open();
      await store.createBucket(bucket('b2'));
      await store.createBucket(bucket('b1'));
      await assert.rejects(store.createBucket(bucket('b1')), code('BucketAlreadyOwnedByYou'));
      assert.deepEqual((await store.listBuckets()).map((b) => b.name), ['b1', 'b2']);
      assert.equal((await store.getBucket('b1'))?.versioning, 'Unversioned');
      await store.deleteBucket('b1');
      assert.equal(await store.getBucket('b1'), undefined);
      await assert.rejects(store.deleteBucket('nope'), code('NoSuchBucket'));
      await store.close();
    });

    test('a bucket with an object or an upload is not deleted', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      await store.putObjectVersion(version('b', 'k', 'x'));
      await assert.rejects(store.deleteBucket('b'), code('BucketNotEmpty'));
      await store.deleteObjectVersion('b', 'k', 'null');
      await store.createUpload({ bucket: 'b', key: 'k', uploadId: 'u1', initiatedMs: 1, headers: {}, checksumAlgorithm: undefined, lock: noLock });
      await assert.rejects(store.deleteBucket('b'), code('BucketNotEmpty'));
      await store.abortUpload('b', 'k', 'u1');
      await store.deleteBucket('b');
      await store.close();
    });

    test('unversioned writes replace the null version and return the displaced data', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      const first = await store.putObjectVersion(version('b', 'k', 'one'));
      assert.equal(first.version.versionId, 'null');
      assert.deepEqual(first.displaced, []);
      const second = await store.putObjectVersion(version('b', 'k', 'two'));
      assert.equal(second.displaced.length, 1);
      const displaced = second.displaced[0]!;
      assert.equal(displaced.kind === 'inline' && displaced.data.toString(), 'one');
      const latest = await store.getObjectVersion('b', 'k');
      assert.equal(latest?.etag, '"two"');
      assert.equal(latest?.isLatest, true);
      await store.close();
    });

    test('versioned writes keep every version; deleting the latest promotes the next newest', async () => {
      const store = await open();
      await store.createBucket(bucket('v', 'Enabled'));
      const a = await store.putObjectVersion(version('v', 'k', 'a'));
      const b = await store.putObjectVersion(version('v', 'k', 'b'));
      assert.notEqual(a.version.versionId, b.version.versionId);
      assert.notEqual(a.version.versionId, 'null');
      assert.equal((await store.getObjectVersion('v', 'k'))?.etag, '"b"');
      assert.equal((await store.getObjectVersion('v', 'k', a.version.versionId))?.isLatest, false);
      await store.deleteObjectVersion('v', 'k', b.version.versionId);
      const now = await store.getObjectVersion('v', 'k');
      assert.equal(now?.versionId, a.version.versionId);
      assert.equal(now?.isLatest, true);
      await store.close();
    });

    test('the latest version read between writes of every kind is always the one the last write left', async () => {
      const store = await open();
      await store.createBucket(bucket('v', 'Enabled'));
      const latest = async () => {
        const found = await store.getObjectVersion('v', 'k');
        return found === undefined ? undefined : `${found.isDeleteMarker ? 'marker' : found.etag} hold=${String(found.legalHold)}`;
      };
      assert.equal(await latest(), undefined);
      const a = await store.putObjectVersion(version('v', 'k', 'a'));
      assert.equal(await latest(), '"a" hold=undefined');
      const b = await store.putObjectVersion(version('v', 'k', 'b'));
      assert.equal(await latest(), '"b" hold=undefined');
      const marker = await store.putObjectVersion({ ...version('v', 'k', ''), isDeleteMarker: true, etag: '' });
      assert.equal(await latest(), 'marker hold=undefined');
      await store.deleteObjectVersion('v', 'k', marker.version.versionId);
      assert.equal(await latest(), '"b" hold=undefined');
      await store.deleteObjectVersion('v', 'k', b.version.versionId);
      assert.equal(await latest(), '"a" hold=undefined');
      await store.updateVersionLock('v', 'k', a.version.versionId, () => ({ retention: undefined, legalHold: true }));
      assert.equal(await latest(), '"a" hold=true');
      await assert.rejects(store.putObjectVersion(version('v', 'k', 'c'), () => { throw new S3Error('PreconditionFailed', 'no'); }), code('PreconditionFailed'));
      assert.equal(await latest(), '"a" hold=true');
      await store.createUpload({ bucket: 'v', key: 'k', uploadId: 'u1', initiatedMs: 1, headers: {}, checksumAlgorithm: undefined, lock: noLock });
      await store.completeUpload('v', 'k', 'u1', version('v', 'k', 'd'), []);
      assert.equal(await latest(), '"d" hold=undefined');

      await store.createBucket(bucket('u'));
      await store.putObjectVersion(version('u', 'k', 'x'));
      assert.equal((await store.getObjectVersion('u', 'k'))?.etag, '"x"');
      await store.putObjectVersion(version('u', 'k', 'y'));
      assert.equal((await store.getObjectVersion('u', 'k'))?.etag, '"y"');
      await store.deleteObjectVersion('u', 'k', 'null');
      assert.equal(await store.getObjectVersion('u', 'k'), undefined);
      await store.close();
    });

    test('a guard that throws leaves nothing written, and does not affect concurrent writes', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      const refused = store.putObjectVersion(version('b', 'k1', 'x'), () => {
        throw new S3Error('PreconditionFailed', 'no');
      });
      const accepted = store.putObjectVersion(version('b', 'k2', 'y'));
      await assert.rejects(refused, code('PreconditionFailed'));
      await accepted;
      assert.equal(await store.getObjectVersion('b', 'k1'), undefined);
      assert.equal((await store.getObjectVersion('b', 'k2'))?.etag, '"y"');
      await store.close();
    });

    test('a write whose deadline passes while it is in its transaction is refused (RequestTimeout) and leaves no version or part', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      // The deadline passes during the transaction: the guard runs after the write's lock waits.
      let passed = false;
      const deadline = { passed: () => passed };
      const late = store.putObjectVersion(
        version('b', 'k', 'late'),
        () => {
          passed = true;
        },
        deadline,
      );
      await assert.rejects(late, code('RequestTimeout'));
      assert.equal(await store.getObjectVersion('b', 'k'), undefined);
      await store.putObjectVersion(version('b', 'k', 'in-time'), undefined, { passed: () => false });
      assert.equal((await store.getObjectVersion('b', 'k'))?.etag, '"in-time"');

      await store.createUpload({ bucket: 'b', key: 'm', uploadId: 'u1', initiatedMs: 1, headers: {}, checksumAlgorithm: undefined, lock: noLock });
      const part = { uploadId: 'u1', partNumber: 1, size: 1, etag: '"p"', lastModifiedMs: 2_000, checksum: undefined, data: { kind: 'inline' as const, data: Buffer.from('p') } };
      await assert.rejects(store.putPart('b', 'm', part, { passed: () => true }), code('RequestTimeout'));
      assert.deepEqual(await store.listParts('u1', 0, 10), []);
      await store.close();
    });

    test('scanLatest: prefix, exclusive lower bound, limit, UTF-8 byte order, no delete markers', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      // U+E000 sorts after U+10000 in UTF-16 code units but before it in UTF-8 bytes.
      const keys = ['a/1', 'a/2', 'a/3', 'b', 'a%', 'a_', '\u{10000}', '\uE000'];
      for (const key of keys) await store.putObjectVersion(version('b', key, key));
      await store.putObjectVersion({ ...version('b', 'a/4', ''), isDeleteMarker: true });
      const all = (await store.scanLatest('b', { prefix: '', after: '', limit: 100 })).map((r) => r.key);
      assert.deepEqual(all, [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      const page = await store.scanLatest('b', { prefix: 'a/', after: 'a/1', limit: 1 });
      assert.deepEqual(page.map((r) => r.key), ['a/2']);
      // LIKE wildcards in a prefix are literal characters.
      assert.deepEqual((await store.scanLatest('b', { prefix: 'a%', after: '', limit: 10 })).map((r) => r.key), ['a%']);
      await store.close();
    });

    test('multipart: parts replace by number; complete records the version and returns unused parts', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      await store.createUpload({ bucket: 'b', key: 'k', uploadId: 'u', initiatedMs: 5, headers: {}, checksumAlgorithm: 'CRC32', lock: noLock });
      const part = (n: number, body: string) => ({
        uploadId: 'u',
        partNumber: n,
        size: body.length,
        etag: `"${body}"`,
        lastModifiedMs: 1,
        checksum: undefined,
        data: { kind: 'inline' as const, data: Buffer.from(body) },
      });
      await store.putPart('b', 'k', part(1, 'p1'));
      const replaced = await store.putPart('b', 'k', part(1, 'p1b'));
      assert.equal(replaced.displaced.length, 1);
      await store.putPart('b', 'k', part(2, 'p2'));
      await store.putPart('b', 'k', part(3, 'p3'));
      assert.deepEqual((await store.listParts('u', 1, 10)).map((p) => p.partNumber), [2, 3]);
      assert.equal((await store.getUpload('b', 'k', 'u'))?.checksumAlgorithm, 'CRC32');
      assert.equal(await store.getUpload('b', 'other', 'u'), undefined);
      const done = await store.completeUpload('b', 'k', 'u', version('b', 'k', 'whole'), [1, 2]);
      assert.equal(done.displaced.length, 1, 'part 3 was not used');
      assert.equal(await store.getUpload('b', 'k', 'u'), undefined);
      await assert.rejects(store.completeUpload('b', 'k', 'u', version('b', 'k', 'again'), [1]), code('NoSuchUpload'));
      assert.equal((await store.getObjectVersion('b', 'k'))?.etag, '"whole"');
      await store.close();
    });

    test('listUploads pages by key and upload id; stale uploads are found by age', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      for (const [key, id, at] of [['x', 'u1', 10], ['x', 'u2', 20], ['y', 'u3', 30]] as const) {
        await store.createUpload({ bucket: 'b', key, uploadId: id, initiatedMs: at, headers: {}, checksumAlgorithm: undefined, lock: noLock });
      }
      const all = await store.listUploads('b', { prefix: '', keyMarker: '', uploadIdMarker: '', limit: 10 });
      assert.deepEqual(all.map((u) => u.uploadId), ['u1', 'u2', 'u3']);
      const afterKey = await store.listUploads('b', { prefix: '', keyMarker: 'x', uploadIdMarker: '', limit: 10 });
      assert.deepEqual(afterKey.map((u) => u.uploadId), ['u3']);
      const afterId = await store.listUploads('b', { prefix: '', keyMarker: 'x', uploadIdMarker: 'u1', limit: 10 });
      assert.deepEqual(afterId.map((u) => u.uploadId), ['u2', 'u3']);
      assert.deepEqual((await store.listStaleUploads(25, 10)).map((u) => u.uploadId), ['u1', 'u2']);
      await store.close();
    });

    test('versioning: enable, suspend; a lock bucket cannot be suspended', async () => {
      const store = await open();
      await store.createBucket(bucket('b'));
      assert.equal((await store.setBucketVersioning('b', 'Enabled')).versioning, 'Enabled');
      assert.equal((await store.getBucket('b'))?.versioning, 'Enabled');
      await store.setBucketVersioning('b', 'Suspended');
      assert.equal((await store.getBucket('b'))?.versioning, 'Suspended');
      await store.createBucket({ ...bucket('locked', 'Enabled'), objectLockEnabled: true });
      await assert.rejects(store.setBucketVersioning('locked', 'Suspended'), code('InvalidBucketState'));
      await assert.rejects(store.setBucketVersioning('missing', 'Enabled'), code('NoSuchBucket'));
      await store.close();
    });

    test('suspended writes replace only the null version and keep real versions', async () => {
      const store = await open();
      await store.createBucket(bucket('s', 'Enabled'));
      const real = await store.putObjectVersion(version('s', 'k', 'real'));
      await store.setBucketVersioning('s', 'Suspended');
      await store.putObjectVersion(version('s', 'k', 'null1'));
      const second = await store.putObjectVersion(version('s', 'k', 'null2'));
      assert.equal(second.version.versionId, 'null');
      assert.equal(second.displaced.length, 1);
      const all = await store.scanVersions('s', { prefix: '', afterKey: '', afterVersionId: undefined, limit: 10 });
      assert.deepEqual(all.map((v) => [v.versionId, v.etag, v.isLatest]), [['null', '"null2"', true], [real.version.versionId, '"real"', false]]);
      await store.close();
    });

    test('scanVersions: keys ascending, newest first, resumable after any version', async () => {
      const store = await open();
      await store.createBucket(bucket('v', 'Enabled'));
      const ids: Record<string, string[]> = {};
      for (const key of ['b', 'a', 'b', 'c', 'a', 'b']) {
        const put = await store.putObjectVersion(version('v', key, key));
        (ids[key] ??= []).unshift(put.version.versionId);
      }
      const all = await store.scanVersions('v', { prefix: '', afterKey: '', afterVersionId: undefined, limit: 100 });
      assert.deepEqual(all.map((v) => v.versionId), [...ids['a']!, ...ids['b']!, ...ids['c']!]);
      assert.deepEqual(all.map((v) => v.isLatest), [true, false, true, false, false, true]);
      const afterFirstB = await store.scanVersions('v', { prefix: '', afterKey: 'b', afterVersionId: ids['b']![0], limit: 100 });
      assert.deepEqual(afterFirstB.map((v) => v.versionId), [...ids['b']!.slice(1), ...ids['c']!]);
      const afterAllB = await store.scanVersions('v', { prefix: '', afterKey: 'b', afterVersionId: undefined, limit: 100 });
      assert.deepEqual(afterAllB.map((v) => v.versionId), ids['c']);
      assert.equal((await store.scanVersions('v', { prefix: 'c', afterKey: '', afterVersionId: undefined, limit: 100 })).length, 1);
      await store.close();
    });

    test('retention bounds and lock configuration round-trip', async () => {
      const store = await open();
      await store.createBucket(bucket('rb', 'Enabled'));
      assert.deepEqual((await store.setRetentionBounds('rb', { maxDays: 90 })).retentionBounds, { maxDays: 90 });
      assert.deepEqual((await store.getBucket('rb'))?.retentionBounds, { maxDays: 90 });
      await store.setRetentionBounds('rb', undefined);
      const policy = '{"Version":"2012-10-17","Statement":[]}';
      // Concurrent updates of different controls both land; a refusal thrown by the update passes through and changes nothing.
      await Promise.all([
        store.updateBucketControls('rb', (current) => ({ ...current, policy })),
        store.updateBucketControls('rb', (current) => ({ ...current, protected: true })),
      ]);
      assert.deepEqual((await store.getBucket('rb'))?.controls, { policy, protected: true });
      await assert.rejects(
        store.updateBucketControls('rb', () => {
          throw new S3Error('ApprovalRequired', 'no');
        }),
        code('ApprovalRequired'),
      );
      assert.deepEqual((await store.getBucket('rb'))?.controls, { policy, protected: true });
      await assert.rejects(store.updateBucketControls('missing-bucket', (current) => current), code('NoSuchBucket'));
      assert.equal((await store.getBucket('rb'))?.retentionBounds, undefined);
      const locked = await store.setObjectLockConfiguration('rb', { mode: 'COMPLIANCE', days: 30 });
      assert.equal(locked.objectLockEnabled, true);
      assert.deepEqual((await store.getBucket('rb'))?.defaultRetention, { mode: 'COMPLIANCE', days: 30 });
      await store.createBucket(bucket('plain'));
      await assert.rejects(store.setObjectLockConfiguration('plain', undefined), code('InvalidBucketState'));
      const put = await store.putObjectVersion(version('rb', 'k', 'x'));
      const updated = await store.updateVersionLock('rb', 'k', put.version.versionId, () => ({ retention: { mode: 'GOVERNANCE', retainUntilMs: 99 }, legalHold: true }));
      assert.deepEqual([updated.retention, updated.legalHold], [{ mode: 'GOVERNANCE', retainUntilMs: 99 }, true]);
      const reread = await store.getObjectVersion('rb', 'k', put.version.versionId);
      assert.deepEqual([reread?.retention, reread?.legalHold], [{ mode: 'GOVERNANCE', retainUntilMs: 99 }, true]);
      assert.deepEqual(await store.lockStatistics(50), { retainedVersions: 1, retainedBytes: 1, legalHoldVersions: 1, legalHoldBytes: 1 });
      assert.deepEqual(await store.lockStatistics(100), { retainedVersions: 0, retainedBytes: 0, legalHoldVersions: 1, legalHoldBytes: 1 });
      await assert.rejects(
        store.updateVersionLock('rb', 'k', put.version.versionId, () => {
          throw new S3Error('AccessDenied', 'no');
        }),
        code('AccessDenied'),
      );
      await store.close();
    });

    test('settings round-trip', async () => {
      const store = await open();
      assert.equal(await store.getSetting('s'), undefined);
      await store.putSetting('s', 'v1');
      await store.putSetting('s', 'v2');
      assert.equal(await store.getSetting('s'), 'v2');
      await store.close();
    });

    test('compareAndSetSetting sets only over the expected value; of concurrent writers that read the same value, one wins', async () => {
      const store = await open();
      assert.equal(await store.compareAndSetSetting('c', undefined, 'a'), true);
      assert.equal(await store.compareAndSetSetting('c', undefined, 'b'), false, 'absent expected, but present');
      assert.equal(await store.compareAndSetSetting('c', 'stale', 'b'), false);
      assert.equal(await store.getSetting('c'), 'a');
      const outcomes = await Promise.all(['x', 'y', 'z'].map((next) => store.compareAndSetSetting('c', 'a', next)));
      assert.deepEqual(outcomes.filter(Boolean).length, 1);
      assert.equal(await store.getSetting('c'), ['x', 'y', 'z'][outcomes.indexOf(true)]);
      await store.close();
    });
  });
}

// Interop: S3 versioning (issue 3, "## Versioning") driven by the AWS SDK for JavaScript v3 with its
// default checksum settings. Every expectation is AWS's documented behaviour: the API reference
// pages PutBucketVersioning, GetBucketVersioning, ListObjectVersions, DeleteObject, DeleteObjects,
// CopyObject, and the user-guide chapters "Working with objects in a versioning-suspended bucket",
// "Deleting object versions" and "Working with delete markers". Version ids are the server's own:
// the test records them from responses and never assumes their shape beyond "not null".
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  type BucketVersioningStatus,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { EMPTY_SHA256, SignedS3Client, describeResponse, unescapeXml } from '../durability/signed-http-client.js';
import { MiB, md5Hex } from '../support/file-tree.js';
import { expectS3Error, sdkClient } from '../support/sdk-client.js';
import { startVault } from '../support/vault-server.js';

/** One row of ListObjectVersions, whichever list it came from. */
interface Listed {
  readonly kind: 'Version' | 'DeleteMarker';
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
}

/** A write the test made, in the order it made it; the listing it expects is derived from these. */
interface Written {
  readonly kind: 'Version' | 'DeleteMarker';
  readonly key: string;
  readonly versionId: string;
}

void test('S3 versioning with the AWS SDK for JavaScript v3', { timeout: 240_000 }, async (t) => {
  const vault = await startVault();
  t.after(() => vault.stop());
  // Every request is bounded: a server that hangs fails the step instead of the whole suite.
  const s3 = sdkClient(vault, { requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000, throwOnRequestTimeout: true } });
  const raw = new SignedS3Client(vault.endpoint, vault, { idleTimeoutMs: 30_000 });
  t.after(() => raw.close());

  const createBucket = async (bucket: string, status?: BucketVersioningStatus) => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (status !== undefined) await setVersioning(bucket, status);
  };
  const setVersioning = (bucket: string, status: BucketVersioningStatus) =>
    s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
  const put = (bucket: string, key: string, body: Buffer | string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  /** PUT into a versioning-enabled bucket; returns the new version id after checking it is a real one. */
  const putVersion = async (bucket: string, key: string, body: Buffer | string) => {
    const { VersionId } = await put(bucket, key, body);
    assert.ok(VersionId !== undefined && VersionId !== '' && VersionId !== 'null', `PUT ${key} returned version id ${VersionId}`);
    return VersionId;
  };
  const read = async (bucket: string, key: string, versionId?: string) => {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return { response, body: Buffer.from((await response.Body?.transformToByteArray()) ?? []) };
  };
  const assertReads = async (bucket: string, key: string, versionId: string | undefined, expected: Buffer | string) => {
    const { body } = await read(bucket, key, versionId);
    assert.ok(body.equals(Buffer.from(expected)), `GET ${key}?versionId=${versionId} returns the bytes written`);
  };
  const listVersions = (input: ListObjectVersionsCommandInput) => s3.send(new ListObjectVersionsCommand(input));
  /** The whole version listing, in the order the XML has it (the SDK splits Version and DeleteMarker apart). */
  const rawListing = async (bucket: string, query: Readonly<Record<string, string>> = {}): Promise<Listed[]> => {
    const response = await raw.send({ method: 'GET', path: `/${bucket}`, query: { versions: '', ...query }, payloadHash: EMPTY_SHA256 });
    assert.equal(response.status, 200, describeResponse(response));
    return parseVersionEntries(response.body.toString('utf8'));
  };

  await t.test('GetBucketVersioning: no Status until set; Enabled/Suspended round-trip; a bad Status → MalformedXML', async () => {
    const bucket = 'ver-config';
    await createBucket(bucket);
    const initial = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    assert.equal(initial.$metadata.httpStatusCode, 200);
    assert.equal(initial.Status, undefined, 'a never-versioned bucket has no Status');
    for (const status of ['Enabled', 'Suspended', 'Enabled'] as const) {
      await setVersioning(bucket, status);
      const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
      assert.equal(Status, status);
    }
    for (const bad of ['Disabled', 'enabled']) {
      await expectS3Error(setVersioning(bucket, bad as BucketVersioningStatus), 'MalformedXML', 400);
    }
    const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    assert.equal(Status, 'Enabled', 'a refused configuration changes nothing');
    await expectS3Error(s3.send(new GetBucketVersioningCommand({ Bucket: 'ver-no-such-bucket' })), 'NoSuchBucket', 404);
  });

  await t.test('Enabled: each PUT gets a distinct version id; every version reads back byte-exact by id', async () => {
    const bucket = 'ver-enabled';
    await createBucket(bucket, 'Enabled');
    const bodies = [randomBytes(0), randomBytes(1), randomBytes(70_001)];
    const ids: string[] = [];
    for (const body of bodies) ids.push(await putVersion(bucket, 'doc.bin', body));
    assert.equal(new Set(ids).size, ids.length, `version ids are distinct: ${ids.join(', ')}`);

    const latest = await read(bucket, 'doc.bin');
    assert.ok(latest.body.equals(bodies[2] ?? Buffer.alloc(0)), 'GET without versionId returns the newest version');
    assert.equal(latest.response.VersionId, ids[2]);
    for (const [index, body] of bodies.entries()) {
      const { response, body: got } = await read(bucket, 'doc.bin', ids[index]);
      assert.ok(got.equals(body), `version ${index} bytes`);
      assert.equal(response.VersionId, ids[index]);
      assert.equal(response.ETag, `"${md5Hex(body)}"`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc.bin', VersionId: ids[index] }));
      assert.deepEqual([head.VersionId, head.ContentLength, head.ETag], [ids[index], body.length, `"${md5Hex(body)}"`], `HEAD version ${index}`);
    }

    // A version id is an object's own: another key's id names no version of this key (404 NoSuchVersion).
    const otherId = await putVersion(bucket, 'other.bin', 'x');
    await expectS3Error(read(bucket, 'doc.bin', otherId), 'NoSuchVersion', 404);
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc.bin', VersionId: otherId })), undefined, 404);
  });

  await t.test('unversioned: no x-amz-version-id; once enabled, the old object is the "null" version', async () => {
    const bucket = 'ver-null';
    await createBucket(bucket);
    const first = await put(bucket, 'kept.txt', 'written before versioning');
    assert.equal(first.VersionId, undefined, 'a PUT to a never-versioned bucket returns no x-amz-version-id');
    const gone = await put(bucket, 'gone.txt', 'deleted before versioning');
    assert.equal(gone.VersionId, undefined);
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone.txt' }));
    assert.equal(deleted.DeleteMarker, undefined, 'no delete marker without versioning');

    await setVersioning(bucket, 'Enabled');
    assert.deepEqual(await rawListing(bucket), [{ kind: 'Version', key: 'kept.txt', versionId: 'null', isLatest: true }]);
    const nullRead = await read(bucket, 'kept.txt', 'null');
    assert.equal(nullRead.body.toString(), 'written before versioning');
    assert.equal(nullRead.response.VersionId, 'null');

    const newer = await putVersion(bucket, 'kept.txt', 'written after versioning');
    assert.deepEqual(await rawListing(bucket), [
      { kind: 'Version', key: 'kept.txt', versionId: newer, isLatest: true },
      { kind: 'Version', key: 'kept.txt', versionId: 'null', isLatest: false },
    ]);
    await assertReads(bucket, 'kept.txt', 'null', 'written before versioning');
    await assertReads(bucket, 'kept.txt', undefined, 'written after versioning');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kept.txt', VersionId: 'null' }));
    assert.equal(head.VersionId, 'null');
  });

  await t.test('DeleteObject on Enabled adds a delete marker; deleting by version id removes just that version', async () => {
    const bucket = 'ver-markers';
    await createBucket(bucket, 'Enabled');
    const key = 'report.txt';
    const v1 = await putVersion(bucket, key, 'one');
    const v2 = await putVersion(bucket, key, 'two');
    const v3 = await putVersion(bucket, key, 'three');

    const deletion = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(deletion.$metadata.httpStatusCode, 204);
    assert.equal(deletion.DeleteMarker, true, 'x-amz-delete-marker: true');
    const marker = deletion.VersionId ?? assert.fail('the delete marker has no version id');
    assert.ok(![v1, v2, v3, 'null'].includes(marker), `the marker has its own version id (${marker})`);

    const hidden = await caught(read(bucket, key));
    assert.deepEqual([hidden.name, hidden.$metadata.httpStatusCode], ['NoSuchKey', 404]);
    assert.equal(headerOf(hidden, 'x-amz-delete-marker'), 'true', 'GET of a deleted key says it met a delete marker');
    assert.equal(headerOf(hidden, 'x-amz-version-id'), marker, "…and names the marker's version");
    const hiddenHead = await caught(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    assert.equal(hiddenHead.$metadata.httpStatusCode, 404);
    assert.equal(headerOf(hiddenHead, 'x-amz-delete-marker'), 'true', 'HEAD of a deleted key');

    const onMarker = await caught(read(bucket, key, marker));
    assert.deepEqual([onMarker.name, onMarker.$metadata.httpStatusCode], ['MethodNotAllowed', 405], 'GET of the marker by id');
    assert.equal(headerOf(onMarker, 'x-amz-delete-marker'), 'true');
    assert.ok(headerOf(onMarker, 'last-modified') !== undefined, 'a 405 on a delete marker carries Last-Modified');
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: marker })), undefined, 405);

    await assertReads(bucket, key, v2, 'two');
    const listedKeys = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listedKeys.Contents ?? [], [], 'ListObjectsV2 hides a key whose latest version is a marker');
    assert.deepEqual(await rawListing(bucket), [
      { kind: 'DeleteMarker', key, versionId: marker, isLatest: true },
      { kind: 'Version', key, versionId: v3, isLatest: false },
      { kind: 'Version', key, versionId: v2, isLatest: false },
      { kind: 'Version', key, versionId: v1, isLatest: false },
    ]);

    const undelete = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: marker }));
    assert.equal(undelete.$metadata.httpStatusCode, 204);
    assert.deepEqual([undelete.DeleteMarker, undelete.VersionId], [true, marker], 'deleting the marker reports it was one');
    const back = await read(bucket, key);
    assert.deepEqual([back.body.toString(), back.response.VersionId], ['three', v3], 'deleting the marker brings the object back');

    const dropOld = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v1 }));
    assert.equal(dropOld.$metadata.httpStatusCode, 204);
    assert.equal(dropOld.VersionId, v1);
    assert.notEqual(dropOld.DeleteMarker, true, 'v1 was not a delete marker');
    await expectS3Error(read(bucket, key, v1), 'NoSuchVersion', 404);
    await assertReads(bucket, key, undefined, 'three');

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v3 }));
    const previous = await read(bucket, key);
    assert.deepEqual([previous.body.toString(), previous.response.VersionId], ['two', v2], 'deleting the current version exposes the one before');
    assert.deepEqual(await rawListing(bucket), [{ kind: 'Version', key, versionId: v2, isLatest: true }]);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v2 }));
    const vanished = await caught(read(bucket, key));
    assert.deepEqual([vanished.name, vanished.$metadata.httpStatusCode], ['NoSuchKey', 404]);
    assert.equal(headerOf(vanished, 'x-amz-delete-marker'), undefined, 'no marker involved once every version is gone');
    assert.deepEqual(await rawListing(bucket), []);
  });

  await t.test('Suspended: PUT writes (and overwrites) the null version, DELETE puts a null marker in its place', async () => {
    const bucket = 'ver-suspended';
    await createBucket(bucket, 'Enabled');
    const key = 'state.json';
    const r1 = await putVersion(bucket, key, 'real one');
    const r2 = await putVersion(bucket, key, 'real two');
    const realOnly = await putVersion(bucket, 'only-real.txt', 'never had a null version');
    await setVersioning(bucket, 'Suspended');

    const n1 = await put(bucket, key, 'null one');
    // AWS's PutObject "Versioning suspended" example answers without x-amz-version-id.
    assert.equal(n1.VersionId, undefined, 'a PUT to a suspended bucket returns no x-amz-version-id');
    const current = await read(bucket, key);
    assert.deepEqual([current.body.toString(), current.response.VersionId], ['null one', 'null']);
    await put(bucket, key, 'null two');
    assert.deepEqual(await rawListing(bucket, { prefix: key }), [
      { kind: 'Version', key, versionId: 'null', isLatest: true },
      { kind: 'Version', key, versionId: r2, isLatest: false },
      { kind: 'Version', key, versionId: r1, isLatest: false },
    ], 'the second suspended PUT replaced the null version and kept the real ones');
    await assertReads(bucket, key, 'null', 'null two');
    await assertReads(bucket, key, r1, 'real one');
    await assertReads(bucket, key, r2, 'real two');

    for (const target of [key, 'only-real.txt']) {
      const deletion = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: target }));
      assert.equal(deletion.$metadata.httpStatusCode, 204);
      assert.equal(deletion.DeleteMarker, true, `DELETE ${target} adds a delete marker`);
      assert.ok(deletion.VersionId === undefined || deletion.VersionId === 'null', `the marker is the null version, got ${deletion.VersionId}`);
    }
    assert.deepEqual(await rawListing(bucket), [
      { kind: 'DeleteMarker', key: 'only-real.txt', versionId: 'null', isLatest: true },
      { kind: 'Version', key: 'only-real.txt', versionId: realOnly, isLatest: false },
      { kind: 'DeleteMarker', key, versionId: 'null', isLatest: true },
      { kind: 'Version', key, versionId: r2, isLatest: false },
      { kind: 'Version', key, versionId: r1, isLatest: false },
    ], 'the null version was replaced by the null marker; real versions stay');
    await expectS3Error(read(bucket, key), 'NoSuchKey', 404);
    await assertReads(bucket, key, r2, 'real two');
  });

  await t.test('ListObjectVersions: order, IsLatest, delete markers, prefix, delimiter, key-marker + version-id-marker paging, encoding-type=url', async () => {
    const bucket = 'ver-listing';
    await createBucket(bucket);
    const written: Written[] = [];
    const write = async (key: string) => {
      const { VersionId } = await put(bucket, key, `${key} #${written.length}`);
      written.push({ kind: 'Version', key, versionId: VersionId ?? 'null' });
    };
    const remove = async (key: string) => {
      const { DeleteMarker, VersionId } = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      assert.ok(DeleteMarker === true && VersionId !== undefined, `DELETE ${key} made a marker`);
      written.push({ kind: 'DeleteMarker', key, versionId: VersionId });
    };
    const encodedKey = 'enc/sp ace+plus&<é>.txt';
    await write('alpha'); // the null version, written before versioning
    await setVersioning(bucket, 'Enabled');
    // Written out of key order, interleaved across keys, with markers between versions.
    for (const step of [
      () => write('zeta'), () => write('alpha'), () => write('a/1'), () => write('b'), () => remove('zeta'),
      () => write('a/sub/x'), () => write('a/1'), () => write(encodedKey), () => write('a/2'), () => write('zeta'),
      () => write('alpha'), () => write('a/1'), () => write('mid/deep/k'), () => remove('a/2'), () => write('a/sub/x'),
      () => write(encodedKey),
    ]) await step();
    const all = expectedListing(written);
    assert.equal(all.length, 17);

    assert.deepEqual(await rawListing(bucket), all, 'keys ascending, newest first within a key, markers in place');
    const sdkAll = await listVersions({ Bucket: bucket });
    assert.equal(sdkAll.IsTruncated, false);
    assert.deepEqual(sdkEntries(sdkAll), byKind(all), 'the SDK sees the same Version and DeleteMarker entries');
    for (const version of sdkAll.Versions ?? []) {
      const body = `${version.Key} #${written.findIndex((w) => w.versionId === version.VersionId && w.key === version.Key)}`;
      assert.deepEqual([version.Size, version.ETag], [Buffer.byteLength(body), `"${md5Hex(body)}"`], `Size and ETag of ${version.Key}`);
    }

    const prefixed = await listVersions({ Bucket: bucket, Prefix: 'a/' });
    assert.deepEqual(sdkEntries(prefixed), byKind(all.filter((e) => e.key.startsWith('a/'))));
    assert.equal(prefixed.Prefix, 'a/');

    const root = await listVersions({ Bucket: bucket, Delimiter: '/' });
    assert.deepEqual(sdkEntries(root), byKind(all.filter((e) => !e.key.includes('/'))));
    assert.deepEqual((root.CommonPrefixes ?? []).map((p) => p.Prefix), ['a/', 'enc/', 'mid/']);
    const nested = await listVersions({ Bucket: bucket, Prefix: 'a/', Delimiter: '/' });
    assert.deepEqual(sdkEntries(nested), byKind(all.filter((e) => e.key === 'a/1' || e.key === 'a/2')));
    assert.deepEqual((nested.CommonPrefixes ?? []).map((p) => p.Prefix), ['a/sub/']);

    const afterAlpha = await listVersions({ Bucket: bucket, KeyMarker: 'alpha' });
    assert.deepEqual(sdkEntries(afterAlpha), byKind(all.filter((e) => byUtf8(e.key, 'alpha') > 0)), 'key-marker alone starts after that key');

    const ids = (entries: readonly Listed[]) => entries.map(itemOf);
    for (const maxKeys of [1, 2, 3, 5]) {
      await pageThrough({ Bucket: bucket, MaxKeys: maxKeys }, ids(all));
    }
    const delimitedAll = [...ids(all.filter((e) => !e.key.includes('/'))), 'a/', 'enc/', 'mid/'].sort(byListingPosition);
    for (const maxKeys of [1, 2]) {
      await pageThrough({ Bucket: bucket, Delimiter: '/', MaxKeys: maxKeys }, delimitedAll);
    }

    const encoded = await listVersions({ Bucket: bucket, Prefix: 'enc/', EncodingType: 'url' });
    assert.equal(encoded.EncodingType, 'url', 'the reply echoes EncodingType, which is how clients know to decode');
    const encodedKeys = (encoded.Versions ?? []).map((v) => v.Key ?? '');
    assert.equal(encodedKeys.length, 2);
    for (const wire of encodedKeys) {
      assert.ok(!/[ &<>é]/.test(wire), `the key is URL-encoded on the wire: ${wire}`);
      assert.equal(formDecode(wire), encodedKey);
    }
    const plain = await listVersions({ Bucket: bucket, Prefix: 'enc/' });
    assert.deepEqual((plain.Versions ?? []).map((v) => v.Key), [encodedKey, encodedKey], 'without encoding-type the key is sent as is');
  });

  /**
   * Pages through ListObjectVersions with key-marker + version-id-marker (NextKeyMarker and
   * NextVersionIdMarker) and asserts that the pages, one after the other, list `expected` (items as
   * `key@versionId`, common prefixes as themselves) each exactly once and in listing order.
   */
  async function pageThrough(input: ListObjectVersionsCommandInput, expected: readonly string[]): Promise<void> {
    const position = new Map(expected.map((item, index) => [item, index]));
    const limit = input.MaxKeys ?? 1000;
    const seen: number[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let page = 0; page < 100; page++) {
      const reply = await s3.send(new ListObjectVersionsCommand({ ...input, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      const where = `page ${page} (MaxKeys ${limit}, key-marker ${keyMarker}, version-id-marker ${versionIdMarker})`;
      const indexOf = (item: string) => position.get(item) ?? assert.fail(`${where} lists ${item}, which it should not`);
      const { Version, DeleteMarker } = sdkEntries(reply);
      const versions = Version.map((e) => indexOf(itemOf(e)));
      const markers = DeleteMarker.map((e) => indexOf(itemOf(e)));
      const prefixes = (reply.CommonPrefixes ?? []).map((p) => indexOf(p.Prefix ?? ''));
      for (const list of [versions, markers, prefixes]) {
        assert.deepEqual(list, [...list].sort((a, b) => a - b), `${where}: each list in listing order`);
      }
      const items = [...versions, ...markers, ...prefixes].sort((a, b) => a - b);
      assert.ok(items.length <= limit, `${where} has ${items.length} entries`);
      seen.push(...items);
      if (reply.IsTruncated !== true) break;
      assert.ok(items.length > 0, `${where} is truncated but lists nothing`);
      assert.ok(reply.NextKeyMarker !== undefined, `${where} is truncated but has no NextKeyMarker`);
      keyMarker = reply.NextKeyMarker;
      versionIdMarker = reply.NextVersionIdMarker;
    }
    assert.deepEqual(
      seen.map((index) => expected[index]),
      expected,
      `MaxKeys ${limit}${input.Delimiter === undefined ? '' : `, delimiter ${input.Delimiter}`}: every entry exactly once, in order`,
    );
  }

  await t.test('CopyObject from /bucket/key?versionId= copies that old version', async () => {
    const bucket = 'ver-copy';
    await createBucket(bucket, 'Enabled');
    const oldBytes = randomBytes(4_097);
    const newBytes = randomBytes(513);
    const v1 = await putVersion(bucket, 'source bin', oldBytes);
    const v2 = await putVersion(bucket, 'source bin', newBytes);

    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'restored', CopySource: `/${bucket}/source%20bin?versionId=${encodeURIComponent(v1)}` }),
    );
    assert.equal(copied.CopySourceVersionId, v1, 'x-amz-copy-source-version-id names the version copied');
    assert.equal(copied.CopyObjectResult?.ETag, `"${md5Hex(oldBytes)}"`);
    const restored = copied.VersionId ?? assert.fail('the copy into an Enabled bucket has no version id');
    assert.ok(![v1, v2, 'null'].includes(restored), 'the copy is a new version of its own');
    const got = await read(bucket, 'restored');
    assert.ok(got.body.equals(oldBytes), 'the copy holds the old version, not the current one');
    assert.equal(got.response.VersionId, restored);

    const latest = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'current', CopySource: `${bucket}/source%20bin` }));
    assert.equal(latest.CopySourceVersionId, v2, 'without versionId the current version is copied');
    await assertReads(bucket, 'current', undefined, newBytes);

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'source bin' }));
    await expectS3Error(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'nothing', CopySource: `${bucket}/source%20bin` })),
      'NoSuchKey',
      404,
    );
    const stillOld = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'from-hidden', CopySource: `${bucket}/source%20bin?versionId=${encodeURIComponent(v1)}` }),
    );
    assert.equal(stillOld.CopySourceVersionId, v1, 'a version behind a delete marker can still be copied by id');
    await assertReads(bucket, 'from-hidden', undefined, oldBytes);
  });

  await t.test('DeleteObjects: version ids delete versions or markers; plain keys add markers', async () => {
    const bucket = 'ver-batch';
    await createBucket(bucket, 'Enabled');
    const k1a = await putVersion(bucket, 'k1', 'k1 first');
    await putVersion(bucket, 'k1', 'k1 second');
    const k2a = await putVersion(bucket, 'k2', 'k2 only');
    const k3a = await putVersion(bucket, 'k3', 'k3 only');

    const first = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'k1', VersionId: k1a }, { Key: 'k2' }, { Key: 'k3' }] } }),
    );
    assert.deepEqual(first.Errors ?? [], []);
    const deleted = new Map((first.Deleted ?? []).map((d) => [d.Key, d]));
    assert.deepEqual([...deleted.keys()].sort(), ['k1', 'k2', 'k3']);
    assert.equal(deleted.get('k1')?.VersionId, k1a);
    assert.notEqual(deleted.get('k1')?.DeleteMarker, true, 'k1: a version, not a marker, was deleted');
    const markers = new Map<string, string>();
    for (const key of ['k2', 'k3']) {
      const entry = deleted.get(key) ?? assert.fail(`${key} is not in Deleted`);
      assert.equal(entry.DeleteMarker, true, `${key}: a delete marker was created`);
      const marker = entry.DeleteMarkerVersionId ?? assert.fail(`${key}: no DeleteMarkerVersionId`);
      assert.equal(entry.VersionId, undefined, `${key}: no VersionId when none was asked for`);
      markers.set(key, marker);
    }
    await expectS3Error(read(bucket, 'k1', k1a), 'NoSuchVersion', 404);
    await assertReads(bucket, 'k1', undefined, 'k1 second');
    await expectS3Error(read(bucket, 'k2'), 'NoSuchKey', 404);
    const listed = await listVersions({ Bucket: bucket });
    assert.deepEqual(
      (listed.DeleteMarkers ?? []).map((m) => [m.Key, m.VersionId, m.IsLatest]),
      [['k2', markers.get('k2'), true], ['k3', markers.get('k3'), true]],
    );

    const second = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: ['k2', 'k3'].map((Key) => ({ Key, VersionId: markers.get(Key) })) },
      }),
    );
    assert.deepEqual(second.Errors ?? [], []);
    assert.deepEqual(
      (second.Deleted ?? [])
        .map((d) => [d.Key, d.VersionId, d.DeleteMarker, d.DeleteMarkerVersionId])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      ['k2', 'k3'].map((key) => [key, markers.get(key), true, markers.get(key)]),
      'deleting a marker by id reports DeleteMarker true and its id',
    );
    await assertReads(bucket, 'k2', k2a, 'k2 only');
    const k3 = await read(bucket, 'k3');
    assert.deepEqual([k3.body.toString(), k3.response.VersionId], ['k3 only', k3a], 'removing the marker restored k3');
  });

  await t.test('a multipart upload into an Enabled bucket makes a new version; the previous one stays readable', async () => {
    const bucket = 'ver-multipart';
    await createBucket(bucket, 'Enabled');
    const before = randomBytes(1_000);
    const v1 = await putVersion(bucket, 'big', before);
    const parts = [randomBytes(5 * MiB), randomBytes(12_345)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }));
    const completed = [];
    for (const [index, part] of parts.entries()) {
      const { ETag } = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'big', UploadId, PartNumber: index + 1, Body: part }));
      completed.push({ ETag, PartNumber: index + 1 });
    }
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'big', UploadId, MultipartUpload: { Parts: completed } }),
    );
    const v2 = done.VersionId ?? assert.fail('CompleteMultipartUpload returned no version id');
    assert.ok(v2 !== v1 && v2 !== 'null', `a new version id (${v2})`);
    const current = await read(bucket, 'big');
    assert.ok(current.body.equals(Buffer.concat(parts)), 'the upload is the current version');
    assert.equal(current.response.VersionId, v2);
    await assertReads(bucket, 'big', v1, before);
    assert.deepEqual(await rawListing(bucket), [
      { kind: 'Version', key: 'big', versionId: v2, isLatest: true },
      { kind: 'Version', key: 'big', versionId: v1, isLatest: false },
    ]);
  });

  await t.test('DeleteBucket → 409 BucketNotEmpty while old versions or delete markers remain', async () => {
    const bucket = 'ver-not-empty';
    await createBucket(bucket, 'Enabled');
    const version = await putVersion(bucket, 'k', 'data');
    const { VersionId: marker } = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
    assert.deepEqual((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? [], []);
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: version }));
    await expectS3Error(s3.send(new DeleteBucketCommand({ Bucket: bucket })), 'BucketNotEmpty', 409);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: marker }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await expectS3Error(s3.send(new HeadBucketCommand({ Bucket: bucket })), undefined, 404);
  });
});

/** The listing `written` should produce: keys in UTF-8 byte order, newest first within a key. */
function expectedListing(written: readonly Written[]): Listed[] {
  const keys = [...new Set(written.map((w) => w.key))].sort(byUtf8);
  return keys.flatMap((key) =>
    written
      .filter((w) => w.key === key)
      .reverse()
      .map((w, index) => ({ kind: w.kind, key, versionId: w.versionId, isLatest: index === 0 })),
  );
}

/** Splits a listing into its Version and DeleteMarker entries, each list keeping its order. */
function byKind(entries: readonly Listed[]): Record<Listed['kind'], Listed[]> {
  return { Version: entries.filter((e) => e.kind === 'Version'), DeleteMarker: entries.filter((e) => e.kind === 'DeleteMarker') };
}

/** The SDK's reply in the shape of byKind (the SDK keeps the two lists apart, losing their interleaving). */
function sdkEntries(output: ListObjectVersionsCommandOutput): Record<Listed['kind'], Listed[]> {
  const entry = (kind: Listed['kind']) => (e: { Key?: string; VersionId?: string; IsLatest?: boolean }): Listed => ({
    kind,
    key: e.Key ?? '',
    versionId: e.VersionId ?? '',
    isLatest: e.IsLatest === true,
  });
  return { Version: (output.Versions ?? []).map(entry('Version')), DeleteMarker: (output.DeleteMarkers ?? []).map(entry('DeleteMarker')) };
}

function itemOf(entry: Listed): string {
  return `${entry.key}@${entry.versionId}`;
}

function parseVersionEntries(xml: string): Listed[] {
  const field = (inner: string, name: string) => unescapeXml(new RegExp(`<${name}>([^<]*)</${name}>`).exec(inner)?.[1] ?? '');
  return [...xml.matchAll(/<(Version|DeleteMarker)>([\s\S]*?)<\/\1>/g)].map(([, kind, inner = '']) => ({
    kind: kind === 'Version' ? 'Version' : 'DeleteMarker',
    key: field(inner, 'Key'),
    versionId: field(inner, 'VersionId'),
    isLatest: field(inner, 'IsLatest') === 'true',
  }));
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Orders `key@versionId` items and common prefixes as one listing would: by key, and within a key
 * keeps the given order (Array.prototype.sort is stable).
 */
function byListingPosition(a: string, b: string): number {
  const keyOf = (item: string) => (item.includes('@') ? item.slice(0, item.lastIndexOf('@')) : item);
  return byUtf8(keyOf(a), keyOf(b));
}

/** Decodes an encoding-type=url value: %XX escapes, and '+' for a space as form encoding writes it. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replaceAll('+', '%20'));
}

async function caught(action: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await action;
  } catch (error) {
    assert.ok(error instanceof S3ServiceException, `expected an S3 service error, got ${String(error)}`);
    return error;
  }
  return assert.fail('expected the request to fail');
}

/** A header of the HTTP response behind an SDK error (the SDK does not model headers of errors). */
function headerOf(error: S3ServiceException, name: string): string | undefined {
  const headers = error.$response?.headers ?? {};
  const found = Object.entries(headers).find(([header]) => header.toLowerCase() === name);
  return found?.[1];
}

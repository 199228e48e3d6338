// Interop: S3 Object Lock with the AWS SDK for JavaScript v3 (default checksum settings) against a
// freshly started server (issue 3, "## Object Lock"). The expected status codes and error codes are
// AWS's (docs/notes s3-object-lock-and-clients.md §1 and its error table); a test that fails here is a
// server that differs from AWS, not a test to loosen. Every subtest uses its own bucket, so one
// failure does not cascade into the next. Retention dates are computed from Date.now(), never
// hard-coded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
  type ObjectLockConfiguration,
  type ObjectLockRetentionMode,
} from '@aws-sdk/client-s3';
import { md5Hex, sha256 } from '../support/file-tree.js';
import { captureRequests, expectS3Error, sdkClient } from '../support/sdk-client.js';
import { startVault } from '../support/vault-server.js';

const DAY_MS = 86_400_000;

/**
 * A retain-until date `ms` from now, on a whole second: the SDK writes the header without
 * milliseconds when they are zero, so the round trip can be compared exactly.
 */
function inFuture(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);
}

void test('S3 Object Lock with the AWS SDK for JavaScript v3 (default checksums)', { timeout: 180_000 }, async (t) => {
  const vault = await startVault();
  t.after(() => vault.stop());
  const s3 = sdkClient(vault);
  // No checksum unless the operation's model requires one, and no Content-MD5 either: the shape of
  // a client that relies on the SigV4 payload hash alone.
  const bare = sdkClient(vault, { requestChecksumCalculation: 'WHEN_REQUIRED' });
  const bareSent = captureRequests(bare);
  const sent = captureRequests(s3);

  const lockBucket = async (name: string) => {
    await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
    return name;
  };
  const put = async (bucket: string, key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) => {
    const body = randomBytes(1024);
    const response = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
    const versionId = response.VersionId ?? assert.fail(`PutObject ${bucket}/${key} returned no VersionId`);
    return { body, versionId, etag: response.ETag };
  };
  const retentionOf = async (bucket: string, key: string, versionId: string) =>
    (await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Retention;
  const setRetention = (bucket: string, key: string, versionId: string, mode: ObjectLockRetentionMode, until: Date, bypass?: boolean) =>
    s3.send(
      new PutObjectRetentionCommand({
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        Retention: { Mode: mode, RetainUntilDate: until },
        ...(bypass === undefined ? {} : { BypassGovernanceRetention: bypass }),
      }),
    );

  await t.test('CreateBucket with x-amz-bucket-object-lock-enabled: versioning on for good', async () => {
    const bucket = await lockBucket('lock-create');
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    assert.equal(versioning.Status, 'Enabled');
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    assert.deepEqual(config.ObjectLockConfiguration, { ObjectLockEnabled: 'Enabled' }, 'lock enabled, no default rule');
    await expectS3Error(
      s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })),
      'InvalidBucketState',
      409,
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled', 'still Enabled');
    // Enabling what is already enabled is no state change and is allowed.
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const { versionId } = await put(bucket, 'k');
    assert.notEqual(versionId, 'null', 'writes get real version ids');
  });

  await t.test('GetObjectLockConfiguration without one → 404 ObjectLockConfigurationNotFoundError', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lock-none-plain' }));
    await expectS3Error(
      s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-none-plain' })),
      'ObjectLockConfigurationNotFoundError',
      404,
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'lock-none-versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'lock-none-versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    await expectS3Error(
      s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-none-versioned' })),
      'ObjectLockConfigurationNotFoundError',
      404,
    );
  });

  await t.test('PutObjectLockConfiguration round-trips default retention exactly; the rule can be removed', async () => {
    const bucket = await lockBucket('lock-config');
    const configs: ObjectLockConfiguration[] = [
      { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 36_500 } } },
      { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Years: 3 } } },
      { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } } },
      { ObjectLockEnabled: 'Enabled' },
    ];
    for (const config of configs) {
      await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: config }));
      const read = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
      assert.deepEqual(read.ObjectLockConfiguration, config, JSON.stringify(config));
    }
  });

  await t.test('PutObjectLockConfiguration refuses malformed rules and keeps the old one', async () => {
    const bucket = await lockBucket('lock-config-bad');
    const good: ObjectLockConfiguration = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 7 } } };
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: good }));
    const attempt = (config: ObjectLockConfiguration) =>
      s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: config }));

    await expectS3Error(
      attempt({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1, Years: 1 } } }),
      'MalformedXML',
      400,
    );
    await expectS3Error(
      attempt({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'governance' as ObjectLockRetentionMode, Days: 1 } } }),
      'MalformedXML',
      400,
    );
    await expectS3Error(attempt({ ObjectLockEnabled: 'Disabled' as 'Enabled' }), 'MalformedXML', 400);
    for (const days of [0, -1]) {
      // AWS answers InvalidArgument ("must be a positive integer value"); s3-tests expects
      // InvalidRetentionPeriod (s3-tests #344). Either code, but 400 and nothing stored.
      await assert.rejects(attempt({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: days } } }), (error: unknown) => {
        assert.ok(error instanceof S3ServiceException, String(error));
        const detail = `${error.name} (${error.$metadata.httpStatusCode}): ${error.message}`;
        assert.equal(error.$metadata.httpStatusCode, 400, `Days ${days}: ${detail}`);
        assert.ok(['InvalidArgument', 'InvalidRetentionPeriod'].includes(error.name), `Days ${days}: ${detail}`);
        return true;
      });
    }
    const read = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    assert.deepEqual(read.ObjectLockConfiguration, good, 'refused requests left the configuration alone');
  });

  await t.test('PutObjectLockConfiguration on an existing bucket: versioning Enabled works, otherwise 409 InvalidBucketState', async () => {
    const enable: ObjectLockConfiguration = { ObjectLockEnabled: 'Enabled' };
    await s3.send(new CreateBucketCommand({ Bucket: 'lock-later-plain' }));
    await expectS3Error(
      s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'lock-later-plain', ObjectLockConfiguration: enable })),
      'InvalidBucketState',
      409,
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'lock-later-suspended' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'lock-later-suspended', VersioningConfiguration: { Status: 'Suspended' } }));
    await expectS3Error(
      s3.send(new PutObjectLockConfigurationCommand({ Bucket: 'lock-later-suspended', ObjectLockConfiguration: enable })),
      'InvalidBucketState',
      409,
    );
    await expectS3Error(
      s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'lock-later-plain' })),
      'ObjectLockConfigurationNotFoundError',
      404,
    );

    const bucket = 'lock-later-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const before = await put(bucket, 'older');
    const withRule: ObjectLockConfiguration = { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 2 } } };
    await s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: withRule }));
    assert.deepEqual((await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration, withRule);
    await expectS3Error(
      s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } })),
      'InvalidBucketState',
      409,
    );
    await expectS3Error(
      s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'older', VersionId: before.versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );
    const after = await put(bucket, 'newer');
    assert.equal((await retentionOf(bucket, 'newer', after.versionId))?.Mode, 'GOVERNANCE', 'the new default applies to new writes');
  });

  await t.test('PutObject lock headers come back on GET and HEAD; the legal-hold header only once set', async () => {
    const bucket = await lockBucket('lock-headers');
    const until = inFuture(DAY_MS);
    const held = await put(bucket, 'held', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'ON' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'held', VersionId: held.versionId }));
    assert.deepEqual(
      [head.ObjectLockMode, head.ObjectLockRetainUntilDate?.getTime(), head.ObjectLockLegalHoldStatus],
      ['GOVERNANCE', until.getTime(), 'ON'],
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'held' }));
    assert.deepEqual(
      [got.ObjectLockMode, got.ObjectLockRetainUntilDate?.getTime(), got.ObjectLockLegalHoldStatus],
      ['GOVERNANCE', until.getTime(), 'ON'],
    );
    assert.equal(sha256(Buffer.from((await got.Body?.transformToByteArray()) ?? [])), sha256(held.body));
    assert.deepEqual((await retentionOf(bucket, 'held', held.versionId))?.RetainUntilDate?.getTime(), until.getTime());

    const compliance = await put(bucket, 'compliance', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until });
    const compliant = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'compliance', VersionId: compliance.versionId }));
    assert.deepEqual([compliant.ObjectLockMode, compliant.ObjectLockRetainUntilDate?.getTime()], ['COMPLIANCE', until.getTime()]);
    assert.equal(compliant.ObjectLockLegalHoldStatus, undefined, 'no legal-hold header when never set');

    await put(bucket, 'plain');
    const plain = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'plain' }));
    assert.deepEqual([plain.ObjectLockMode, plain.ObjectLockRetainUntilDate, plain.ObjectLockLegalHoldStatus], [undefined, undefined, undefined]);

    const onlyHold = await put(bucket, 'only-hold', { ObjectLockLegalHoldStatus: 'ON' });
    const hold = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'only-hold', VersionId: onlyHold.versionId }));
    assert.deepEqual([hold.ObjectLockMode, hold.ObjectLockLegalHoldStatus], [undefined, 'ON']);
  });

  await t.test('lock headers: both or neither, a future date, and a bucket with Object Lock', async () => {
    const bucket = await lockBucket('lock-header-errors');
    const until = inFuture(DAY_MS);
    const attempt = (target: string, key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]>) =>
      s3.send(new PutObjectCommand({ Bucket: target, Key: key, Body: 'x', ...extra }));
    await expectS3Error(attempt(bucket, 'mode-only', { ObjectLockMode: 'GOVERNANCE' }), 'InvalidArgument', 400);
    await expectS3Error(attempt(bucket, 'date-only', { ObjectLockRetainUntilDate: until }), 'InvalidArgument', 400);
    await expectS3Error(
      attempt(bucket, 'past', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() - 60_000) }),
      'InvalidArgument',
      400,
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'lock-header-plain' }));
    await expectS3Error(
      attempt('lock-header-plain', 'k', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until }),
      'InvalidRequest',
      400,
    );
    await expectS3Error(attempt('lock-header-plain', 'hold', { ObjectLockLegalHoldStatus: 'ON' }), 'InvalidRequest', 400);
    for (const [target, key] of [[bucket, 'mode-only'], [bucket, 'date-only'], [bucket, 'past'], ['lock-header-plain', 'k'], ['lock-header-plain', 'hold']] as const) {
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: target, Key: key })), undefined, 404);
    }
    // CopyObject and CreateMultipartUpload validate the same headers.
    await put(bucket, 'source');
    await expectS3Error(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy', CopySource: `${bucket}/source`, ObjectLockMode: 'GOVERNANCE' })),
      'InvalidArgument',
      400,
    );
    await expectS3Error(
      s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ObjectLockRetainUntilDate: until })),
      'InvalidArgument',
      400,
    );
    await expectS3Error(
      s3.send(new CreateMultipartUploadCommand({ Bucket: 'lock-header-plain', Key: 'mpu', ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until })),
      'InvalidRequest',
      400,
    );
  });

  await t.test('locked writes need Content-MD5 or x-amz-checksum-*; the SigV4 payload hash does not count', async () => {
    const bucket = await lockBucket('lock-integrity');
    const lock = { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: inFuture(DAY_MS) } as const;
    const data = randomBytes(512);
    const noIntegrity = () => {
      const headers = bareSent.at(-1)?.headers ?? assert.fail('no request captured');
      const integrity = Object.keys(headers).filter((name) => /^(content-md5|x-amz-checksum-)/i.test(name));
      assert.deepEqual(integrity, [], 'the request really carried no integrity header');
    };
    await expectS3Error(bare.send(new PutObjectCommand({ Bucket: bucket, Key: 'bare', Body: data, ...lock })), 'InvalidRequest', 400);
    noIntegrity();
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bare' })), undefined, 404);
    await bare.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5', Body: data, ContentMD5: md5Base64(data), ...lock }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5' }))).ObjectLockMode, 'GOVERNANCE');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'crc32', Body: data, ...lock }));
    const crcHeaders = sent.at(-1)?.headers ?? assert.fail('no request captured');
    assert.ok(crcHeaders['x-amz-checksum-crc32'] !== undefined && crcHeaders['content-md5'] === undefined, 'the SDK default: CRC32, no MD5');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'crc32' }))).ObjectLockMode, 'GOVERNANCE');

    // A bucket default retention makes every write a locked write.
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      }),
    );
    await expectS3Error(bare.send(new PutObjectCommand({ Bucket: bucket, Key: 'bare-default', Body: data })), 'InvalidRequest', 400);
    noIntegrity();
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bare-default' })), undefined, 404);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'crc32-default', Body: data }));

    // UploadPart the same ("… for Put Part requests with Object Lock parameters").
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu-default' }));
    const uploadId = created.UploadId ?? assert.fail('no UploadId');
    await expectS3Error(
      bare.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu-default', UploadId: uploadId, PartNumber: 1, Body: data })),
      'InvalidRequest',
      400,
    );
    noIntegrity();
    await bare.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'mpu-default', UploadId: uploadId, PartNumber: 1, Body: data, ContentMD5: md5Base64(data) }),
    );
  });

  await t.test('default retention: applied from the version creation time, overridden by explicit headers', async () => {
    const bucket = await lockBucket('lock-default');
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2 } } },
      }),
    );
    const started = Date.now();
    const defaulted = await put(bucket, 'defaulted');
    const finished = Date.now();
    const retention = await retentionOf(bucket, 'defaulted', defaulted.versionId);
    assert.equal(retention?.Mode, 'COMPLIANCE');
    const until = retention?.RetainUntilDate?.getTime() ?? assert.fail('no RetainUntilDate');
    // Same machine, same clock: creation time + 2 days, give or take the request and one second of rounding.
    assert.ok(until >= started + 2 * DAY_MS - 1_000 && until <= finished + 2 * DAY_MS + 1_000, `RetainUntilDate ${new Date(until).toISOString()}`);

    const explicit = inFuture(5 * DAY_MS);
    const overridden = await put(bucket, 'explicit', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: explicit });
    const own = await retentionOf(bucket, 'explicit', overridden.versionId);
    assert.deepEqual([own?.Mode, own?.RetainUntilDate?.getTime()], ['GOVERNANCE', explicit.getTime()]);
  });

  await t.test('changing or removing the default never changes existing versions', async () => {
    const bucket = await lockBucket('lock-default-change');
    const setDefault = (config: ObjectLockConfiguration) =>
      s3.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: config }));
    await setDefault({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } });
    const first = await put(bucket, 'k');
    const original = await retentionOf(bucket, 'k', first.versionId);
    assert.equal(original?.Mode, 'GOVERNANCE');

    await setDefault({ ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Years: 1 } } });
    assert.deepEqual(await retentionOf(bucket, 'k', first.versionId), original, 'a new default leaves the old version alone');
    const second = await put(bucket, 'k');
    assert.equal((await retentionOf(bucket, 'k', second.versionId))?.Mode, 'COMPLIANCE');

    await setDefault({ ObjectLockEnabled: 'Enabled' });
    assert.deepEqual(await retentionOf(bucket, 'k', first.versionId), original, 'removing the default leaves it alone');
    assert.equal((await retentionOf(bucket, 'k', second.versionId))?.Mode, 'COMPLIANCE');
    const third = await put(bucket, 'k');
    await expectS3Error(
      s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: third.versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );
  });

  await t.test('CopyObject and CreateMultipartUpload take their own lock headers; a copy does not inherit the source lock', async () => {
    const bucket = await lockBucket('lock-copy-mpu');
    const until = inFuture(DAY_MS);
    const source = await put(bucket, 'source', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'ON' });
    const copySource = `${bucket}/source?versionId=${encodeURIComponent(source.versionId)}`;

    const plainCopy = await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy-plain', CopySource: copySource }));
    const plainHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy-plain', VersionId: plainCopy.VersionId }));
    assert.deepEqual(
      [plainHead.ObjectLockMode, plainHead.ObjectLockRetainUntilDate, plainHead.ObjectLockLegalHoldStatus],
      [undefined, undefined, undefined],
      '"Copied objects will not retain the Object Lock settings"',
    );

    const copyUntil = inFuture(2 * DAY_MS);
    const lockedCopy = await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy-locked', CopySource: copySource, ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: copyUntil, ObjectLockLegalHoldStatus: 'ON' }),
    );
    const copyHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy-locked', VersionId: lockedCopy.VersionId }));
    assert.deepEqual(
      [copyHead.ObjectLockMode, copyHead.ObjectLockRetainUntilDate?.getTime(), copyHead.ObjectLockLegalHoldStatus],
      ['GOVERNANCE', copyUntil.getTime(), 'ON'],
    );

    const mpuUntil = inFuture(3 * DAY_MS);
    const created = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: mpuUntil, ObjectLockLegalHoldStatus: 'ON' }),
    );
    const uploadId = created.UploadId ?? assert.fail('no UploadId');
    const data = randomBytes(2048);
    const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId, PartNumber: 1, Body: data }));
    const completed: CompletedPart = { PartNumber: 1, ETag: part.ETag, ...(part.ChecksumCRC32 === undefined ? {} : { ChecksumCRC32: part.ChecksumCRC32 }) };
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mpu', UploadId: uploadId, MultipartUpload: { Parts: [completed] } }));
    const versionId = done.VersionId ?? assert.fail('CompleteMultipartUpload returned no VersionId');
    const mpuHead = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mpu', VersionId: versionId }));
    assert.deepEqual(
      [mpuHead.ObjectLockMode, mpuHead.ObjectLockRetainUntilDate?.getTime(), mpuHead.ObjectLockLegalHoldStatus],
      ['COMPLIANCE', mpuUntil.getTime(), 'ON'],
    );
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'mpu', VersionId: versionId })), 'AccessDenied', 403);
  });

  await t.test('GetObjectRetention / GetObjectLegalHold on a version with none → 404 NoSuchObjectLockConfiguration', async () => {
    const bucket = await lockBucket('lock-get-none');
    const { versionId } = await put(bucket, 'k');
    await expectS3Error(
      s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );
    await expectS3Error(
      s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'k', VersionId: versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );
  });

  await t.test('retention and legal hold on a bucket without Object Lock → 400 InvalidRequest', async () => {
    const bucket = 'lock-absent';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    const { versionId } = await put(bucket, 'k');
    await expectS3Error(setRetention(bucket, 'k', versionId, 'GOVERNANCE', inFuture(DAY_MS)), 'InvalidRequest', 400);
    await expectS3Error(s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId })), 'InvalidRequest', 400);
    await expectS3Error(
      s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: 'k', VersionId: versionId, LegalHold: { Status: 'ON' } })),
      'InvalidRequest',
      400,
    );
    await expectS3Error(s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: 'k', VersionId: versionId })), 'InvalidRequest', 400);
    // The version is still deletable: nothing was locked.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: versionId }));
  });

  await t.test('PutObjectRetention targets the given version, not the latest', async () => {
    const bucket = await lockBucket('lock-retention-version');
    const older = await put(bucket, 'k');
    const newer = await put(bucket, 'k');
    const until = inFuture(DAY_MS);
    await setRetention(bucket, 'k', older.versionId, 'GOVERNANCE', until);
    const retention = await retentionOf(bucket, 'k', older.versionId);
    assert.deepEqual([retention?.Mode, retention?.RetainUntilDate?.getTime()], ['GOVERNANCE', until.getTime()]);
    await expectS3Error(
      s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: newer.versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );
  });

  await t.test('compliance retention: extended by anyone, never shortened, switched or removed — not even by root with bypass', async () => {
    const bucket = await lockBucket('lock-compliance');
    const until = inFuture(DAY_MS);
    const { versionId } = await put(bucket, 'k', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until });
    const shorter = inFuture(DAY_MS / 2);
    for (const bypass of [undefined, true]) {
      await expectS3Error(setRetention(bucket, 'k', versionId, 'COMPLIANCE', shorter, bypass), 'AccessDenied', 403);
      await expectS3Error(setRetention(bucket, 'k', versionId, 'GOVERNANCE', until, bypass), 'AccessDenied', 403);
      await expectS3Error(setRetention(bucket, 'k', versionId, 'GOVERNANCE', inFuture(2 * DAY_MS), bypass), 'AccessDenied', 403);
      await expectS3Error(
        s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId, Retention: {}, ...(bypass === true ? { BypassGovernanceRetention: true } : {}) })),
        'AccessDenied',
        403,
      );
    }
    const unchanged = await retentionOf(bucket, 'k', versionId);
    assert.deepEqual([unchanged?.Mode, unchanged?.RetainUntilDate?.getTime()], ['COMPLIANCE', until.getTime()]);

    const later = inFuture(3 * DAY_MS);
    await setRetention(bucket, 'k', versionId, 'COMPLIANCE', later);
    const extended = await retentionOf(bucket, 'k', versionId);
    assert.deepEqual([extended?.Mode, extended?.RetainUntilDate?.getTime()], ['COMPLIANCE', later.getTime()]);
    await expectS3Error(setRetention(bucket, 'k', versionId, 'COMPLIANCE', until, true), 'AccessDenied', 403);
  });

  await t.test('governance retention: extended freely; shortened, switched or removed only with bypass', async () => {
    const bucket = await lockBucket('lock-governance');
    const until = inFuture(DAY_MS);
    const { versionId } = await put(bucket, 'k', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    const current = async () => {
      const retention = await retentionOf(bucket, 'k', versionId);
      return [retention?.Mode, retention?.RetainUntilDate?.getTime()];
    };
    const later = inFuture(2 * DAY_MS);
    await setRetention(bucket, 'k', versionId, 'GOVERNANCE', later);
    assert.deepEqual(await current(), ['GOVERNANCE', later.getTime()], 'extended without bypass');

    for (const bypass of [undefined, false]) {
      await expectS3Error(setRetention(bucket, 'k', versionId, 'GOVERNANCE', until, bypass), 'AccessDenied', 403);
      await expectS3Error(setRetention(bucket, 'k', versionId, 'COMPLIANCE', later, bypass), 'AccessDenied', 403);
      await expectS3Error(
        s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId, Retention: {}, ...(bypass === false ? { BypassGovernanceRetention: false } : {}) })),
        'AccessDenied',
        403,
      );
    }
    assert.deepEqual(await current(), ['GOVERNANCE', later.getTime()], 'refused changes changed nothing');

    await setRetention(bucket, 'k', versionId, 'GOVERNANCE', until, true);
    assert.deepEqual(await current(), ['GOVERNANCE', until.getTime()], 'shortened with bypass');
    await s3.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId, Retention: {}, BypassGovernanceRetention: true }));
    await expectS3Error(
      s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'k', VersionId: versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );

    const switched = await put(bucket, 'switch', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    await setRetention(bucket, 'switch', switched.versionId, 'COMPLIANCE', until, true);
    assert.equal((await retentionOf(bucket, 'switch', switched.versionId))?.Mode, 'COMPLIANCE', 'switched with bypass');
  });

  await t.test('legal hold: ON and OFF, independent of retention, no bypass', async () => {
    const bucket = await lockBucket('lock-legal-hold');
    const setHold = (key: string, versionId: string, status: 'ON' | 'OFF') =>
      s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: versionId, LegalHold: { Status: status } }));
    const holdOf = async (key: string, versionId: string) =>
      (await s3.send(new GetObjectLegalHoldCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).LegalHold?.Status;

    const bare = await put(bucket, 'bare');
    await setHold('bare', bare.versionId, 'ON');
    assert.equal(await holdOf('bare', bare.versionId), 'ON');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bare', VersionId: bare.versionId }))).ObjectLockLegalHoldStatus, 'ON');
    await expectS3Error(
      s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: 'bare', VersionId: bare.versionId })),
      'NoSuchObjectLockConfiguration',
      404,
    );
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'bare', VersionId: bare.versionId })), 'AccessDenied', 403);
    await expectS3Error(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'bare', VersionId: bare.versionId, BypassGovernanceRetention: true })),
      'AccessDenied',
      403,
    );
    await setHold('bare', bare.versionId, 'OFF');
    assert.equal(await holdOf('bare', bare.versionId), 'OFF');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bare', VersionId: bare.versionId }))).ObjectLockLegalHoldStatus, 'OFF');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'bare', VersionId: bare.versionId }));

    // Governance retention plus a hold: bypass lifts the retention, never the hold.
    const until = inFuture(DAY_MS);
    const both = await put(bucket, 'both', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until, ObjectLockLegalHoldStatus: 'ON' });
    await expectS3Error(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'both', VersionId: both.versionId, BypassGovernanceRetention: true })),
      'AccessDenied',
      403,
    );
    await setHold('both', both.versionId, 'OFF');
    const retention = await retentionOf(bucket, 'both', both.versionId);
    assert.deepEqual([retention?.Mode, retention?.RetainUntilDate?.getTime()], ['GOVERNANCE', until.getTime()], 'hold OFF leaves retention');
    await expectS3Error(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'both', VersionId: both.versionId })), 'AccessDenied', 403);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'both', VersionId: both.versionId, BypassGovernanceRetention: true }));
  });

  await t.test('DeleteObject: locked versions refused by id, governance deletable with bypass, delete markers always allowed', async () => {
    const bucket = await lockBucket('lock-delete');
    const until = inFuture(DAY_MS);
    const compliance = await put(bucket, 'c', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until });
    const governance = await put(bucket, 'g', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    const del = (key: string, versionId: string, bypass?: boolean) =>
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, ...(bypass === undefined ? {} : { BypassGovernanceRetention: bypass }) }));

    await expectS3Error(del('c', compliance.versionId), 'AccessDenied', 403);
    await expectS3Error(del('c', compliance.versionId, true), 'AccessDenied', 403);
    await expectS3Error(del('g', governance.versionId), 'AccessDenied', 403);
    await expectS3Error(del('g', governance.versionId, false), 'AccessDenied', 403);

    for (const [key, locked] of [['c', compliance], ['g', governance]] as const) {
      const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(marker.$metadata.httpStatusCode, 204);
      assert.equal(marker.DeleteMarker, true, `${key}: a delete marker was added`);
      assert.ok(marker.VersionId !== undefined && marker.VersionId !== locked.versionId, `${key}: the marker has its own version id`);
      await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), undefined, 404);
      const read = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: locked.versionId }));
      assert.equal(sha256(Buffer.from((await read.Body?.transformToByteArray()) ?? [])), sha256(locked.body), `${key}: bytes kept`);
      // Markers are not WORM-protected: deleting one brings the object back.
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: marker.VersionId }));
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).VersionId, locked.versionId);
    }

    const bypassed = await del('g', governance.versionId, true);
    assert.equal(bypassed.$metadata.httpStatusCode, 204);
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'g', VersionId: governance.versionId })), undefined, 404);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    assert.deepEqual((versions.Versions ?? []).map((v) => [v.Key, v.VersionId]), [['c', compliance.versionId]]);
  });

  await t.test('DeleteObjects: locked versions come back as AccessDenied inside a 200', async () => {
    const bucket = await lockBucket('lock-delete-many');
    const until = inFuture(DAY_MS);
    const compliance = await put(bucket, 'c', { ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: until });
    const governance = await put(bucket, 'g', { ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    const held = await put(bucket, 'h', { ObjectLockLegalHoldStatus: 'ON' });
    const free = await put(bucket, 'free');
    const objects = [
      { Key: 'c', VersionId: compliance.versionId },
      { Key: 'g', VersionId: governance.versionId },
      { Key: 'h', VersionId: held.versionId },
      { Key: 'free', VersionId: free.versionId },
    ];

    const result = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
    assert.equal(result.$metadata.httpStatusCode, 200);
    const errors = (result.Errors ?? []).map((e) => [e.Key, e.VersionId, e.Code]).sort();
    assert.deepEqual(errors, [
      ['c', compliance.versionId, 'AccessDenied'],
      ['g', governance.versionId, 'AccessDenied'],
      ['h', held.versionId, 'AccessDenied'],
    ]);
    assert.deepEqual((result.Deleted ?? []).map((d) => [d.Key, d.VersionId]), [['free', free.versionId]]);

    const bypassed = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: objects.slice(0, 3) } }),
    );
    assert.deepEqual(
      (bypassed.Errors ?? []).map((e) => [e.Key, e.Code]).sort(),
      [['c', 'AccessDenied'], ['h', 'AccessDenied']],
      'bypass lifts governance only: not compliance, not a legal hold',
    );
    assert.deepEqual((bypassed.Deleted ?? []).map((d) => [d.Key, d.VersionId]), [['g', governance.versionId]]);
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    assert.deepEqual((left.Versions ?? []).map((v) => v.Key).sort(), ['c', 'h']);
  });

  await t.test('x-amz-bypass-governance-retention on DeleteObjects to a bucket without Object Lock is ignored', async () => {
    const bucket = 'lock-bypass-ignored';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'b' }));
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, BypassGovernanceRetention: true, Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } }),
    );
    assert.deepEqual(result.Errors ?? [], []);
    assert.deepEqual((result.Deleted ?? []).map((d) => d.Key).sort(), ['a', 'b']);
    await expectS3Error(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a' })), undefined, 404);
  });
});

function md5Base64(data: Uint8Array): string {
  return Buffer.from(md5Hex(data), 'hex').toString('base64');
}

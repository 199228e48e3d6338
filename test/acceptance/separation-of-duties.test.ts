import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type KeyPair, adminJson, clientFor, createIdentityWithKey, holdfast, rootKey } from '../support/admin-cli.js';
import { expectS3Error } from '../support/sdk-client.js';
import { type RunningVault, startVault } from '../support/vault-server.js';

/**
 * The policy's sentences about who may touch backups, end to end through the CLI and real SDK
 * clients: "write and delete access to backup storage is restricted to automated backup
 * processes only", "no individual user has permissions to delete or modify backup objects
 * directly", "IAM policies enforce separation of duties between backup creation and backup
 * deletion".
 */
const DAY = 24 * 3600 * 1000;
let vault: RunningVault;
let root: KeyPair;
let rootS3: S3Client;
const clients: S3Client[] = [];

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

async function put(client: S3Client, bucket: string, key: string, text: string, lock?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; untilMs: number }) {
  const body = Buffer.from(text);
  return client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentMD5: md5(body),
      ...(lock === undefined ? {} : { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(lock.untilMs) }),
    }),
  );
}

function client(key: KeyPair): S3Client {
  const c = clientFor(vault, key);
  clients.push(c);
  return c;
}

before(async () => {
  vault = await startVault();
  root = rootKey(vault);
  rootS3 = client(root);
  await rootS3.send(new CreateBucketCommand({ Bucket: 'backups', ObjectLockEnabledForBucket: true }));
  await rootS3.send(new CreateBucketCommand({ Bucket: 'team-a' }));
  await rootS3.send(new CreateBucketCommand({ Bucket: 'team-b' }));
});

after(async () => {
  for (const c of clients) c.destroy();
  await vault?.stop();
});

describe('identities and separation of duties', { timeout: 120_000 }, () => {
  test('a backup-writer key uploads and reads, and every delete or retention-weakening path is refused', async () => {
    const writer = client(await createIdentityWithKey(vault, root, 'pg-archiver', ['backup-writer'], ['--service']));
    const written = await put(writer, 'backups', 'wal/000000010000000000000001', 'segment', undefined);
    assert.ok(written.VersionId);
    const read = await writer.send(new GetObjectCommand({ Bucket: 'backups', Key: 'wal/000000010000000000000001' }));
    assert.equal(await read.Body?.transformToString(), 'segment');
    const listed = await writer.send(new ListObjectsV2Command({ Bucket: 'backups' }));
    assert.equal(listed.KeyCount, 1);

    const key = 'wal/000000010000000000000001';
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ['DeleteObject', () => writer.send(new DeleteObjectCommand({ Bucket: 'backups', Key: key }))],
      ['DeleteObject by version', () => writer.send(new DeleteObjectCommand({ Bucket: 'backups', Key: key, VersionId: written.VersionId }))],
      [
        'DeleteObject with bypass',
        () => writer.send(new DeleteObjectCommand({ Bucket: 'backups', Key: key, VersionId: written.VersionId, BypassGovernanceRetention: true })),
      ],
      [
        'PutObjectRetention',
        () => writer.send(new PutObjectRetentionCommand({ Bucket: 'backups', Key: key, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + DAY) } })),
      ],
      ['PutObjectLegalHold', () => writer.send(new PutObjectLegalHoldCommand({ Bucket: 'backups', Key: key, LegalHold: { Status: 'ON' } }))],
      ['PutObject with lock headers', () => put(writer, 'backups', 'locked-by-writer', 'x', { mode: 'GOVERNANCE', untilMs: Date.now() + DAY })],
      [
        'PutObjectLockConfiguration',
        () => writer.send(new PutObjectLockConfigurationCommand({ Bucket: 'backups', ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled' } })),
      ],
      ['CreateBucket', () => writer.send(new CreateBucketCommand({ Bucket: 'writer-made' }))],
      ['DeleteBucket', () => writer.send(new DeleteBucketCommand({ Bucket: 'team-a' }))],
      ['PutBucketPolicy', () => writer.send(new PutBucketPolicyCommand({ Bucket: 'backups', Policy: '{"Version":"2012-10-17","Statement":[]}' }))],
    ];
    for (const [name, attempt] of refusals) {
      await expectS3Error(attempt(), 'AccessDenied', 403).catch((e: unknown) => {
        throw new Error(`${name}: ${(e as Error).message}`);
      });
    }
    // DeleteObjects answers per key: each one refused.
    const batch = await writer.send(
      new DeleteObjectsCommand({ Bucket: 'backups', Delete: { Objects: [{ Key: key }, { Key: key, VersionId: written.VersionId }] } }),
    );
    assert.equal(batch.Deleted?.length ?? 0, 0);
    assert.deepEqual(batch.Errors?.map((e) => e.Code), ['AccessDenied', 'AccessDenied']);
    // The refusal says who, what and why, like AWS.
    await assert.rejects(writer.send(new DeleteObjectCommand({ Bucket: 'backups', Key: key })), /pg-archiver is not authorized to perform: s3:DeleteObject/);
    // And nothing changed.
    const after = await rootS3.send(new GetObjectCommand({ Bucket: 'backups', Key: key }));
    assert.equal(after.VersionId, written.VersionId);
  });

  test('a pruner cannot delete a retained version but can delete one whose retention has expired; it cannot write', async () => {
    const pruner = client(await createIdentityWithKey(vault, root, 'retention-pruner', ['pruner'], ['--service']));
    const retained = await put(rootS3, 'backups', 'base/retained', 'keep me', { mode: 'COMPLIANCE', untilMs: Date.now() + DAY });
    const expiring = await put(rootS3, 'backups', 'base/expiring', 'old', { mode: 'GOVERNANCE', untilMs: Date.now() + 1500 });
    await expectS3Error(pruner.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'base/retained', VersionId: retained.VersionId })), 'AccessDenied', 403);
    // Governance retention: the pruner holds no s3:BypassGovernanceRetention, so the header changes nothing.
    await expectS3Error(
      pruner.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'base/expiring', VersionId: expiring.VersionId, BypassGovernanceRetention: true })),
      'AccessDenied',
      403,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await pruner.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'base/expiring', VersionId: expiring.VersionId }));
    await expectS3Error(rootS3.send(new GetObjectCommand({ Bucket: 'backups', Key: 'base/expiring', VersionId: expiring.VersionId })), 'NoSuchVersion', 404);
    await expectS3Error(put(pruner, 'backups', 'base/new', 'x'), 'AccessDenied', 403);
    assert.equal(await (await rootS3.send(new GetObjectCommand({ Bucket: 'backups', Key: 'base/retained' }))).Body?.transformToString(), 'keep me');
  });

  test('an admin configures but cannot delete or modify backup objects, nor bypass compliance retention', async () => {
    const admin = client(await createIdentityWithKey(vault, root, 'alice', ['admin']));
    const locked = await put(rootS3, 'backups', 'base/compliance', 'x', { mode: 'COMPLIANCE', untilMs: Date.now() + DAY });
    await expectS3Error(admin.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'base/compliance', VersionId: locked.VersionId, BypassGovernanceRetention: true })), 'AccessDenied', 403);
    await expectS3Error(put(admin, 'backups', 'base/compliance', 'overwrite'), 'AccessDenied', 403);
    await expectS3Error(
      admin.send(new PutObjectRetentionCommand({ Bucket: 'backups', Key: 'base/compliance', VersionId: locked.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })),
      'AccessDenied',
      403,
    );
    // Configuration is the admin's job.
    await admin.send(new CreateBucketCommand({ Bucket: 'alice-made' }));
    // Root itself cannot shorten compliance retention either (the lock, not a policy, refuses).
    await expectS3Error(
      rootS3.send(new PutObjectRetentionCommand({ Bucket: 'backups', Key: 'base/compliance', VersionId: locked.VersionId, BypassGovernanceRetention: true, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: new Date(Date.now() + 60_000) } })),
      'AccessDenied',
      403,
    );
  });

  test('granting one identity both write and delete on a bucket is refused, naming the conflict; an audited override exists', async () => {
    const refused = await holdfast(vault, root, ['admin', 'users', 'create', 'all-in-one', '--service', '--role', 'backup-writer', '--role', 'pruner'], 3);
    assert.match(refused.stderr, /SeparationOfDutiesConflict: .*all-in-one.*s3:PutObject.*s3:Delete/);
    assert.match(refused.stderr, /set-duty-override/);
    await holdfast(vault, root, ['admin', 'users', 'create', 'tester', '--service', '--role', 'backup-writer']);
    const attach = await holdfast(vault, root, ['admin', 'users', 'attach-role', 'tester', 'pruner'], 3);
    assert.match(attach.stderr, /SeparationOfDutiesConflict/);
    // An inline policy that sneaks s3:* in is caught the same way.
    const file = join(mkdtempSync(join(tmpdir(), 'holdfast-policy-')), 'everything.json');
    writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::team-a/*' }] }));
    const inline = await holdfast(vault, root, ['admin', 'users', 'put-policy', 'tester', 'everything', file], 3);
    assert.match(inline.stderr, /SeparationOfDutiesConflict: .*bucket "team-a"/);
    // The explicit override, with its reason, is recorded on the identity.
    const ci = await adminJson<{ roles: string[]; dutyOverride: { reason: string; grantedBy: string } }>(vault, root, [
      'users', 'create', 'ci-scratch', '--service', '--role', 'backup-writer', '--role', 'pruner', '--duty-override-reason', 'CI scratch bucket, no backups',
    ]);
    assert.deepEqual(ci.roles, ['backup-writer', 'pruner']);
    assert.equal(ci.dutyOverride.reason, 'CI scratch bucket, no backups');
    assert.equal(ci.dutyOverride.grantedBy, 'root');
  });

  test('two users whose keys see only what their policies allow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-policy-'));
    const keys: Record<string, S3Client> = {};
    for (const team of ['team-a', 'team-b']) {
      const file = join(dir, `${team}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${team}` },
            { Sid: 'ReadWrite', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${team}/*` },
          ],
        }),
      );
      await holdfast(vault, root, ['admin', 'users', 'create', `${team}-user`]);
      await holdfast(vault, root, ['admin', 'users', 'put-policy', `${team}-user`, 'own-bucket', file]);
      keys[team] = client(await adminJson<KeyPair>(vault, root, ['keys', 'create', `${team}-user`]));
    }
    await put(keys['team-a']!, 'team-a', 'a.txt', 'from a');
    await put(keys['team-b']!, 'team-b', 'b.txt', 'from b');
    await expectS3Error(put(keys['team-a']!, 'team-b', 'intrusion', 'x'), 'AccessDenied', 403);
    await expectS3Error(keys['team-a']!.send(new GetObjectCommand({ Bucket: 'team-b', Key: 'b.txt' })), 'AccessDenied', 403);
    await expectS3Error(keys['team-b']!.send(new ListObjectsV2Command({ Bucket: 'team-a' })), 'AccessDenied', 403);
    // Copying out of the other team's bucket needs read rights on the source.
    await expectS3Error(keys['team-a']!.send(new CopyObjectCommand({ Bucket: 'team-a', Key: 'stolen', CopySource: 'team-b/b.txt' })), 'AccessDenied', 403);
    const own = await keys['team-b']!.send(new ListObjectsV2Command({ Bucket: 'team-b' }));
    assert.deepEqual(own.Contents?.map((o) => o.Key), ['b.txt']);
    // A bucket policy can grant another principal: team-a may now read team-b's objects.
    await rootS3.send(
      new PutBucketPolicyCommand({
        Bucket: 'team-b',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:holdfast:iam:::user/team-a-user' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-b/*' }],
        }),
      }),
    );
    const shared = await keys['team-a']!.send(new GetObjectCommand({ Bucket: 'team-b', Key: 'b.txt' }));
    assert.equal(await shared.Body?.transformToString(), 'from b');
    await expectS3Error(put(keys['team-a']!, 'team-b', 'still-no-write', 'x'), 'AccessDenied', 403);

    // A bucket policy may not hand delete rights to an identity that can already write there…
    const grantDelete = (principal: unknown, actions: string[]) =>
      rootS3.send(
        new PutBucketPolicyCommand({
          Bucket: 'team-b',
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: actions, Resource: 'arn:aws:s3:::team-b/*' }] }),
        }),
      );
    await assert.rejects(grantDelete({ AWS: 'arn:holdfast:iam:::user/team-b-user' }, ['s3:DeleteObject']), (e: Error) => {
      assert.equal(e.name, 'SeparationOfDutiesConflict');
      assert.match(e.message, /identity "team-b-user" would be allowed both .*s3:PutObject.* and .*bucket-policy:team-b.*s3:DeleteObject/);
      return true;
    });
    // …nor delete to everyone (the backup writers can write there).
    await assert.rejects(grantDelete('*', ['s3:DeleteObjectVersion']), (e: Error) => {
      assert.equal(e.name, 'SeparationOfDutiesConflict');
      assert.match(e.message, /bucket-policy:team-b Statement\[0\] allows s3:DeleteObjectVersion on bucket "team-b"/);
      return true;
    });
  });

  test('access keys: disabled, expired and rotated keys stop working; the secret is shown once', async () => {
    await holdfast(vault, root, ['admin', 'users', 'create', 'rotator', '--service', '--role', 'restore-reader']);
    const first = await adminJson<KeyPair & { status: string }>(vault, root, ['keys', 'create', 'rotator', '--description', 'nightly restore']);
    const reader = client(first);
    await reader.send(new ListObjectsV2Command({ Bucket: 'backups' }));
    await holdfast(vault, root, ['admin', 'keys', 'disable', first.accessKeyId]);
    await expectS3Error(reader.send(new ListObjectsV2Command({ Bucket: 'backups' })), 'InvalidAccessKeyId', 403);
    await holdfast(vault, root, ['admin', 'keys', 'enable', first.accessKeyId]);
    await reader.send(new ListObjectsV2Command({ Bucket: 'backups' }));

    const rotated = await adminJson<{ old: { status: string }; created: KeyPair }>(vault, root, ['keys', 'rotate', first.accessKeyId]);
    assert.equal(rotated.old.status, 'inactive');
    await expectS3Error(reader.send(new ListObjectsV2Command({ Bucket: 'backups' })), 'InvalidAccessKeyId', 403);
    const second = client(rotated.created);
    await second.send(new ListObjectsV2Command({ Bucket: 'backups' }));

    const soon = new Date(Date.now() + 1500).toISOString();
    await holdfast(vault, root, ['admin', 'keys', 'expire', rotated.created.accessKeyId, '--at', soon]);
    await second.send(new ListObjectsV2Command({ Bucket: 'backups' }));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await expectS3Error(second.send(new ListObjectsV2Command({ Bucket: 'backups' })), 'InvalidAccessKeyId', 403);

    const listed = await adminJson<{ keys: Array<Record<string, unknown>> }>(vault, root, ['keys', 'list', '--user', 'rotator']);
    assert.equal(listed.keys.length, 2);
    for (const key of listed.keys) assert.equal(key['secretAccessKey'], undefined, 'listing never shows a secret');
    await holdfast(vault, root, ['admin', 'keys', 'delete', first.accessKeyId]);
    assert.equal((await adminJson<{ keys: unknown[] }>(vault, root, ['keys', 'list', '--user', 'rotator'])).keys.length, 1);
  });
});

describe('policy conditions and the bypass permission, through real requests', { timeout: 120_000 }, () => {
  test('s3:prefix, aws:SecureTransport and s3:object-lock-remaining-retention-days decide as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-policy-'));
    const file = join(dir, 'conditions.json');
    writeFileSync(
      file,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'ListReportsOnly', Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::team-a', Condition: { StringLike: { 's3:prefix': 'reports/*' } } },
          { Sid: 'ReadOverTlsOnly', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } },
          {
            Sid: 'ExtendUpToThirtyDays',
            Effect: 'Allow',
            Action: 's3:PutObjectRetention',
            Resource: 'arn:aws:s3:::backups/*',
            Condition: { NumericLessThanEquals: { 's3:object-lock-remaining-retention-days': '30' } },
          },
        ],
      }),
    );
    await holdfast(vault, root, ['admin', 'users', 'create', 'retention-keeper', '--service']);
    await holdfast(vault, root, ['admin', 'users', 'put-policy', 'retention-keeper', 'conditions', file]);
    const keeper = client(await adminJson<KeyPair>(vault, root, ['keys', 'create', 'retention-keeper']));
    await keeper.send(new ListObjectsV2Command({ Bucket: 'team-a', Prefix: 'reports/2026' }));
    await expectS3Error(keeper.send(new ListObjectsV2Command({ Bucket: 'team-a' })), 'AccessDenied', 403);
    // This server speaks plain HTTP: the TLS-only read is refused.
    await expectS3Error(keeper.send(new GetObjectCommand({ Bucket: 'team-a', Key: 'a.txt' })), 'AccessDenied', 403);
    const held = await put(rootS3, 'backups', 'cond/held', 'x', { mode: 'GOVERNANCE', untilMs: Date.now() + DAY });
    const retain = (days: number) =>
      keeper.send(
        new PutObjectRetentionCommand({ Bucket: 'backups', Key: 'cond/held', VersionId: held.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + days * DAY) } }),
      );
    await retain(10);
    await expectS3Error(retain(40), 'AccessDenied', 403);
  });

  test('an identity granted s3:BypassGovernanceRetention (and delete, not write) may remove a governance-locked version; compliance still holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-policy-'));
    const file = join(dir, 'bypass.json');
    writeFileSync(
      file,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention'], Resource: 'arn:aws:s3:::backups/*' }],
      }),
    );
    await holdfast(vault, root, ['admin', 'users', 'create', 'legal-cleanup', '--service']);
    await holdfast(vault, root, ['admin', 'users', 'put-policy', 'legal-cleanup', 'bypass', file]);
    const cleanup = client(await adminJson<KeyPair>(vault, root, ['keys', 'create', 'legal-cleanup']));
    const governed = await put(rootS3, 'backups', 'cond/governed', 'x', { mode: 'GOVERNANCE', untilMs: Date.now() + DAY });
    await expectS3Error(cleanup.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'cond/governed', VersionId: governed.VersionId })), 'AccessDenied', 403);
    await cleanup.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'cond/governed', VersionId: governed.VersionId, BypassGovernanceRetention: true }));
    const compliant = await put(rootS3, 'backups', 'cond/compliant', 'x', { mode: 'COMPLIANCE', untilMs: Date.now() + DAY });
    await expectS3Error(
      cleanup.send(new DeleteObjectCommand({ Bucket: 'backups', Key: 'cond/compliant', VersionId: compliant.VersionId, BypassGovernanceRetention: true })),
      'AccessDenied',
      403,
    );
  });
});

describe('protected backup buckets: only automated processes write or delete', { timeout: 120_000 }, () => {
  test('the writer and pruner roles go to service identities only; in a protected bucket no person (root included) writes or deletes', async () => {
    const asUser = await holdfast(vault, root, ['admin', 'users', 'create', 'bob-the-human', '--role', 'backup-writer'], 3);
    assert.match(asUser.stderr, /Role "backup-writer" is for automated backup processes only, and "bob-the-human" is a user.*--service --role backup-writer/);

    // A person with an inline grant to write backups: allowed while the bucket is not protected…
    const file = join(mkdtempSync(join(tmpdir(), 'holdfast-policy-')), 'write-backups.json');
    writeFileSync(file, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::backups/*' }] }));
    await holdfast(vault, root, ['admin', 'users', 'create', 'carol-the-human']);
    await holdfast(vault, root, ['admin', 'users', 'put-policy', 'carol-the-human', 'write-backups', file]);
    const carol = client(await adminJson<KeyPair>(vault, root, ['keys', 'create', 'carol-the-human']));
    await put(carol, 'backups', 'manual/1', 'by hand');
    await holdfast(vault, root, ['admin', 'buckets', 'protect', 'backups']);
    // …refused once it is a protected backup bucket, for her and for root; the service writer carries on.
    await assert.rejects(put(carol, 'backups', 'manual/2', 'by hand'), /explicit deny in protected-bucket rule \(statement OnlyServiceIdentitiesTouchBackups\)/);
    await expectS3Error(put(rootS3, 'backups', 'manual/3', 'by root'), 'AccessDenied', 403);
    const writer = client(await createIdentityWithKey(vault, root, 'wal-pusher', ['backup-writer'], ['--service']));
    assert.ok((await put(writer, 'backups', 'wal/2', 'segment')).VersionId);
  });
});

describe('every refusal above left an audit entry', { timeout: 60_000 }, () => {
  test('the audit log names who was refused what, and why', async () => {
    const lines = (await holdfast(vault, root, ['audit', 'export', '--result', 'denied'])).stdout.split('\n').filter((l) => l !== '');
    const denied = lines.map((l) => JSON.parse(l) as { identity: string; action: string; errorCode?: string; details?: Record<string, unknown> });
    const has = (identity: string, action: string, code: string) =>
      assert.ok(
        denied.some((e) => e.identity === identity && e.action === action && e.errorCode === code),
        `expected a denied ${action} (${code}) by ${identity} in the audit log`,
      );
    has('pg-archiver', 'DeleteObject', 'AccessDenied');
    has('pg-archiver', 'PutObjectRetention', 'AccessDenied');
    has('retention-pruner', 'DeleteObject', 'AccessDenied');
    has('alice', 'DeleteObject', 'AccessDenied');
    has('root', 'PutObjectRetention', 'AccessDenied');
    has('root', 'admin:CreateIdentity', 'SeparationOfDutiesConflict');
    has('root', 'admin:PutIdentityPolicy', 'SeparationOfDutiesConflict');
    // The pruner's refusal came from Object Lock, not from a policy: the entry says so.
    const lockRefusal = denied.find((e) => e.identity === 'retention-pruner' && e.action === 'DeleteObject' && e.details?.['objectLockRefused'] !== undefined);
    assert.ok(lockRefusal, 'the Object Lock refusal is marked in the entry');
    // The override that allowed write+delete for a test identity is a recorded configuration change.
    const changes = (await holdfast(vault, root, ['audit', 'export', '--action', 'config:identity-created'])).stdout;
    assert.match(changes, /"resource":"identity\/ci-scratch".*"dutyOverride":"CI scratch bucket, no backups"/);
  });
});

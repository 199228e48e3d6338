import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { S3Error } from '../errors.js';
import { SecretBox } from '../../infra/crypto/secret-box.js';
import { SqliteMetadataStore } from '../../infra/metadata/sqlite/sqlite-metadata-store.js';
import { parsePolicy } from '../policy/policy-document.js';
import { type BucketGrants, IdentityRegistry } from './identity-registry.js';

let dir: string;
let box: SecretBox;
let nowMs = Date.UTC(2031, 0, 1);
const buckets: BucketGrants[] = [{ name: 'backups', policy: undefined }];

function registry(store: SqliteMetadataStore): IdentityRegistry {
  return new IdentityRegistry(store, box, { nowMs: () => nowMs, buckets: () => Promise.resolve(buckets) });
}

const code = (c: string) => (e: unknown) => e instanceof S3Error && e.code === c;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-identities-'));
  box = await SecretBox.openKeyFile(join(dir, 'secret-box.key'));
});

after(() => rm(dir, { recursive: true, force: true }));

test('keys authenticate only while active, unexpired and owned by an enabled identity; state survives a reload', async () => {
  const store = new SqliteMetadataStore(join(dir, 'a.sqlite'));
  const identities = registry(store);
  await identities.load();
  await identities.createIdentity({ name: 'writer', kind: 'service', roles: ['backup-writer'] }, 'root');
  const { key, secretAccessKey } = await identities.createAccessKey('writer', { expiresMs: nowMs + 60_000, description: 'ci' });
  assert.equal(identities.secretFor(key.accessKeyId), secretAccessKey.reveal());
  assert.equal(identities.principalOf(key.accessKeyId)?.arn, 'arn:holdfast:iam:::service/writer');

  await identities.updateAccessKey(key.accessKeyId, { status: 'inactive' });
  assert.equal(identities.secretFor(key.accessKeyId), undefined);
  await identities.updateAccessKey(key.accessKeyId, { status: 'active' });
  await identities.updateIdentity('writer', (i) => ({ ...i, disabled: true }));
  assert.equal(identities.secretFor(key.accessKeyId), undefined, 'a disabled identity’s keys stop working');
  await identities.updateIdentity('writer', (i) => ({ ...i, disabled: false }));
  nowMs += 60_000;
  assert.equal(identities.secretFor(key.accessKeyId), undefined, 'an expired key stops working');
  await identities.updateAccessKey(key.accessKeyId, { expiresMs: null });
  assert.ok(identities.secretFor(key.accessKeyId));

  const { old, created } = await identities.rotateAccessKey(key.accessKeyId, 3_600_000);
  assert.equal(old.expiresMs, nowMs + 3_600_000, 'the old key keeps working for the grace period');
  assert.ok(identities.secretFor(old.accessKeyId));
  assert.ok(identities.secretFor(created.key.accessKeyId));

  // Sealed at rest: the secret is in no stored setting, and a fresh registry decrypts it again.
  const stored = await store.getSetting('identities');
  assert.ok(stored !== undefined && !stored.includes(created.secretAccessKey.reveal()));
  const reloaded = registry(store);
  await reloaded.load();
  assert.equal(reloaded.secretFor(created.key.accessKeyId), created.secretAccessKey.reveal());
  assert.deepEqual(reloaded.listIdentities().map((i) => i.name), ['writer']);

  await identities.deleteIdentity('writer');
  assert.equal(identities.secretFor(created.key.accessKeyId), undefined, 'deleting an identity deletes its keys');
  await store.close();
});

test('names, limits and unknown roles are refused with the reason', async () => {
  const store = new SqliteMetadataStore(join(dir, 'b.sqlite'));
  const identities = registry(store);
  await identities.load();
  await assert.rejects(identities.createIdentity({ name: 'root', kind: 'user' }, 'root'), /reserved/);
  await assert.rejects(identities.createIdentity({ name: 'has space', kind: 'user' }, 'root'), code('InvalidArgument'));
  await assert.rejects(identities.createIdentity({ name: 'x', kind: 'user', roles: ['superuser'] }, 'root'), /Unknown role "superuser"\. Built-in roles: backup-writer/);
  await identities.createIdentity({ name: 'dup', kind: 'user' }, 'root');
  await assert.rejects(identities.createIdentity({ name: 'dup', kind: 'user' }, 'root'), code('EntityAlreadyExists'));
  await assert.rejects(identities.createAccessKey('dup', { expiresMs: nowMs - 1 }), /must be in the future/);
  for (let i = 0; i < 5; i++) await identities.createAccessKey('dup');
  await assert.rejects(identities.createAccessKey('dup'), code('LimitExceeded'));
  await assert.rejects(identities.createAccessKey('nobody'), code('NoSuchEntity'));
  await store.close();
});

test('separation of duties: identity policies, bucket policies and "*" grants are all checked', async () => {
  const store = new SqliteMetadataStore(join(dir, 'c.sqlite'));
  const identities = registry(store);
  await identities.load();
  await assert.rejects(identities.createIdentity({ name: 'both', kind: 'service', roles: ['backup-writer', 'pruner'] }, 'root'), code('SeparationOfDutiesConflict'));
  const overridden = await identities.createIdentity({ name: 'ci', kind: 'service', roles: ['backup-writer', 'pruner'], dutyOverrideReason: 'scratch' }, 'alice');
  assert.deepEqual(overridden.dutyOverride, { reason: 'scratch', grantedBy: 'alice', atMs: nowMs });

  // With no other identity, a bucket policy that lets anyone write and delete is still refused.
  const openToAll = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::backups/*' }] },
    { kind: 'bucket', bucket: 'backups' },
  );
  await assert.rejects(identities.checkBucketPolicy('backups', openToAll), /any principal would be allowed both/);
  // Delete rights for the writer through the bucket policy: refused, naming the writer.
  await identities.createIdentity({ name: 'writer', kind: 'service', roles: ['backup-writer'] }, 'root');
  const pruneForWriter = parsePolicy(
    { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:holdfast:iam:::service/writer' }, Action: 's3:DeleteObjectVersion', Resource: 'arn:aws:s3:::backups/*' }] },
    { kind: 'bucket', bucket: 'backups' },
  );
  await assert.rejects(identities.checkBucketPolicy('backups', pruneForWriter), /identity "writer" would be allowed both/);
  // Once that policy is in place (say, set before the writer existed), granting the role is refused instead.
  await identities.deleteIdentity('writer');
  buckets[0] = { name: 'backups', policy: pruneForWriter };
  await assert.rejects(identities.createIdentity({ name: 'writer', kind: 'service', roles: ['backup-writer'] }, 'root'), /bucket-policy:backups/);
  buckets[0] = { name: 'backups', policy: undefined };
  await store.close();
});

test('keys from before identities existed (root only) are migrated', async () => {
  const store = new SqliteMetadataStore(join(dir, 'd.sqlite'));
  const sealed = box.seal('legacy-root-secret-0123456789-abcdefghij', 'HFLEGACYROOTKEY00001');
  await store.putSetting('access-keys', JSON.stringify([{ accessKeyId: 'HFLEGACYROOTKEY00001', sealedSecret: sealed, identity: 'root', createdMs: 1 }]));
  const identities = registry(store);
  await identities.load();
  assert.equal(identities.rootAccessKeyId(), 'HFLEGACYROOTKEY00001');
  assert.equal(identities.principalOf('HFLEGACYROOTKEY00001')?.kind, 'root');
  assert.equal(identities.secretFor('HFLEGACYROOTKEY00001'), 'legacy-root-secret-0123456789-abcdefghij');
  await store.close();
  // Nothing of the secret in the metadata file either.
  assert.ok(!(await readFile(join(dir, 'd.sqlite'))).includes('legacy-root-secret'));
});

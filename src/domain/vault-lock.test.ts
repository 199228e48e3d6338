import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { ManualClock } from '../infra/clock.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { BLOB_REQUESTS_AT_ONCE } from './blob-fan-out.js';
import { S3Error } from './errors.js';
import { ObjectLocks } from './object-locks.js';
import { RetentionClock } from './retention-clock.js';
import { Vault } from './vault.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-vault-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
const DAY = 24 * 3600 * 1000;

test('a compliance-locked version: bytes on read-only files, undeletable until expiry, then deletable', async () => {
  const clock = new ManualClock(Date.UTC(2032, 0, 1));
  const vault = new Vault(new SqliteMetadataStore(join(root, 'meta.sqlite')), new FsBlobStore(join(root, 'blobs')), clock, { region: 'us-east-1', inlineLimit: 1024 });
  await vault.createBucket('locked', { objectLockEnabled: true });
  await new ObjectLocks(vault).putObjectLockConfiguration('locked', { mode: 'COMPLIANCE', days: 30 });
  const body = randomBytes(10_000);
  const version = await vault.putObject({
    bucket: 'locked',
    key: 'backup.tar',
    body: [body],
    declaredSize: body.length,
    headers: {},
    integrity: { contentMd5: createHash('md5').update(body).digest() },
    conditions: {},
    lock: { retention: undefined, legalHold: undefined },
  });
  assert.deepEqual(version.retention, { mode: 'COMPLIANCE', retainUntilMs: clock.nowMs() + 30 * DAY });
  assert.equal(version.data.kind, 'blobs');
  if (version.data.kind === 'blobs') {
    const blob = version.data.blobs[0]!;
    assert.equal(statSync(join(root, 'blobs', blob.blobId.slice(0, 2), blob.blobId)).mode & 0o777, 0o440);
  }
  const denied = (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied';
  await assert.rejects(vault.deleteObject('locked', 'backup.tar', version.versionId, { bypassGovernance: true }), denied);
  // Removing the default rule does not unlock what was written under it.
  await new ObjectLocks(vault).putObjectLockConfiguration('locked', undefined);
  await assert.rejects(vault.deleteObject('locked', 'backup.tar', version.versionId), denied);
  clock.advance(30 * DAY + 1);
  await vault.deleteObject('locked', 'backup.tar', version.versionId);
  assert.equal(await vault.metadata.getObjectVersion('locked', 'backup.tar', version.versionId), undefined);
});

test('a write into a bucket with default retention needs an integrity header', async () => {
  const clock = new ManualClock(Date.UTC(2032, 0, 1));
  const vault = new Vault(new SqliteMetadataStore(join(root, 'meta2.sqlite')), new FsBlobStore(join(root, 'blobs2')), clock, { region: 'us-east-1', inlineLimit: 1024 });
  await vault.createBucket('locked', { objectLockEnabled: true });
  await new ObjectLocks(vault).putObjectLockConfiguration('locked', { mode: 'GOVERNANCE', days: 1 });
  await assert.rejects(
    vault.putObject({ bucket: 'locked', key: 'k', body: [Buffer.from('x')], declaredSize: 1, headers: {}, integrity: {}, conditions: {}, lock: { retention: undefined, legalHold: undefined } }),
    (e: unknown) => e instanceof S3Error && e.code === 'InvalidRequest' && /Content-MD5 OR x-amz-checksum-/.test(e.message),
  );
});

test('jumping the clock forward does not unlock a version early', async () => {
  const wall = new ManualClock(Date.UTC(2032, 0, 1));
  let monotonic = 0;
  let trusted: number | undefined;
  const retentionClock = new RetentionClock({
    wall,
    monotonicMs: () => monotonic,
    toleranceMs: DAY,
    store: { load: async () => trusted, save: async (ms) => void (trusted = ms) },
    onJump: () => undefined,
  });
  await retentionClock.start(false);
  const vault = new Vault(new SqliteMetadataStore(join(root, 'meta3.sqlite')), new FsBlobStore(join(root, 'blobs3')), wall, { region: 'us-east-1', inlineLimit: 1024, retentionClock });
  await vault.createBucket('locked', { objectLockEnabled: true });
  const body = Buffer.from('ledger');
  const version = await vault.putObject({
    bucket: 'locked', key: 'k', body: [body], declaredSize: body.length, headers: {},
    integrity: { contentMd5: createHash('md5').update(body).digest() }, conditions: {},
    lock: { retention: { mode: 'COMPLIANCE', retainUntilMs: wall.nowMs() + 7 * DAY }, legalHold: undefined },
  });
  wall.advance(365 * DAY);
  monotonic += 1000;
  await assert.rejects(vault.deleteObject('locked', 'k', version.versionId), (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
  assert.equal(retentionClock.paused, true);
});

test('protecting a locked version of many blobs: a few requests at a time, every blob tried, failures reported', async () => {
  let running = 0;
  let peak = 0;
  const tried: string[] = [];
  /** The real store, whose protect() is refused for two blobs and yields once per call. */
  class RefusingStore extends FsBlobStore {
    override async protect(blobId: string): Promise<void> {
      tried.push(blobId);
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      if (blobId.startsWith('0a') || blobId.startsWith('05')) throw new Error(`backend refused ${blobId}`);
    }
  }
  const reported: Array<{ what: string; error: unknown }> = [];
  const clock = new ManualClock(Date.UTC(2032, 0, 1));
  const vault = new Vault(new SqliteMetadataStore(join(root, 'meta3.sqlite')), new RefusingStore(join(root, 'blobs3')), clock, {
    region: 'us-east-1',
    inlineLimit: 1024,
    onBlobFailure: (what, error) => reported.push({ what, error }),
  });
  const blobs = Array.from({ length: 12 }, (_, i) => ({ blobId: i.toString(16).padStart(2, '0').repeat(16), size: 1 }));
  const version = { bucket: 'locked', key: 'parts.tar', versionId: 'v1', legalHold: true, retention: undefined, data: { kind: 'blobs', blobs } } as unknown as Parameters<Vault['protectIfLocked']>[0];
  await vault.protectIfLocked(version);
  assert.equal(tried.length, 12, 'every blob is tried, failures or not');
  assert.ok(peak <= BLOB_REQUESTS_AT_ONCE, `at most ${BLOB_REQUESTS_AT_ONCE} at once, saw ${peak}`);
  assert.equal(reported.length, 1);
  assert.match(reported[0]!.what, /protecting 2 of 12 blob\(s\) of locked version locked\/parts.tar \(v1\)/);
  assert.equal((reported[0]!.error as AggregateError).errors.length, 2);
});

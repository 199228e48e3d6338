import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client as SdkClient } from '@aws-sdk/client-s3';
import { clientFor, rootKey } from '../../../test/support/admin-cli.js';
import { type RunningVault, startVault } from '../../../test/support/vault-server.js';
import { Secret } from '../../domain/secret.js';
import { ManualClock } from '../../infra/clock.js';
import { S3Client } from '../../infra/s3-client/s3-client.js';
import { S3WalArchiveStore } from './s3-wal-archive-store.js';
import { WalConflictError, WalFileNameError, WalIntegrityError } from './wal-archive-errors.js';
import { WalArchiver } from './wal-archiver.js';
import { WalFetcher } from './wal-fetcher.js';
import { walObjectMetadata } from './wal-object-metadata.js';

/** wal-push and wal-fetch semantics against a real vault (built CLI: `npm run build` first). */

const DAY_MS = 24 * 3600 * 1000;
const SEGMENT_BYTES = 16 * 1024 * 1024;
let vault: RunningVault;
let sdk: SdkClient;
let client: S3Client;
let dir: string;

before(async () => {
  vault = await startVault();
  sdk = clientFor(vault, rootKey(vault));
  await sdk.send(new CreateBucketCommand({ Bucket: 'wal-locked', ObjectLockEnabledForBucket: true }));
  await sdk.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'wal-locked',
      ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } } },
    }),
  );
  await sdk.send(new CreateBucketCommand({ Bucket: 'wal-plain' }));
  client = new S3Client({
    endpoint: new URL(vault.endpoint),
    region: 'us-east-1',
    credentials: { accessKeyId: vault.accessKeyId, secretAccessKey: new Secret(vault.secretAccessKey), source: 'test' },
  });
  dir = await mkdtemp(join(tmpdir(), 'holdfast-wal-archiving-'));
});

after(async () => {
  client?.close();
  sdk?.destroy();
  await vault?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A 16 MiB segment as PostgreSQL leaves it after pg_switch_wal(): a long header, some records, zeros. */
function segment(systemIdentifier: bigint, records = randomBytes(200 * 1024)): Buffer {
  const bytes = Buffer.alloc(SEGMENT_BYTES);
  bytes.writeUInt16LE(0xd110, 0);
  bytes.writeUInt16LE(0x0006, 2);
  bytes.writeUInt32LE(1, 4);
  bytes.writeBigUInt64LE(systemIdentifier, 24);
  bytes.writeUInt32LE(SEGMENT_BYTES, 32);
  bytes.writeUInt32LE(8192, 36);
  records.copy(bytes, 40);
  return bytes;
}

async function fileIn(subdir: string, name: string, bytes: Uint8Array): Promise<string> {
  await mkdir(join(dir, subdir), { recursive: true });
  const path = join(dir, subdir, name);
  await writeFile(path, bytes);
  return path;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function archiveIn(bucket: string, prefix: string) {
  const store = new S3WalArchiveStore(client, { bucket, prefix });
  return { archiver: new WalArchiver(store, prefix), fetcher: new WalFetcher(store, prefix) };
}

describe('WAL archiving into the vault', { timeout: 120_000 }, () => {
  test('a segment is stored compressed under PREFIX/wal/TIMELINE/NAME, locked, with its description; re-pushing it succeeds', async (t) => {
    const { archiver } = archiveIn('wal-locked', 'cluster-a');
    const bytes = segment(7311234567890123456n);
    const path = await fileIn('pg_wal', '000000010000000000000001', bytes);
    const before = Date.now();
    const pushed = await archiver.push(path);
    assert.equal(pushed.outcome, 'archived');
    assert.equal(pushed.key, 'cluster-a/wal/00000001/000000010000000000000001');
    assert.equal(pushed.size, SEGMENT_BYTES);
    assert.equal(pushed.sha256, sha256(bytes));
    assert.equal(pushed.compression, 'gzip');
    assert.ok(pushed.storedSize < 300 * 1024, `stored ${pushed.storedSize} bytes`);
    assert.ok(pushed.retainUntilMs !== undefined && pushed.retainUntilMs >= before + DAY_MS - 2_000, 'the bucket default retention applies');
    t.diagnostic(`16 MiB segment with 200 KiB of records: stored ${pushed.storedSize} bytes in ${pushed.durationMs} ms`);

    const head = await client.headObject({ bucket: 'wal-locked', key: pushed.key }, { checksumMode: true });
    assert.equal(head.metadata['holdfast-wal-sha256'], sha256(bytes));
    assert.equal(head.metadata['holdfast-pg-system-id'], '7311234567890123456');
    assert.equal(head.contentType, 'application/gzip');
    assert.equal(head.objectLock?.mode, 'COMPLIANCE');

    const again = await archiver.push(path);
    assert.equal(again.outcome, 'already-archived');
    assert.equal(again.sha256, pushed.sha256);
    assert.equal(again.storedSize, pushed.storedSize);
  });

  test('a different file under an archived name is refused with both checksums, and the archived copy stays', async () => {
    const { archiver, fetcher } = archiveIn('wal-locked', 'cluster-b');
    const original = segment(1n);
    const other = segment(1n);
    await archiver.push(await fileIn('b1', '000000010000000000000002', original));
    const conflicting = await fileIn('b2', '000000010000000000000002', other);
    await assert.rejects(
      archiver.push(conflicting),
      (e: unknown) =>
        e instanceof WalConflictError &&
        e.message.includes('000000010000000000000002') &&
        e.message.includes(`archived sha256 ${sha256(original)}`) &&
        e.message.includes(`this file sha256 ${sha256(other)}`) &&
        !e.message.includes('two clusters'),
    );
    const restored = join(dir, 'b-restored');
    await fetcher.fetch('000000010000000000000002', restored);
    assert.ok((await readFile(restored)).equals(original));
  });

  test('a segment of another cluster under an archived name: the conflict says two clusters share the repository', async () => {
    const { archiver } = archiveIn('wal-locked', 'cluster-c');
    await archiver.push(await fileIn('c1', '000000010000000000000003', segment(111n)));
    await assert.rejects(
      archiver.push(await fileIn('c2', '000000010000000000000003', segment(222n))),
      (e: unknown) => e instanceof WalConflictError && /database system 111, this one from 222: two clusters/.test(e.message),
    );
  });

  test('wal-fetch restores the exact bytes; a missing name is "missing" and creates nothing', async () => {
    const { archiver, fetcher } = archiveIn('wal-plain', '');
    const bytes = segment(5n);
    const pushed = await archiver.push(await fileIn('d', '000000010000000000000004', bytes));
    assert.equal(pushed.key, 'wal/00000001/000000010000000000000004');
    assert.equal(pushed.retainUntilMs, undefined, 'no retention in a bucket without Object Lock');
    const restoreDir = join(dir, 'restore-d');
    await mkdir(restoreDir);
    const fetched = await fetcher.fetch('000000010000000000000004', join(restoreDir, 'RECOVERYXLOG'));
    assert.equal(fetched.outcome, 'restored');
    assert.ok((await readFile(join(restoreDir, 'RECOVERYXLOG'))).equals(bytes));

    const missing = await fetcher.fetch('000000010000000000000099', join(restoreDir, 'RECOVERYXLOG2'));
    assert.equal(missing.outcome, 'missing');
    assert.deepEqual(await readdir(restoreDir), ['RECOVERYXLOG']);
  });

  test('history and partial files go under their own names and come back', async () => {
    const { archiver, fetcher } = archiveIn('wal-locked', 'cluster-e');
    const history = Buffer.from('1\t0/3000000\tbefore 2031-03-04 12:00:00+00\n');
    const pushedHistory = await archiver.push(await fileIn('e', '00000002.history', history));
    assert.equal(pushedHistory.key, 'cluster-e/wal/00000002/00000002.history');
    const partial = segment(9n);
    const pushedPartial = await archiver.push(await fileIn('e', '000000010000000000000005.partial', partial));
    assert.equal(pushedPartial.key, 'cluster-e/wal/00000001/000000010000000000000005.partial');
    const backupLabel = Buffer.from('START WAL LOCATION: 0/5000028 (file 000000010000000000000005)\n');
    assert.equal((await archiver.push(await fileIn('e', '000000010000000000000005.00000028.backup', backupLabel))).key, 'cluster-e/wal/00000001/000000010000000000000005.00000028.backup');

    await fetcher.fetch('00000002.history', join(dir, 'e-history'));
    assert.ok((await readFile(join(dir, 'e-history'))).equals(history));
    assert.equal((await fetcher.fetch('000000010000000000000005', join(dir, 'e-full'))).outcome, 'missing', 'a .partial never stands in for the full segment');
  });

  test('an object whose bytes do not match its recorded SHA-256 is not restored', async () => {
    const { fetcher } = archiveIn('wal-plain', 'tampered');
    const real = Buffer.from('the real history\n');
    // Written by someone else with a description that does not fit the bytes.
    await client.putObject({
      bucket: 'wal-plain',
      key: 'tampered/wal/00000003/00000003.history',
      body: { kind: 'bytes', bytes: Buffer.from('other bytes\n') },
      metadata: walObjectMetadata({ sha256: sha256(real), size: real.length, compression: 'none', systemIdentifier: undefined }),
    });
    const restoreDir = join(dir, 'restore-tampered');
    await mkdir(restoreDir);
    await assert.rejects(fetcher.fetch('00000003.history', join(restoreDir, 'RECOVERYHISTORY')), (e: unknown) => e instanceof WalIntegrityError && e.message.includes(sha256(real)));
    assert.deepEqual(await readdir(restoreDir), [], 'nothing at the destination, no temporary file');
  });

  test('an object not written by wal-push: a push under its name is a conflict, a fetch refuses it', async () => {
    const { archiver, fetcher } = archiveIn('wal-plain', 'foreign');
    await client.putObject({ bucket: 'wal-plain', key: 'foreign/wal/00000001/000000010000000000000006', body: { kind: 'bytes', bytes: Buffer.from('not wal') } });
    await assert.rejects(archiver.push(await fileIn('f', '000000010000000000000006', segment(1n))), (e: unknown) => e instanceof WalConflictError && e.message.includes('archived sha256 unknown'));
    await assert.rejects(fetcher.fetch('000000010000000000000006', join(dir, 'f-out')), (e: unknown) => e instanceof WalIntegrityError && /no holdfast WAL metadata/.test(e.message));
  });

  test('explicit retention: COMPLIANCE for N days from the clock, in addition to the bucket default', async () => {
    const clock = new ManualClock(Date.now());
    const store = new S3WalArchiveStore(client, { bucket: 'wal-locked', prefix: 'cluster-g' }, { mode: 'COMPLIANCE', retainDays: 7, clock });
    const pushed = await new WalArchiver(store, 'cluster-g').push(await fileIn('g', '000000010000000000000007', segment(1n)));
    assert.equal(Math.floor(pushed.retainUntilMs! / 1000), Math.floor((clock.nowMs() + 7 * DAY_MS) / 1000));
  });

  test('names PostgreSQL never archives are refused before anything is sent', async () => {
    const { archiver, fetcher } = archiveIn('wal-plain', 'names');
    await assert.rejects(archiver.push(await fileIn('h', 'postgresql.conf', Buffer.from('x'))), WalFileNameError);
    await assert.rejects(fetcher.fetch('../../etc/passwd', join(dir, 'h-out')), WalFileNameError);
    const listed = [];
    for await (const object of client.listObjects({ bucket: 'wal-plain', prefix: 'names/' })) listed.push(object.key);
    assert.deepEqual(listed, []);
  });
});

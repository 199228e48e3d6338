import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FsBlobStore } from '../../infra/blob/fs/fs-blob-store.js';
import { createChecksum, encodeChecksum, type ChecksumAlgorithm } from '../../infra/checksum/checksum.js';
import { ManualClock } from '../../infra/clock.js';
import { SqliteMetadataStore } from '../../infra/metadata/sqlite/sqlite-metadata-store.js';
import { SqliteScrubRecords } from '../../infra/scrub/sqlite-scrub-records.js';
import type { ObjectVersionRecord } from '../model.js';
import { MultipartUploads } from '../multipart.js';
import { Vault } from '../vault.js';
import { ByteRateLimiter } from './byte-rate-limiter.js';
import { IntegrityScrubber } from './integrity-scrubber.js';
import type { ScrubFinding } from './scrub-records.js';

/**
 * The scrubber against the real embedded storage (SQLite metadata, files as blobs): every way
 * a version can be written verifies clean; bytes changed, appended or removed behind the vault's
 * back are found, naming exactly the damaged version; a fractional pass rotates through the
 * vault and resumes after a restart.
 */
const root = mkdtempSync(join(tmpdir(), 'holdfast-scrub-'));
after(() => rmSync(root, { recursive: true, force: true }));
const MiB = 1024 * 1024;

function openVault(name: string) {
  const clock = new ManualClock(Date.UTC(2031, 4, 1));
  const vault = new Vault(new SqliteMetadataStore(join(root, name, 'meta.sqlite')), new FsBlobStore(join(root, name, 'blobs')), clock, { region: 'us-east-1', inlineLimit: 1024 });
  return { vault, clock, blobPath: (blobId: string) => join(root, name, 'blobs', blobId.slice(0, 2), blobId) };
}

function scrubberFor(vault: Vault, clock: ManualClock, recordsPath: string) {
  const records = new SqliteScrubRecords(recordsPath);
  const findings: ScrubFinding[] = [];
  const scrubber = new IntegrityScrubber({ vault, records, clock, bytesPerSecond: 1024 * MiB, onFinding: (f) => findings.push(f) });
  return { scrubber, records, findings };
}

async function put(vault: Vault, bucket: string, key: string, body: Buffer, algorithm?: ChecksumAlgorithm): Promise<ObjectVersionRecord> {
  const checksum = algorithm === undefined ? undefined : createChecksum(algorithm);
  checksum?.update(body);
  const sent = checksum === undefined ? undefined : encodeChecksum(checksum.digest());
  return vault.putObject({
    bucket,
    key,
    body: [body],
    declaredSize: body.length,
    headers: {},
    integrity: algorithm === undefined ? { contentMd5: createHash('md5').update(body).digest() } : { checksum: { algorithm, expected: () => sent } },
    conditions: {},
    lock: { retention: undefined, legalHold: undefined },
  });
}

async function putMultipart(vault: Vault, bucket: string, key: string, parts: Buffer[], algorithm: ChecksumAlgorithm): Promise<ObjectVersionRecord> {
  const uploads = new MultipartUploads(vault);
  const upload = await uploads.create(bucket, key, {}, algorithm);
  const done = [];
  for (const [i, body] of parts.entries()) {
    const part = await uploads.uploadPart({ bucket, key, uploadId: upload.uploadId, partNumber: i + 1, body: [body], declaredSize: body.length, integrity: {} });
    done.push({ partNumber: i + 1, etag: part.etag });
  }
  return uploads.complete(bucket, key, upload.uploadId, done, {});
}

function blobOf(version: ObjectVersionRecord, index = 0): string {
  assert.equal(version.data.kind, 'blobs');
  return version.data.kind === 'blobs' ? version.data.blobs[index]!.blobId : '';
}

/** Flips one byte in place, as bit rot or a careless tool would; blobs are 0440, so chmod first. */
function flipByte(path: string, offset: number): void {
  chmodSync(path, 0o640);
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, offset);
  byte[0] = byte[0]! ^ 0x01;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
}

test('every way a version is written verifies clean: inline, single-part with each checksum, multipart COMPOSITE and FULL_OBJECT, copies, empty, versions, delete markers', { timeout: 60_000 }, async () => {
  const { vault, clock } = openVault('clean');
  await vault.createBucket('alpha', { objectLockEnabled: false });
  await vault.createBucket('beta', { objectLockEnabled: true });
  await put(vault, 'alpha', 'small.txt', Buffer.from('inline bytes'));
  await put(vault, 'alpha', 'empty', Buffer.alloc(0));
  for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) await put(vault, 'beta', `single-${algorithm}`, randomBytes(5000), algorithm);
  const composite = await putMultipart(vault, 'beta', 'multi-crc32', [randomBytes(5 * MiB), randomBytes(1234)], 'CRC32');
  assert.equal(composite.checksum?.type, 'COMPOSITE');
  const full = await putMultipart(vault, 'beta', 'multi-crc64', [randomBytes(5 * MiB), randomBytes(77)], 'CRC64NVME');
  assert.equal(full.checksum?.type, 'FULL_OBJECT');
  await vault.copyObject({ source: { bucket: 'beta', key: 'multi-crc32', versionId: undefined }, sourceConditions: {}, bucket: 'alpha', key: 'copy', replaceHeaders: undefined, conditions: {}, lock: { retention: undefined, legalHold: undefined } });
  await put(vault, 'beta', 'twice', randomBytes(3000));
  await put(vault, 'beta', 'twice', randomBytes(3000));
  await vault.deleteObject('beta', 'twice', undefined);

  const { scrubber, findings } = scrubberFor(vault, clock, join(root, 'clean', 'scrub.sqlite'));
  const pass = await scrubber.start('manual', 1).done;
  assert.deepEqual(findings, []);
  assert.equal(pass.outcome, 'completed', pass.error);
  // 2 + 5 + 2 + 1 + 2 versions with bytes; the delete marker is not counted.
  assert.equal(pass.totalVersions, 12);
  assert.equal(pass.versions, 12);
  assert.equal(pass.failures, 0);
  assert.equal(pass.bytes, 2 * (5 * MiB) + 1234 + 77 + (5 * MiB + 1234) + 5 * 5000 + 2 * 3000 + 'inline bytes'.length);
  assert.equal(pass.cycleCompleted, true);
});

test('a changed byte, appended bytes, a removed blob and a changed part of a multipart object are each found, naming exactly that version', { timeout: 60_000 }, async () => {
  const { vault, clock, blobPath } = openVault('damaged');
  await vault.createBucket('data', { objectLockEnabled: true });
  const healthy = [];
  for (let i = 0; i < 5; i++) healthy.push(await put(vault, 'data', `healthy-${i}`, randomBytes(4000)));
  const flipped = await put(vault, 'data', 'flipped', randomBytes(4000));
  const grown = await put(vault, 'data', 'grown', randomBytes(4000), 'SHA256');
  const gone = await put(vault, 'data', 'gone', randomBytes(4000));
  const multi = await putMultipart(vault, 'data', 'multi', [randomBytes(5 * MiB), randomBytes(100)], 'CRC32C');
  flipByte(blobPath(blobOf(flipped)), 1234);
  chmodSync(blobPath(blobOf(grown)), 0o640);
  appendFileSync(blobPath(blobOf(grown)), 'x');
  unlinkSync(blobPath(blobOf(gone)));
  flipByte(blobPath(blobOf(multi, 1)), 10);

  const { scrubber, findings, records } = scrubberFor(vault, clock, join(root, 'damaged', 'scrub.sqlite'));
  const pass = await scrubber.start('manual', 1).done;
  const found = Object.fromEntries(findings.map((f) => [f.key, [f.versionId, f.problem]]));
  assert.deepEqual(found, {
    flipped: [flipped.versionId, 'etag-mismatch'],
    grown: [grown.versionId, 'size-mismatch'],
    gone: [gone.versionId, 'missing-blob'],
    multi: [multi.versionId, 'etag-mismatch'],
  });
  assert.match(findings.find((f) => f.key === 'flipped')!.detail, new RegExp(`ETag ${flipped.etag.replaceAll('"', '"?')} recorded`));
  assert.equal(pass.failures, 4);
  assert.equal(pass.versions, 9);
  assert.deepEqual(records.findings({ passId: pass.id, limit: 10 }).map((f) => f.key).sort(), ['flipped', 'gone', 'grown', 'multi']);
});

test('a fractional pass rotates: ceil(fraction x versions) each, every version covered once per cycle, resumed after a restart', { timeout: 60_000 }, async () => {
  const { vault, clock, blobPath } = openVault('rotating');
  await vault.createBucket('a-bucket', { objectLockEnabled: false });
  await vault.createBucket('b-bucket', { objectLockEnabled: false });
  const written: ObjectVersionRecord[] = [];
  for (let i = 0; i < 5; i++) written.push(await put(vault, 'a-bucket', `k${i}`, randomBytes(2000)));
  for (let i = 0; i < 5; i++) written.push(await put(vault, 'b-bucket', `k${i}`, randomBytes(2000)));
  // Damage the 5th version of the walk (a-bucket/k4) and the 10th (b-bucket/k4).
  flipByte(blobPath(blobOf(written[4]!)), 0);
  flipByte(blobPath(blobOf(written[9]!)), 0);
  const path = join(root, 'rotating', 'scrub.sqlite');

  const first = scrubberFor(vault, clock, path);
  const p1 = await first.scrubber.start('scheduled', 0.3).done;
  clock.advance(1000);
  const p2 = await first.scrubber.start('scheduled', 0.3).done;
  assert.deepEqual([p1.plannedVersions, p1.versions, p1.toPosition], [3, 3, `a-bucket/k2@${written[2]!.versionId}`]);
  assert.deepEqual([p2.versions, p2.fromPosition, p2.toPosition, p2.failures], [3, p1.toPosition, `b-bucket/k0@${written[5]!.versionId}`, 1]);
  assert.deepEqual(first.findings.map((f) => f.key + '@' + f.bucket), ['k4@a-bucket']);
  first.records.close();

  // A restart: new records handle, new scrubber; the cursor on disk says where to go on.
  const second = scrubberFor(vault, clock, path);
  clock.advance(1000);
  const p3 = await second.scrubber.start('scheduled', 0.3).done;
  assert.deepEqual([p3.fromPosition, p3.toPosition, p3.failures, p3.cycleCompleted], [p2.toPosition, `b-bucket/k3@${written[8]!.versionId}`, 0, false]);
  clock.advance(1000);
  const p4 = await second.scrubber.start('scheduled', 0.3).done;
  // The 4th pass reads b-bucket/k4, reaches the end of the vault and wraps to the start.
  assert.deepEqual([p4.versions, p4.failures, p4.cycleCompleted, p4.toPosition], [3, 1, true, `a-bucket/k1@${written[1]!.versionId}`]);
  assert.deepEqual(second.findings.map((f) => `${f.bucket}/${f.key}`), ['b-bucket/k4']);
  assert.equal(second.records.lastCycleCompletedMs(), clock.nowMs());
  assert.deepEqual(second.records.passes(10).map((p) => p.id), [p4.id, p3.id, p2.id, p1.id]);
});

test('one pass at a time: starting while one runs answers with the running pass', { timeout: 30_000 }, async () => {
  const { vault, clock } = openVault('single');
  await vault.createBucket('one', { objectLockEnabled: false });
  await put(vault, 'one', 'x', randomBytes(5000));
  const { scrubber } = scrubberFor(vault, clock, join(root, 'single', 'scrub.sqlite'));
  const first = scrubber.start('manual', 1);
  const again = scrubber.start('manual', 1);
  assert.equal(again.started, false);
  assert.equal(again.pass.id, first.pass.id);
  assert.equal((await first.done).outcome, 'completed');
  assert.equal(scrubber.start('manual', 1).started, true);
  await scrubber.close();
});

test('the throttle paces reads to the configured rate (simulated time: sleeping advances it)', async () => {
  let now = 0;
  let slept = 0;
  const limiter = new ByteRateLimiter(1000, {
    monotonicMs: () => now,
    sleep: async (ms) => {
      slept += ms;
      now += ms;
    },
  });
  // 10 000 bytes at 1000 B/s: 10 s, of which the first second may run ahead.
  for (let i = 0; i < 100; i++) await limiter.take(100);
  assert.equal(Math.round(slept), 9000);
  // After an idle minute the saved-up time is not spent as a burst beyond one second.
  now += 60_000;
  slept = 0;
  for (let i = 0; i < 30; i++) await limiter.take(100);
  assert.equal(Math.round(slept), 2000);
});

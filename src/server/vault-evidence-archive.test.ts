import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EvidenceConflictError } from '../domain/evidence/evidence-archive.js';
import { S3Error } from '../domain/errors.js';
import { Vault } from '../domain/vault.js';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { ManualClock } from '../infra/clock.js';
import { SqliteMetadataStore } from '../infra/metadata/sqlite/sqlite-metadata-store.js';
import { EVIDENCE_BUCKET, VaultEvidenceArchive } from './vault-evidence-archive.js';

const root = mkdtempSync(join(tmpdir(), 'holdfast-evidence-'));
after(() => rmSync(root, { recursive: true, force: true }));
const DAY = 24 * 3600 * 1000;

test('evidence is written once, compliance-locked, read back first-version, listed newest first', async () => {
  const clock = new ManualClock(Date.UTC(2031, 5, 1));
  const vault = new Vault(new SqliteMetadataStore(join(root, 'meta.sqlite')), new FsBlobStore(join(root, 'blobs')), clock, { region: 'us-east-1', inlineLimit: 1024 });
  const archive = new VaultEvidenceArchive(vault, 400);
  await archive.ensureBucket();
  await archive.ensureBucket(); // idempotent

  const stored = await archive.put('drills', 'drill-1', { outcome: 'passed', rtoSeconds: 12.5 });
  assert.equal(stored.retainUntilMs, clock.nowMs() + 400 * DAY);
  assert.match(stored.location, /^s3:\/\/holdfast-system-evidence\/drills\/drill-1\.json\?versionId=/);
  // A retried identical write is a no-op; different content under the same id is refused.
  assert.deepEqual(await archive.put('drills', 'drill-1', { outcome: 'passed', rtoSeconds: 12.5 }), stored);
  await assert.rejects(archive.put('drills', 'drill-1', { outcome: 'failed' }), EvidenceConflictError);
  clock.advance(60_000);
  await archive.put('drills', 'drill-2', { outcome: 'failed', reason: 'WAL gap at 000000010000000000000007' });
  await archive.put('job-runs', 'run-1', { outcome: 'succeeded' });

  assert.deepEqual(await archive.get('drills', 'drill-1'), { outcome: 'passed', rtoSeconds: 12.5 });
  assert.equal(await archive.get('drills', 'missing'), undefined);
  assert.deepEqual((await archive.list('drills')).map((e) => e.id), ['drill-2', 'drill-1']);
  assert.deepEqual((await archive.list('drills', { limit: 1 })).map((e) => e.id), ['drill-2']);

  // The vault itself refuses to remove a locked record before its retention ends.
  const versions = await vault.listObjectVersions(EVIDENCE_BUCKET, { prefix: 'drills/drill-1', delimiter: '', keyMarker: '', versionIdMarker: undefined, maxKeys: 10 });
  const version = versions.versions[0]!;
  await assert.rejects(vault.deleteObject(EVIDENCE_BUCKET, version.key, version.versionId, { bypassGovernance: true }), (e: unknown) => e instanceof S3Error && e.code === 'AccessDenied');
  await assert.rejects(archive.put('Drills', 'x', {}), /lower-case/);
  await assert.rejects(archive.put('drills', '../x', {}), /no '\.\.'/);
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { checkableWithSha256, compareWithManifest, parsePostgresBackupManifest, PostgresManifestError } from './postgres-backup-manifest.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A manifest laid out as pg_basebackup writes it (one file per line), with its own checksum. */
function manifestText(files: readonly { path: string; body: string; algorithm?: string }[], encodePath = false): string {
  const lines = files.map((f, i) => {
    const where = encodePath ? `"Encoded-Path": "${Buffer.from(f.path).toString('hex')}"` : `"Path": "${f.path}"`;
    const checksum = f.algorithm === undefined ? `, "Checksum-Algorithm": "SHA256", "Checksum": "${sha256(f.body)}"` : `, "Checksum-Algorithm": "${f.algorithm}", "Checksum": "0badc0de"`;
    return `{ ${where}, "Size": ${Buffer.byteLength(f.body)}, "Last-Modified": "2026-11-26 18:26:02 GMT"${checksum} }${i === files.length - 1 ? '' : ','}`;
  });
  const body = `{ "PostgreSQL-Backup-Manifest-Version": 1,\n"Files": [\n${lines.join('\n')}\n],\n"WAL-Ranges": [\n{ "Timeline": 1, "Start-LSN": "0/19000028", "End-LSN": "0/190406D8" }\n],\n`;
  return `${body}"Manifest-Checksum": "${sha256(body)}"}\n`;
}

const files = [
  { path: 'backup_label', body: 'START WAL LOCATION: 0/19000028\n' },
  { path: 'PG_VERSION', body: '15\n' },
  { path: 'base/1/1259', body: 'x'.repeat(8192) },
  { path: 'global/pg_filenode.map', body: '' },
];
const digestsOf = (list: readonly { path: string; body: string }[]) => new Map(list.map((f) => [f.path, { size: Buffer.byteLength(f.body), sha256: sha256(f.body) }]));

test('a manifest as pg_basebackup writes it parses, its own checksum holds, and matching files pass', () => {
  for (const encoded of [false, true]) {
    const manifest = parsePostgresBackupManifest(Buffer.from(manifestText(files, encoded)));
    assert.equal(manifest.files.length, 4);
    assert.equal(manifest.files[2]!.path, 'base/1/1259', `paths read ${encoded ? 'from Encoded-Path' : 'from Path'}`);
    assert.equal(checkableWithSha256(manifest), true);
    const digests = digestsOf(files);
    // Files the manifest never lists but a restore may hold, as pg_verifybackup ignores them.
    for (const path of ['backup_manifest', 'pg_wal/archive_status/x', 'postgresql.auto.conf']) digests.set(path, { size: 1, sha256: sha256('?') });
    assert.deepEqual(compareWithManifest(manifest, digests), []);
  }
});

test('a changed, missing, extra or resized file is named', () => {
  const manifest = parsePostgresBackupManifest(Buffer.from(manifestText(files)));
  const digests = digestsOf(files);
  digests.set('base/1/1259', { size: 8192, sha256: sha256('y'.repeat(8192)) });
  digests.delete('PG_VERSION');
  digests.set('global/pg_filenode.map', { size: 512, sha256: sha256('') });
  digests.set('base/1/99999', { size: 0, sha256: sha256('') });
  assert.deepEqual(compareWithManifest(manifest, digests), [
    'PG_VERSION is in backup_manifest but was not in the backup',
    `base/1/1259 has SHA-256 ${sha256('y'.repeat(8192))}, backup_manifest says ${sha256('x'.repeat(8192))}`,
    'global/pg_filenode.map is 512 bytes, backup_manifest says 0',
    'base/1/99999 was in the backup but is not in backup_manifest',
  ]);
});

test('a manifest whose text was changed fails its own checksum; other versions and non-JSON are refused', () => {
  const text = manifestText(files).replace('"Size": 3,', '"Size": 4,');
  assert.throws(() => parsePostgresBackupManifest(Buffer.from(text)), (e: unknown) => e instanceof PostgresManifestError && /own checksum .* the manifest was changed/.test(e.message));
  assert.throws(() => parsePostgresBackupManifest(Buffer.from(manifestText(files).replace('Version": 1', 'Version": 9'))), /version 9/);
  assert.throws(() => parsePostgresBackupManifest(Buffer.from('{')), /not JSON/);
});

test('checksums other than SHA-256 are not checkable from the digests (pg_verifybackup checks them)', () => {
  const manifest = parsePostgresBackupManifest(Buffer.from(manifestText([{ path: 'PG_VERSION', body: '15\n', algorithm: 'CRC32C' }])));
  assert.equal(checkableWithSha256(manifest), false);
});

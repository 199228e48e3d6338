// Interop: boto3 (the Debian python3-boto3, run by /usr/bin/python3 — not a pyenv python on PATH)
// against a freshly started server. boto3_interop.py reports what it saw; this file judges it.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { MiB, edgeSizes, md5File, tempDir, writeRandomFile } from '../support/file-tree.js';
import { requireBoto3, runBoto3Script } from '../support/boto3.js';
import { startVault } from '../support/vault-server.js';

const bucket = 'boto3-interop';

interface Boto3Report {
  boto3: string;
  buckets: string[];
  put: Record<string, string>;
  get: Record<string, { sha256: string; length: number; etag: string; metadata: Record<string, string> }>;
  list_pages: string[][];
  delimited: { keys: string[]; prefixes: string[] };
  multipart: { etag: string; length: number; download_sha256: string };
  delete_objects: { deleted: string[]; errors: unknown[] };
  after_delete: string[];
  errors: { get_missing_key: [string, number] | null; missing_bucket: [string, number] | null };
  buckets_after: string[];
}

void test('boto3 put/get/list/upload_file (multipart)/delete_objects against a fresh server', { timeout: 240_000 }, async (t) => {
  if (!(await requireBoto3(t))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const downloads = join(work, 'downloads');
  await mkdir(downloads);

  // Keys with spaces, '+' and non-ASCII check that listing survives boto3's encoding-type=url.
  const names = [...edgeSizes.map((size) => `sizes/${size}.bin`), 'top level+plus.txt', 'nested/dir/ü é.txt'];
  const sizes = [...edgeSizes, 17, 4_321];
  const files = names.map((key, index) => ({ key, path: join(work, `file-${index}`), size: sizes[index] ?? 0 }));
  const hashes = new Map<string, string>();
  for (const file of files) hashes.set(file.key, await writeRandomFile(file.path, file.size));
  const large = { key: 'large/20MiB.bin', path: join(work, 'large.bin') };
  const largeHash = await writeRandomFile(large.path, 20 * MiB + 9);

  const report = await runBoto3Script<Boto3Report>('boto3_interop.py', vault, work, {
      endpoint: vault.endpoint,
      bucket,
      files: files.map(({ key, path }) => ({ key, path })),
      large,
      download_dir: downloads,
    }, 180_000);
  const allKeys = [...names, large.key].sort();

  assert.deepEqual(report.buckets, [bucket]);
  for (const file of files) {
    const md5 = `"${await md5File(file.path)}"`;
    assert.equal(report.put[file.key], md5, `put_object ETag of ${file.key}`);
    assert.deepEqual(
      report.get[file.key],
      { sha256: hashes.get(file.key), length: file.size, etag: md5, metadata: { client: 'boto3' } },
      `get_object of ${file.key}`,
    );
  }
  assert.deepEqual(report.list_pages.flat(), allKeys, 'paginated listing: every key once, in order');
  assert.ok(report.list_pages.length >= 4 && report.list_pages.every((page) => page.length <= 3), 'pages of at most 3');
  assert.deepEqual(report.delimited, {
    keys: ['top level+plus.txt'],
    prefixes: ['large/', 'nested/', 'sizes/'],
  });
  assert.match(report.multipart.etag, /^"[0-9a-f]{32}-3"$/, 'upload_file used three 8 MiB parts');
  assert.equal(report.multipart.length, 20 * MiB + 9);
  assert.equal(report.multipart.download_sha256, largeHash);
  assert.deepEqual(report.delete_objects, { deleted: allKeys, errors: [] });
  assert.deepEqual(report.after_delete, []);
  assert.deepEqual(report.errors, { get_missing_key: ['NoSuchKey', 404], missing_bucket: ['NoSuchBucket', 404] });
  assert.deepEqual(report.buckets_after, []);
});

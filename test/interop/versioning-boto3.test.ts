// Interop: S3 versioning (issue 3, "## Versioning") with boto3 — the Debian python3-boto3, run by
// /usr/bin/python3. versioning_boto3.py reports what it saw; this file judges it against AWS's
// documented behaviour (GetBucketVersioning, DeleteObject, DeleteObjects, ListObjectVersions and
// "Working with delete markers"). Version ids are the server's: they are taken from the report and
// only compared with each other, never with a value written here.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sha256, tempDir } from '../support/file-tree.js';
import { requireBoto3, runBoto3Script } from '../support/boto3.js';
import { startVault } from '../support/vault-server.js';

const bucket = 'boto3-versioning';
/** A space, a '+' and a non-ASCII letter: boto3's encoding-type=url round trip must keep all three. */
const key = 'docs/report v+1 é.txt';
const others = ['docs/other.txt', 'docs/sub/deep.txt', 'top.txt'] as const;

/** [code, HTTP status, x-amz-delete-marker header] of a failed call; null if it succeeded. */
type Failure = [string, number, string | null] | null;
type Row = [key: string, versionId: string, isLatest: boolean];
interface ListingPage {
  encoding_type: string | null;
  versions: Row[];
  delete_markers: Row[];
  prefixes: string[];
}
interface DeletedEntry {
  key: string;
  version_id: string | null;
  delete_marker: boolean | null;
  delete_marker_version_id: string | null;
}
interface VersioningReport {
  boto3: string;
  initial_status: string | null;
  status: string | null;
  put_version_ids: (string | null)[];
  other_version_ids: Record<string, string | null>;
  delete: { status: number; delete_marker: boolean | null; version_id: string | null };
  get_after_delete: Failure;
  head_after_delete: Failure;
  get_marker_version: Failure;
  get_versions: { sha256: string; version_id: string | null }[];
  pages_before: ListingPage[];
  delete_objects: { deleted: DeletedEntry[]; errors: unknown[] };
  get_after_undelete: { sha256: string; version_id: string | null };
  pages_after: ListingPage[];
  delimited_pages: ListingPage[];
  cleanup: { count: number; errors: unknown[] };
  delete_bucket: Failure;
  buckets_after: string[];
}

void test('boto3: versioning, delete markers, get by VersionId, delete_objects with versions, paginated version listing', { timeout: 180_000 }, async (t) => {
  if (!(await requireBoto3(t))) return;
  const vault = await startVault();
  t.after(() => vault.stop());
  const work = await tempDir(t);
  const bodies = [randomBytes(16).toString('hex'), `${randomBytes(700).toString('base64')}\n`, ''];

  const report = await runBoto3Script<VersioningReport>('versioning_boto3.py', vault, work, { endpoint: vault.endpoint, bucket, key, bodies, others }, 120_000);

  assert.equal(report.initial_status, null, 'a never-versioned bucket reports no Status');
  assert.equal(report.status, 'Enabled');

  assert.equal(report.put_version_ids.length, 3);
  const [p1, p2, p3] = report.put_version_ids.map((id, index) => realVersionId(id, `put_object #${index + 1}`));
  const [other, deep, top] = others.map((name) => realVersionId(report.other_version_ids[name], `put_object ${name}`));
  assert.ok(p1 && p2 && p3 && other && deep && top);
  assert.equal(new Set([p1, p2, p3]).size, 3, 'three PUTs, three version ids');

  assert.equal(report.delete.status, 204);
  assert.equal(report.delete.delete_marker, true, 'delete_object on an Enabled bucket reports DeleteMarker');
  const marker = realVersionId(report.delete.version_id, 'the delete marker');
  assert.ok(![p1, p2, p3].includes(marker), 'the marker has its own version id');
  assert.deepEqual(report.get_after_delete, ['NoSuchKey', 404, 'true'], 'get_object behind a delete marker');
  assert.deepEqual(report.head_after_delete?.slice(1), [404, 'true'], 'head_object behind a delete marker');
  assert.deepEqual(report.get_marker_version, ['MethodNotAllowed', 405, 'true'], 'get_object with the marker as VersionId');
  assert.deepEqual(
    report.get_versions,
    [p1, p2, p3].map((id, index) => ({ sha256: sha256(bodies[index] ?? ''), version_id: id })),
    'every version is still readable, byte-exact, by VersionId',
  );

  assertListing(report.pages_before, 2, [
    version('docs/other.txt', other, true),
    deleteMarker(key, marker, true),
    version(key, p3, false),
    version(key, p2, false),
    version(key, p1, false),
    version('docs/sub/deep.txt', deep, true),
    version('top.txt', top, true),
  ]);

  const { deleted, errors } = report.delete_objects;
  assert.deepEqual(errors, []);
  const byVersion = (id: string) => deleted.find((d) => d.key === key && d.version_id === id);
  assert.deepEqual(byVersion(marker), { key, version_id: marker, delete_marker: true, delete_marker_version_id: marker }, 'deleting the marker by VersionId');
  assert.equal(byVersion(p1)?.delete_marker ?? false, false, 'deleting a version by VersionId: not a marker');
  const topEntry = deleted.find((d) => d.key === 'top.txt') ?? assert.fail('top.txt is not in Deleted');
  assert.equal(topEntry.delete_marker, true, 'a plain key in delete_objects gets a delete marker');
  const topMarker = realVersionId(topEntry.delete_marker_version_id, 'DeleteMarkerVersionId of top.txt');
  assert.equal(deleted.length, 3);

  assert.deepEqual(report.get_after_undelete, { sha256: sha256(bodies[2] ?? ''), version_id: p3 }, 'removing the marker restored the newest version');
  assertListing(report.pages_after, 3, [
    version('docs/other.txt', other, true),
    version(key, p3, true),
    version(key, p2, false),
    version('docs/sub/deep.txt', deep, true),
    deleteMarker('top.txt', topMarker, true),
    version('top.txt', top, false),
  ]);
  assertListing(report.delimited_pages, 1, [
    version('docs/other.txt', other, true),
    version(key, p3, true),
    version(key, p2, false),
    `prefix docs/sub/`,
  ]);

  assert.deepEqual(report.cleanup, { count: 6, errors: [] }, 'delete_objects of every version and marker');
  assert.equal(report.delete_bucket, null, 'the bucket is empty once every version is gone');
  assert.deepEqual(report.buckets_after, []);
});

function realVersionId(id: string | null | undefined, what: string): string {
  assert.ok(typeof id === 'string' && id !== '' && id !== 'null', `${what}: expected a version id, got ${id}`);
  return id;
}

const version = (k: string, id: string, latest: boolean) => `Version ${k} @${id} latest=${latest}`;
const deleteMarker = (k: string, id: string, latest: boolean) => `DeleteMarker ${k} @${id} latest=${latest}`;

/**
 * Asserts that the paginator's pages list `expected` (see `version`, `deleteMarker`, and
 * `prefix …` for common prefixes) each exactly once and in listing order, at most `pageSize` per
 * page, with the keys decoded. boto3 hands Versions and DeleteMarkers over as separate lists, so
 * each is checked for order on its own and the page as a whole by position.
 */
function assertListing(pages: readonly ListingPage[], pageSize: number, expected: readonly string[]): void {
  const position = new Map(expected.map((item, index) => [item, index]));
  const seen: number[] = [];
  for (const [number, page] of pages.entries()) {
    const indexOf = (item: string) => position.get(item) ?? assert.fail(`page ${number} lists an unexpected ${item}\nexpected: ${expected.join('\n')}`);
    const lists = [
      page.versions.map(([k, id, latest]) => indexOf(version(k, id, latest))),
      page.delete_markers.map(([k, id, latest]) => indexOf(deleteMarker(k, id, latest))),
      page.prefixes.map((prefix) => indexOf(`prefix ${prefix}`)),
    ];
    for (const list of lists) assert.deepEqual(list, [...list].sort((a, b) => a - b), `page ${number}: each list in listing order`);
    const items = lists.flat().sort((a, b) => a - b);
    assert.ok(items.length <= pageSize, `page ${number} has ${items.length} entries, page size ${pageSize}`);
    assert.equal(page.encoding_type, 'url', `page ${number} echoes EncodingType url (boto3 asked for it)`);
    seen.push(...items);
  }
  assert.deepEqual(seen.map((index) => expected[index]), expected, 'every entry exactly once, in listing order');
}

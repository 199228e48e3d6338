import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type KeyScan, listPage } from './listing.js';
import type { ObjectVersionRecord } from './model.js';

function scanOver(keys: string[], prefix = ''): { scan: KeyScan; calls: () => number } {
  const sorted = [...new Set(keys)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  let calls = 0;
  const scan: KeyScan = async (after, limit) => {
    calls++;
    return sorted
      .filter((k) => k.startsWith(prefix) && Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0)
      .slice(0, limit)
      .map((key) => ({ key }) as unknown as ObjectVersionRecord);
  };
  return { scan, calls: () => calls };
}

/** The specification, computed the slow obvious way. */
function expected(keys: string[], prefix: string, delimiter: string) {
  const entries = new Set<string>();
  for (const key of new Set(keys)) {
    if (!key.startsWith(prefix)) continue;
    const i = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
    entries.add(i >= 0 ? key.slice(0, i + delimiter.length) : key);
  }
  return [...entries].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

test('listing with a delimiter rolls keys into common prefixes and pages through them', async () => {
  const { scan } = scanOver(['a/1', 'a/2', 'b/1', 'c', 'd/x/y']);
  const first = await listPage(scan, { prefix: '', delimiter: '/', after: '', maxKeys: 2 });
  assert.deepEqual(first.commonPrefixes, ['a/', 'b/']);
  assert.equal(first.isTruncated, true);
  assert.equal(first.nextMarker, 'b/');
  const second = await listPage(scan, { prefix: '', delimiter: '/', after: first.nextMarker, maxKeys: 2 });
  assert.deepEqual(second.contents.map((c) => c.key), ['c']);
  assert.deepEqual(second.commonPrefixes, ['d/']);
  assert.equal(second.isTruncated, false);
});

test('a page that ends exactly at the last key is not truncated', async () => {
  const { scan } = scanOver(['a', 'b']);
  const page = await listPage(scan, { prefix: '', delimiter: '', after: '', maxKeys: 2 });
  assert.equal(page.isTruncated, false);
  assert.equal(page.contents.length, 2);
});

test('property: paging through any key set with any page size yields exactly the specified entries', async () => {
  const key = fc.stringMatching(/^[ab/\u00e9\u{10000}]{1,5}$/u);
  await fc.assert(
    fc.asyncProperty(fc.array(key, { maxLength: 40 }), fc.constantFrom('', 'a', 'a/'), fc.constantFrom('', '/', 'b'), fc.integer({ min: 1, max: 7 }), async (keys, prefix, delimiter, maxKeys) => {
      const { scan } = scanOver(keys, prefix);
      const seen: string[] = [];
      let after = '';
      for (let pages = 0; pages < 100; pages++) {
        const page = await listPage(scan, { prefix, delimiter, after, maxKeys });
        const entries = [...page.contents.map((c) => c.key), ...page.commonPrefixes].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        assert.ok(entries.length <= maxKeys);
        seen.push(...entries);
        if (!page.isTruncated) break;
        after = page.nextMarker!;
      }
      assert.deepEqual(seen, expected(keys, prefix, delimiter));
    }),
    { numRuns: 300 },
  );
});

test('property: paging through versions with any page size yields every version once, in S3 order', async () => {
  const { listVersionsPage } = await import('./listing.js');
  const key = fc.stringMatching(/^[ab/]{1,4}$/);
  await fc.assert(
    fc.asyncProperty(fc.array(key, { maxLength: 30 }), fc.constantFrom('', 'a'), fc.constantFrom('', '/'), fc.integer({ min: 1, max: 5 }), async (keys, prefix, delimiter, maxKeys) => {
      // Each occurrence of a key is one version; a later occurrence is newer.
      const versions = keys.map((k, i) => ({ key: k, versionId: `v${String(i).padStart(3, '0')}`, seq: i }));
      const ordered = [...versions].sort((x, y) => Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)) || y.seq - x.seq);
      const scan = async (afterKey: string, afterVersionId: string | undefined, limit: number) => {
        const markerSeq = afterVersionId === undefined ? -1 : (versions.find((v) => v.key === afterKey && v.versionId === afterVersionId)?.seq ?? -1);
        return ordered
          .filter((v) => v.key.startsWith(prefix))
          .filter((v) => Buffer.compare(Buffer.from(v.key), Buffer.from(afterKey)) > 0 || (v.key === afterKey && v.seq < markerSeq))
          .slice(0, limit) as unknown as ObjectVersionRecord[];
      };
      const seen: string[] = [];
      let keyMarker = '';
      let versionIdMarker: string | undefined;
      for (let pages = 0; pages < 200; pages++) {
        const page = await listVersionsPage(scan, { prefix, delimiter, keyMarker, versionIdMarker, maxKeys });
        assert.ok(page.versions.length + page.commonPrefixes.length <= maxKeys);
        seen.push(...page.versions.map((v) => v.versionId), ...page.commonPrefixes);
        if (!page.isTruncated) break;
        keyMarker = page.nextKeyMarker!;
        versionIdMarker = page.nextVersionIdMarker;
      }
      const expected: string[] = [];
      const prefixes = new Set<string>();
      for (const v of ordered) {
        if (!v.key.startsWith(prefix)) continue;
        const i = delimiter === '' ? -1 : v.key.indexOf(delimiter, prefix.length);
        if (i < 0) expected.push(v.versionId);
        else if (!prefixes.has(v.key.slice(0, i + 1))) {
          prefixes.add(v.key.slice(0, i + 1));
          expected.push(v.key.slice(0, i + 1));
        }
      }
      assert.deepEqual([...seen].sort(), [...expected].sort());
      assert.equal(seen.length, expected.length);
    }),
    { numRuns: 300 },
  );
});

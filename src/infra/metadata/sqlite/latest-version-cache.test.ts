import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObjectVersionRecord } from '../../../domain/model.js';
import { LatestVersionCache } from './latest-version-cache.js';

const version = (bucket: string, key: string, bytes: number): ObjectVersionRecord => ({
  bucket,
  key,
  versionId: 'null',
  isLatest: true,
  isDeleteMarker: false,
  size: bytes,
  etag: '"e"',
  lastModifiedMs: 1,
  headers: {},
  checksum: undefined,
  partSizes: [],
  data: bytes < 0 ? { kind: 'blobs', blobs: [] } : { kind: 'inline', data: Buffer.alloc(bytes) },
  retention: undefined,
  legalHold: undefined,
});

test('keeps, replaces and forgets the latest version of a key; buckets and keys do not collide', () => {
  const cache = new LatestVersionCache(10, 1000);
  cache.remember(version('a', 'b/c', 1));
  cache.remember(version('a-b', 'c', 2));
  assert.equal(cache.get('a', 'b/c')?.size, 1);
  assert.equal(cache.get('a-b', 'c')?.size, 2);
  cache.remember(version('a', 'b/c', 3));
  assert.equal(cache.get('a', 'b/c')?.size, 3);
  assert.equal(cache.size, 2);
  cache.forget('a', 'b/c');
  assert.equal(cache.get('a', 'b/c'), undefined);
  cache.clear();
  assert.equal(cache.size, 0);
});

test('bounded by entries and by inline bytes, oldest out first; an object over the byte bound is not kept', () => {
  const cache = new LatestVersionCache(3, 100);
  for (const key of ['k1', 'k2', 'k3', 'k4']) cache.remember(version('b', key, 10));
  assert.deepEqual(['k1', 'k2', 'k3', 'k4'].map((k) => cache.get('b', k) !== undefined), [false, true, true, true]);
  cache.remember(version('b', 'big', 90));
  assert.equal(cache.get('b', 'big')?.size, 90);
  assert.equal(cache.get('b', 'k2'), undefined, 'evicted for room');
  assert.equal(cache.get('b', 'k3'), undefined, 'evicted for bytes');
  cache.remember(version('b', 'huge', 101));
  assert.equal(cache.get('b', 'huge'), undefined);
  cache.remember(version('b', 'blob-backed', -1));
  assert.ok(cache.get('b', 'blob-backed') !== undefined, 'blob-backed versions cost no inline bytes');
  cache.forget('b', 'big');
  for (const key of ['x1', 'x2']) cache.remember(version('b', key, 50));
  assert.equal(cache.get('b', 'x1')?.size, 50, 'forgotten bytes are given back');
});

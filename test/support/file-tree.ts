import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { TestContext } from 'node:test';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/**
 * Sizes that catch off-by-one and framing bugs: empty, one byte, around 4 KiB and 64 KiB (a common
 * buffer and the aws-chunked chunk size of minio-go), and odd sizes that are no power of two.
 */
export const edgeSizes: readonly number[] = [0, 1, 2, 4095, 4096, 4097, 65_535, 65_536, 65_537, 1_000_003];

/** A fresh temporary directory, removed when the test `t` ends. */
export async function tempDir(t: TestContext, prefix = 'holdfast-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `size` random bytes to `path` (parents created) and returns their hex SHA-256. */
export async function writeRandomFile(path: string, size: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(MiB, size - written));
      hash.update(chunk);
      await file.write(chunk);
      written += chunk.length;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/**
 * Creates the files given as `{ 'relative/path': size }` under `root`, with random contents, and
 * returns their SHA-256 by relative path (always with `/`).
 */
export async function writeRandomTree(root: string, files: Readonly<Record<string, number>>): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const [path, size] of Object.entries(files)) {
    hashes.set(path, await writeRandomFile(join(root, ...path.split('/')), size));
  }
  return hashes;
}

/**
 * A tree that exercises what sync tools get wrong: nesting, the edge sizes, names with spaces,
 * unicode and shell-special characters, and (if `largeSize` is given) one file big enough that the
 * client switches to multipart.
 */
export function syncTreeLayout(largeSize?: number): Record<string, number> {
  const layout: Record<string, number> = {};
  edgeSizes.forEach((size, index) => {
    layout[`sizes/file-${index}-${size}.bin`] = size;
  });
  Object.assign(layout, {
    'top.txt': 123,
    'a/b/c/deep.dat': 7_777,
    'with space/and+plus (1).txt': 321,
    'unicode/über-ñ-日本.txt': 99,
    'punct/semi;colon,comma=eq&amp.txt': 55,
  });
  if (largeSize !== undefined) layout['large/big.bin'] = largeSize;
  return layout;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function md5Hex(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

export async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Sets the modification time of every file under `root` to `secondsAgo` in the past. Sync tools
 * (aws s3 sync, s3cmd, rclone) compare a local mtime with the object's LastModified, which S3 keeps
 * to the second: a file written in the same second as its upload could look newer than its copy.
 */
export async function backdateTree(root: string, secondsAgo = 3600): Promise<void> {
  const when = new Date(Date.now() - secondsAgo * 1000);
  for (const path of await listFiles(root)) await utimes(path, when, when);
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => {
      // `parentPath` is Node ≥ 20.12; `path` is the older (deprecated) name for the same thing.
      const parent = (entry as { parentPath?: string }).parentPath ?? (entry as unknown as { path: string }).path;
      return join(parent, entry.name);
    });
}

/** Every regular file under `root`, by relative path (with `/`), mapped to its SHA-256. */
export async function hashTree(root: string): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (const full of await listFiles(root)) {
    hashes.set(relative(root, full).split(sep).join('/'), await sha256File(full));
  }
  return hashes;
}

/**
 * Asserts that `actualRoot` holds exactly the files of `expected` (a root directory or a map from
 * `hashTree`/`writeRandomTree`), byte for byte; the message names missing, extra and differing files.
 */
export async function assertTreesEqual(actualRoot: string, expected: string | ReadonlyMap<string, string>): Promise<void> {
  const want = typeof expected === 'string' ? await hashTree(expected) : expected;
  const have = await hashTree(actualRoot);
  const missing = [...want.keys()].filter((path) => !have.has(path)).sort();
  const extra = [...have.keys()].filter((path) => !want.has(path)).sort();
  const differing = [...want.keys()].filter((path) => have.has(path) && have.get(path) !== want.get(path)).sort();
  assert.ok(
    missing.length === 0 && extra.length === 0 && differing.length === 0,
    `tree ${actualRoot} differs from the source:\n` +
      `  missing (${missing.length}): ${missing.join(', ')}\n` +
      `  extra (${extra.length}): ${extra.join(', ')}\n` +
      `  different contents (${differing.length}): ${differing.join(', ')}`,
  );
}

import { lstat, opendir, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { looksBinary, type SourceStats, type TextUnit } from './text-unit.js';

/** Directories a working-tree scan leaves out unless asked: history and installed dependencies. */
export const DEFAULT_EXCLUDED_DIRECTORIES: readonly string[] = ['.git', 'node_modules'];

export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024;

export interface WorkingTreeOptions {
  readonly maxFileBytes: number;
  /** Directory names skipped wherever they occur below the root; empty to scan everything. */
  readonly excludedDirectories: readonly string[];
}

async function* walk(root: string, dir: string, options: WorkingTreeOptions, stats: SourceStats): AsyncGenerator<string> {
  const names: Array<{ name: string; directory: boolean }> = [];
  for await (const entry of await opendir(dir)) {
    // Symbolic links are not followed: they may leave the tree or loop.
    if (entry.isDirectory()) names.push({ name: entry.name, directory: true });
    else if (entry.isFile()) names.push({ name: entry.name, directory: false });
  }
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, directory } of names) {
    const path = join(dir, name);
    if (!directory) {
      yield path;
    } else if (options.excludedDirectories.includes(name)) {
      stats.skippedDirectories.push(relative(root, path).split(sep).join('/'));
    } else {
      yield* walk(root, path, options, stats);
    }
  }
}

/**
 * The text files under `root` (or `root` itself when it is a file), in path order. Binary files
 * (a NUL in the first 8 KiB) and files over the size cap are counted in `stats` and skipped.
 */
export async function* workingTreeUnits(root: string, options: WorkingTreeOptions, stats: SourceStats): AsyncGenerator<TextUnit> {
  const rootIsFile = (await lstat(root)).isFile();
  const files = rootIsFile ? [root] : walk(root, root, options, stats);
  for await (const file of files) {
    const path = rootIsFile ? basename(file) : relative(root, file).split(sep).join('/');
    let bytes: Buffer;
    try {
      if ((await lstat(file)).size > options.maxFileBytes) {
        stats.skippedLarge++;
        continue;
      }
      bytes = await readFile(file);
    } catch {
      stats.skippedUnreadable++;
      continue;
    }
    if (bytes.length > options.maxFileBytes) {
      stats.skippedLarge++;
      continue;
    }
    if (looksBinary(bytes)) {
      stats.skippedBinary++;
      continue;
    }
    stats.units++;
    stats.bytes += bytes.length;
    yield { path, text: bytes.toString('utf8') };
  }
}

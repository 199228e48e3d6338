import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * fsyncs a directory, so that a file created, renamed or linked in it survives a crash: the
 * file's own fsync covers its bytes, not the directory entry that names it (fsync(2), "Calling
 * fsync() does not necessarily ensure that the entry in the directory containing the file has
 * also reached disk").
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** syncDirectory for start-up code that cannot await. */
export function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * Whether `name` resolves to an executable file through `PATH`, as `spawn` would find it (or an
 * absolute path that is executable). Synchronous: called once per tool at start-up.
 */
export function findExecutable(name: string, path: string | undefined): string | undefined {
  const candidates = isAbsolute(name) ? [name] : (path ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there, or not executable: try the next directory.
    }
  }
  return undefined;
}

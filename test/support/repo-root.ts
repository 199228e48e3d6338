import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, found by walking up from this file to the nearest package.json. Tests run
 * both compiled (`dist/test/...`) and from source under tsx (`test/...`); both must find the built
 * server and the non-TypeScript fixtures (e.g. Python scripts) that tsc does not copy to dist/.
 */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { readCargoLock } from './cargo-lock.js';
import { debianReleaseFromBaseFiles, readDpkgStatus } from './dpkg-status.js';
import { readGoMod } from './go-mod.js';
import { readNpmLockfile } from './npm-lockfile.js';
import { ecosystemFromOsRelease } from './os-release.js';
import { readPipRequirements } from './pip-requirements.js';
import { readPoetryLock } from './poetry-lock.js';
import { ManifestFormatError, type PackageManifest } from './package-manifest.js';

/**
 * Finds what `scan deps PATH` reads: PATH itself when it is a file, else every supported file in
 * the tree under it. Directories named `.git` and `node_modules` are not entered, and symbolic
 * links are not followed (an unpacked image is full of absolute links into the host). The one
 * exception under node_modules: npm 7+ writes `node_modules/.package-lock.json`, the installed
 * tree itself, which is read when no package-lock.json or npm-shrinkwrap.json is beside it (a
 * deployed app or an image layer often ships node_modules without the lockfile). When both a
 * shrinkwrap and a package-lock exist, npm uses the shrinkwrap, and so does this.
 */
export const SKIPPED_DIRECTORIES: readonly string[] = ['.git', 'node_modules'];
/** Bigger than any real lockfile or dpkg database; anything larger is refused unread. */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export interface ManifestProblem {
  readonly path: string;
  readonly message: string;
}

export interface FoundManifests {
  readonly manifests: PackageManifest[];
  readonly problems: ManifestProblem[];
}

export interface FindOptions {
  /** Overrides the Debian/Ubuntu release for dpkg databases ("Debian:12"). */
  readonly distro?: string;
}

const DPKG_STATUS = 'var/lib/dpkg/status';
const LOCKFILE_NAMES: readonly string[] = ['package-lock.json', 'npm-shrinkwrap.json', 'go.mod', 'Cargo.lock', 'poetry.lock'];
/** requirements.txt and its usual siblings: requirements-dev.txt, requirements.lock.txt, dev-requirements.txt. */
const REQUIREMENTS = /^(?:[\w.-]+[-_.])?requirements(?:[-_.][\w.-]+)?\.txt$/;

function read(path: string): string {
  if (statSync(path).size > MAX_MANIFEST_BYTES) throw new ManifestFormatError(`larger than ${MAX_MANIFEST_BYTES} bytes`);
  return readFileSync(path, 'utf8');
}

/** The release of the system whose root is `systemRoot`, from os-release, else base-files. */
function releaseOf(systemRoot: string | undefined, status: string, distro: string | undefined): string | undefined {
  if (distro !== undefined) return distro;
  if (systemRoot !== undefined) {
    for (const candidate of ['etc/os-release', 'usr/lib/os-release']) {
      const file = join(systemRoot, candidate);
      if (existsSync(file)) return ecosystemFromOsRelease(readFileSync(file, 'utf8'));
    }
  }
  const debian = debianReleaseFromBaseFiles(status);
  return debian === undefined ? undefined : `Debian:${debian}`;
}

function readDpkg(root: string, statusPath: string | undefined, statusDir: string | undefined, systemRoot: string | undefined, options: FindOptions): PackageManifest {
  const text = statusPath === undefined ? '' : read(statusPath);
  const extra = statusDir === undefined ? [] : readdirSync(statusDir, { withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => ({ path: join(statusDir, entry.name), text: read(join(statusDir, entry.name)) }));
  const all = [text, ...extra.map((file) => file.text)].join('\n\n');
  const display = relative(root, statusPath ?? statusDir!).split(sep).join('/') || basename(statusPath ?? statusDir!);
  return readDpkgStatus(text, display, releaseOf(systemRoot, all, options.distro), extra);
}

function readFile(root: string, path: string, options: FindOptions): PackageManifest {
  const display = relative(root, path).split(sep).join('/') || basename(path);
  const name = basename(path);
  if (name === 'package-lock.json' || name === 'npm-shrinkwrap.json' || name === '.package-lock.json') return readNpmLockfile(read(path), display);
  if (name === 'go.mod') return readGoMod(read(path), display);
  if (name === 'Cargo.lock') return readCargoLock(read(path), display);
  if (name === 'poetry.lock') return readPoetryLock(read(path), display);
  if (REQUIREMENTS.test(name)) return readPipRequirements(read(path), display);
  const text = read(path);
  if (/^Package:/m.test(text.slice(0, 4096))) {
    // A dpkg database given directly: a system root is three levels above var/lib/dpkg/status.
    const systemRoot = path.split(sep).join('/').endsWith(DPKG_STATUS) ? dirname(dirname(dirname(dirname(path)))) : undefined;
    return readDpkgStatus(text, display, releaseOf(systemRoot, text, options.distro));
  }
  throw new ManifestFormatError('not a supported file: give a package-lock.json, npm-shrinkwrap.json, go.mod, Cargo.lock, poetry.lock, requirements.txt, a dpkg status file or a directory');
}

export function findManifests(target: string, options: FindOptions = {}): FoundManifests {
  const found: FoundManifests = { manifests: [], problems: [] };
  const attempt = (path: string, readIt: () => PackageManifest) => {
    try {
      found.manifests.push(readIt());
    } catch (error) {
      if (!(error instanceof ManifestFormatError) && (error as NodeJS.ErrnoException).code === undefined) throw error;
      found.problems.push({ path, message: (error as Error).message });
    }
  };
  if (!statSync(target).isDirectory()) {
    attempt(basename(target), () => readFile(dirname(target), target, options));
    return found;
  }
  const walk = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    const names = new Set(entries.map((entry) => entry.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === 'node_modules') {
          const hidden = join(path, '.package-lock.json');
          if (!names.has('package-lock.json') && !names.has('npm-shrinkwrap.json') && existsSync(hidden)) attempt(relative(target, hidden), () => readFile(target, hidden, options));
          continue;
        }
        if (SKIPPED_DIRECTORIES.includes(entry.name)) continue;
        walk(path);
      } else if (entry.isFile()) {
        if (entry.name === 'package-lock.json' && names.has('npm-shrinkwrap.json')) continue;
        if (LOCKFILE_NAMES.includes(entry.name) || REQUIREMENTS.test(entry.name)) attempt(relative(target, path), () => readFile(target, path, options));
      }
    }
    // dpkg's database: var/lib/dpkg/status (and distroless images' status.d/) under a system root.
    if (basename(dir) === 'dpkg' && dir.split(sep).join('/').endsWith('var/lib/dpkg') && (names.has('status') || names.has('status.d'))) {
      const systemRoot = dirname(dirname(dirname(dir)));
      const statusPath = names.has('status') ? join(dir, 'status') : undefined;
      const statusDir = names.has('status.d') ? join(dir, 'status.d') : undefined;
      attempt(relative(target, statusPath ?? statusDir!), () => readDpkg(target, statusPath, statusDir, systemRoot, options));
    }
  };
  walk(target);
  found.manifests.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return found;
}

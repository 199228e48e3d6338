import { parseSemver } from '../versions/semver-version.js';
import { LineIndex, ManifestFormatError, type InstalledPackage, type PackageManifest } from './package-manifest.js';

/**
 * npm's package-lock.json and npm-shrinkwrap.json (https://docs.npmjs.com/cli/v10/configuring-npm/package-lock-json):
 * lockfileVersion 2 and 3 list every installed package under `packages`, keyed by its path
 * ("node_modules/a/node_modules/b"); version 1 nests them under `dependencies`. Version 2 has
 * both, and `packages` is read. The root ("") and workspace folders are the project's own code;
 * `link` entries point at them. Aliases (`"x": "npm:real@1.0.0"`) are matched by the real name.
 */
type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NODE_MODULES = 'node_modules/';

interface Collected {
  readonly packages: Map<string, { name: string; version: string; line: number; paths: string[]; dev: boolean }>;
  skipped: number;
}

function add(collected: Collected, name: string, version: string, path: string, line: number, dev: boolean): void {
  if (parseSemver(version) === undefined) {
    collected.skipped++;
    return;
  }
  const key = `${name}@${version}`;
  const existing = collected.packages.get(key);
  if (existing === undefined) collected.packages.set(key, { name, version, line, paths: [path], dev });
  else {
    existing.paths.push(path);
    existing.dev &&= dev;
  }
}

/** `npm:real-name@1.2.3` → real name and version. */
function unalias(name: string, version: string): { name: string; version: string } {
  if (!version.startsWith('npm:')) return { name, version };
  const spec = version.slice(4);
  const at = spec.lastIndexOf('@');
  return at > 0 ? { name: spec.slice(0, at), version: spec.slice(at + 1) } : { name, version };
}

function readPackages(packages: Json, lines: LineIndex, collected: Collected): void {
  for (const [key, entry] of Object.entries(packages)) {
    if (key === '' || !isObject(entry)) continue;
    const line = lines.nextLineOf(`${JSON.stringify(key)}:`);
    const at = key.lastIndexOf(NODE_MODULES);
    if (at === -1 || entry.link === true) continue;
    if (typeof entry.version !== 'string') {
      collected.skipped++;
      continue;
    }
    const real = unalias(typeof entry.name === 'string' ? entry.name : key.slice(at + NODE_MODULES.length), entry.version);
    add(collected, real.name, real.version, key, line, entry.dev === true);
  }
}

function readDependencies(dependencies: Json, parent: string, lines: LineIndex, collected: Collected): void {
  for (const [name, entry] of Object.entries(dependencies)) {
    if (!isObject(entry)) continue;
    const line = lines.nextLineOf(`${JSON.stringify(name)}: {`);
    const path = `${parent}${NODE_MODULES}${name}`;
    if (typeof entry.version === 'string') {
      const real = unalias(name, entry.version);
      add(collected, real.name, real.version, path, line, entry.dev === true);
    } else collected.skipped++;
    if (isObject(entry.dependencies)) readDependencies(entry.dependencies, `${path}/`, lines, collected);
  }
}

export function readNpmLockfile(text: string, path: string): PackageManifest {
  let lock: unknown;
  try {
    lock = JSON.parse(text);
  } catch (error) {
    throw new ManifestFormatError(`${path} is not valid JSON (${(error as Error).message}).`);
  }
  if (!isObject(lock) || (!isObject(lock.packages) && !isObject(lock.dependencies))) throw new ManifestFormatError(`${path} has neither "packages" nor "dependencies"; it is not an npm lockfile.`);
  const collected: Collected = { packages: new Map(), skipped: 0 };
  const lines = new LineIndex(text);
  if (isObject(lock.packages)) readPackages(lock.packages, lines, collected);
  else readDependencies(lock.dependencies as Json, '', lines, collected);
  const packages: InstalledPackage[] = [...collected.packages.values()].map(({ name, version, line, paths, dev }) => ({ ecosystem: 'npm', name, version, line, paths, ...(dev ? { dev } : {}) }));
  return {
    kind: 'npm-lockfile',
    path,
    packages,
    notes: collected.skipped === 0 ? [] : [`${collected.skipped} entr${collected.skipped === 1 ? 'y' : 'ies'} without a registry version (git, file or link dependencies) not checked`],
  };
}

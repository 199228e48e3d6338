import type { InstalledPackage, PackageManifest } from './package-manifest.js';

/**
 * poetry.lock (TOML written by Poetry: one `[[package]]` table per locked distribution with
 * `name` and `version`, then its `[package.dependencies]`, `[package.extras]` and, for anything
 * not from PyPI, `[package.source]` with a `type`: git, directory, file, url, or legacy for a
 * private index). Only packages without a source, i.e. from PyPI, are checked against the PyPI
 * advisories: a git checkout or a private index's package of the same name is not PyPI's. The
 * file is generated, so this reads its fixed layout rather than all of TOML (as cargo-lock.ts).
 * A package only in non-main groups (`category = "dev"` in Poetry < 1.5, `groups = ["dev"]` in
 * Poetry 2) is marked dev.
 */
function stringValue(line: string, key: string): string | undefined {
  const match = new RegExp(`^${key}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*$`).exec(line);
  return match?.[1];
}

interface LockedPackage {
  name?: string;
  version?: string;
  sourceType?: string;
  dev: boolean;
  line: number;
}

export function readPoetryLock(text: string, path: string): PackageManifest {
  const packages: InstalledPackage[] = [];
  let other = 0;
  let current: LockedPackage | undefined;
  /** Which table of the current package the lines belong to. */
  let table: 'package' | 'source' | 'other' = 'other';
  const finish = () => {
    if (current?.name === undefined || current.version === undefined) return;
    if (current.sourceType !== undefined) {
      other++;
      return;
    }
    packages.push({ ecosystem: 'PyPI', name: current.name, version: current.version, line: current.line, paths: [], ...(current.dev ? { dev: true } : {}) });
  };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('[')) {
      if (line === '[[package]]') {
        finish();
        current = { dev: false, line: index + 1 };
        table = 'package';
      } else if (line === '[package.source]') {
        table = 'source';
      } else if (!line.startsWith('[package.')) {
        finish();
        current = undefined;
      } else {
        table = 'other';
      }
      return;
    }
    if (current === undefined) return;
    if (table === 'package') {
      current.name ??= stringValue(line, 'name');
      current.version ??= stringValue(line, 'version');
      if (stringValue(line, 'category') === 'dev') current.dev = true;
      const groups = /^groups\s*=\s*\[(.*)\]\s*$/.exec(line);
      if (groups !== null && !/"main"/.test(groups[1]!)) current.dev = true;
    } else if (table === 'source') {
      current.sourceType ??= stringValue(line, 'type');
    }
  });
  finish();
  return { kind: 'poetry-lock', path, packages, notes: other === 0 ? [] : [`${other} package(s) from git, a path, a URL or another index not checked`] };
}

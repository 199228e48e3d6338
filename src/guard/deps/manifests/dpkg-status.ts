import { parseDpkgVersion } from '../versions/dpkg-version.js';
import { type InstalledPackage, type PackageManifest } from './package-manifest.js';

/**
 * dpkg's database of installed packages, `/var/lib/dpkg/status` (deb-control(5) syntax, one stanza
 * per package; dpkg-query(1) for the Status field), or the per-package files of
 * `/var/lib/dpkg/status.d/` that distroless images carry instead.
 *
 * Debian and Ubuntu advisories name SOURCE packages and source versions, so each binary package
 * is counted under its `Source:` field — "openssl" or "openssl (3.0.11-1~deb12u2)" when the binary
 * version differs (binNMUs, +bN) — and the package name and version when the field is absent
 * (deb-control(5): "Source: … defaults to the binary package name").
 */
export interface DpkgStanza {
  readonly fields: ReadonlyMap<string, string>;
  readonly line: number;
}

export function parseControlStanzas(text: string): DpkgStanza[] {
  const stanzas: DpkgStanza[] = [];
  let fields = new Map<string, string>();
  let line = 0;
  let last: string | undefined;
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const content = raw.replace(/\r$/, '');
    if (content.trim() === '') {
      if (fields.size > 0) stanzas.push({ fields, line });
      fields = new Map();
      last = undefined;
      return;
    }
    if (/^[ \t]/.test(content)) {
      if (last !== undefined) fields.set(last, `${fields.get(last)}\n${content.trim()}`);
      return;
    }
    const colon = content.indexOf(':');
    if (colon <= 0) return;
    if (fields.size === 0) line = index + 1;
    last = content.slice(0, colon).trim().toLowerCase();
    fields.set(last, content.slice(colon + 1).trim());
  });
  if (fields.size > 0) stanzas.push({ fields, line });
  return stanzas;
}

/** dpkg-query(1): the third word of Status is the state; only these have files on the system. */
const PRESENT_STATES = new Set(['installed', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending']);

/**
 * @param ecosystem "Debian:12", "Ubuntu:22.04"; or undefined when the release is unknown — then
 *   nothing can be matched (fixes differ per release) and the manifest says so.
 */
export function readDpkgStatus(text: string, path: string, ecosystem: string | undefined, stanzaSources: readonly { text: string; path: string }[] = []): PackageManifest {
  const sources = new Map<string, { name: string; version: string; line: number; paths: string[] }>();
  let notInstalled = 0;
  let unreadable = 0;
  for (const { text: body } of [{ text }, ...stanzaSources]) {
    for (const stanza of parseControlStanzas(body)) {
      const binary = stanza.fields.get('package');
      const version = stanza.fields.get('version');
      if (binary === undefined || version === undefined) continue;
      const state = stanza.fields.get('status')?.split(/\s+/)[2];
      if (state !== undefined && !PRESENT_STATES.has(state)) {
        notInstalled++;
        continue;
      }
      const source = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(stanza.fields.get('source') ?? binary);
      const sourceName = source?.[1] ?? binary;
      const sourceVersion = source?.[2]?.trim() ?? version;
      if (parseDpkgVersion(sourceVersion) === undefined) {
        unreadable++;
        continue;
      }
      const key = `${sourceName} ${sourceVersion}`;
      const arch = stanza.fields.get('architecture');
      const label = `${binary}${arch === undefined || arch === 'all' ? '' : `:${arch}`} ${version}`;
      const existing = sources.get(key);
      if (existing === undefined) sources.set(key, { name: sourceName, version: sourceVersion, line: body === text ? stanza.line : 1, paths: [label] });
      else if (!existing.paths.includes(label)) existing.paths.push(label);
    }
  }
  const packages: InstalledPackage[] = ecosystem === undefined ? [] : [...sources.values()].map((source) => ({ ecosystem, ...source }));
  const notes: string[] = [];
  if (ecosystem === undefined && sources.size > 0) notes.push(`${sources.size} source packages not checked: the distribution release is unknown (no etc/os-release beside it); pass --distro, e.g. --distro Debian:12`);
  if (unreadable > 0) notes.push(`${unreadable} packages with a version dpkg would not accept were not checked`);
  if (notInstalled > 0) notes.push(`${notInstalled} packages removed but not purged (config files only) ignored`);
  return { kind: 'dpkg-status', path, packages, notes };
}

/** The Debian release from base-files' version (12.4+deb12u5 → 12), for roots without os-release. */
export function debianReleaseFromBaseFiles(text: string): string | undefined {
  const baseFiles = parseControlStanzas(text).find((stanza) => stanza.fields.get('package') === 'base-files');
  const version = baseFiles?.fields.get('version');
  // Ubuntu's base-files (12ubuntu4.6) numbers itself, not the release.
  if (version === undefined || version.includes('ubuntu')) return undefined;
  return /^(\d+)(?:[.+]|$)/.exec(version)?.[1];
}

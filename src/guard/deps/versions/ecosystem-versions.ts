import { compareDpkgVersions, parseDpkgVersion } from './dpkg-version.js';
import { comparePep440, parsePep440 } from './pep440-version.js';
import { compareSemver, parseSemver } from './semver-version.js';

/**
 * How one package ecosystem orders its versions and spells its package names. OSV names the
 * ecosystem on every affected package (https://ossf.github.io/osv-schema/#affectedpackage-field);
 * the part before the first colon ("Debian" of "Debian:12") picks the ordering here.
 */
export interface VersionScheme {
  readonly name: string;
  /** Negative, zero or positive; undefined when either version is not valid in this scheme. */
  compare(a: string, b: string): number | undefined;
}

export const SEMVER_SCHEME: VersionScheme = Object.freeze({
  name: 'SemVer 2.0.0',
  compare(a: string, b: string) {
    const x = parseSemver(a);
    const y = parseSemver(b);
    return x === undefined || y === undefined ? undefined : compareSemver(x, y);
  },
});

export const DPKG_SCHEME: VersionScheme = Object.freeze({
  name: 'dpkg',
  compare(a: string, b: string) {
    const x = parseDpkgVersion(a);
    const y = parseDpkgVersion(b);
    return x === undefined || y === undefined ? undefined : compareDpkgVersions(x, y);
  },
});

export const PEP440_SCHEME: VersionScheme = Object.freeze({
  name: 'PEP 440',
  compare(a: string, b: string) {
    const x = parsePep440(a);
    const y = parsePep440(b);
    return x === undefined || y === undefined ? undefined : comparePep440(x, y);
  },
});

/** The ecosystems `scan deps` reads, by OSV ecosystem name (before any ":release" suffix). */
const SCHEMES: ReadonlyMap<string, VersionScheme> = new Map([
  ['npm', SEMVER_SCHEME],
  ['Go', SEMVER_SCHEME],
  ['crates.io', SEMVER_SCHEME],
  ['PyPI', PEP440_SCHEME],
  ['Debian', DPKG_SCHEME],
  ['Ubuntu', DPKG_SCHEME],
]);

export function ecosystemBase(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  return colon === -1 ? ecosystem : ecosystem.slice(0, colon);
}

export function versionSchemeOf(ecosystem: string): VersionScheme | undefined {
  return SCHEMES.get(ecosystemBase(ecosystem));
}

export const SUPPORTED_ECOSYSTEMS: readonly string[] = [...SCHEMES.keys()];

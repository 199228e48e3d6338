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

/** A scheme from a parser and an order of parsed versions: a version that does not parse compares as undefined. */
function versionScheme<T>(name: string, parse: (text: string) => T | undefined, order: (a: T, b: T) => number): VersionScheme {
  return Object.freeze({
    name,
    compare(a: string, b: string) {
      const x = parse(a);
      const y = parse(b);
      return x === undefined || y === undefined ? undefined : order(x, y);
    },
  });
}

export const SEMVER_SCHEME = versionScheme('SemVer 2.0.0', parseSemver, compareSemver);
export const DPKG_SCHEME = versionScheme('dpkg', parseDpkgVersion, compareDpkgVersions);
export const PEP440_SCHEME = versionScheme('PEP 440', parsePep440, comparePep440);

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

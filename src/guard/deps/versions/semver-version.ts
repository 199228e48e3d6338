/**
 * Semantic Versioning 2.0.0 precedence (https://semver.org, §11), the order npm, Go modules and
 * crates.io versions follow and OSV's SEMVER range type names. Numbers are compared as digit
 * strings, never as JavaScript numbers, so `1.0.0-alpha.99999999999999999999` keeps its order.
 */
export interface SemverVersion {
  readonly core: readonly [string, string, string];
  /** Pre-release identifiers; empty for a release. Build metadata is dropped (§10: no precedence). */
  readonly prerelease: readonly string[];
}

// A leading "v" is accepted because Go writes its module versions that way (v1.2.3); OSV writes them
// without it. Leading zeros are tolerated (§2 forbids them, but real lockfiles are not validated).
const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function parseSemver(text: string): SemverVersion | undefined {
  const match = SEMVER.exec(text.trim());
  if (match === null) return undefined;
  return { core: [match[1]!, match[2]!, match[3]!], prerelease: match[4] === undefined ? [] : match[4].split('.') };
}

const NUMERIC = /^\d+$/;

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** §11.4: numeric identifiers numerically, below alphanumeric ones; those in ASCII order. */
function compareIdentifier(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  if (aNumeric && bNumeric) return compareDigits(a, b);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareSemver(a: SemverVersion, b: SemverVersion): number {
  for (let i = 0; i < 3; i++) {
    const order = compareDigits(a.core[i]!, b.core[i]!);
    if (order !== 0) return order;
  }
  // §11.3: a pre-release version has lower precedence than the release.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return (b.prerelease.length === 0 ? 0 : 1) - (a.prerelease.length === 0 ? 0 : 1);
  for (let i = 0; i < Math.min(a.prerelease.length, b.prerelease.length); i++) {
    const order = compareIdentifier(a.prerelease[i]!, b.prerelease[i]!);
    if (order !== 0) return order;
  }
  // §11.4.4: a larger set of pre-release fields wins when all before it are equal.
  return Math.sign(a.prerelease.length - b.prerelease.length);
}

import type { Clock } from '../../infra/clock.js';
import type { Severity } from '../severity.js';
import { DEPENDENCIES_SCANNED, dependencyFingerprint, type DependencyFinding } from './dependency-finding.js';
import { ecosystemApplies } from './manifests/os-release.js';
import type { InstalledPackage, PackageManifest } from './manifests/package-manifest.js';
import { matchAffected, type AffectedMatch } from './osv-range.js';
import { ecosystemBase, versionSchemeOf } from './versions/ecosystem-versions.js';
import { packageKey, type EcosystemFreshness, type VulnerabilityDatabase } from './vulnerability-database.js';
import { assessSeverity } from './vulnerability-severity.js';

export const DEFAULT_MAX_AGE_DAYS = 7;
const DAY_MS = 24 * 3600 * 1000;

export type ScanWarning =
  | { readonly kind: 'stale-database'; readonly ecosystem: string; readonly ageDays: number; readonly newestModified: string; readonly importedAt: string; readonly message: string }
  | { readonly kind: 'ecosystem-not-imported'; readonly ecosystem: string; readonly packages: number; readonly message: string }
  | { readonly kind: 'not-checked'; readonly file: string; readonly message: string };

export interface DatabaseAge {
  readonly ecosystem: string;
  readonly ageDays: number;
  readonly newestModified: string;
  readonly importedAt: string;
  readonly stale: boolean;
}

export interface DependencyScanOptions {
  readonly clock: Clock;
  readonly maxAgeDays: number;
  readonly unscoredAs: Severity;
}

export interface DependencyScanResult {
  readonly findings: DependencyFinding[];
  readonly warnings: ScanWarning[];
  readonly databaseAges: DatabaseAge[];
  readonly packagesChecked: number;
}

function versionLabel(ecosystem: string, version: string): string {
  return ecosystem === 'Go' ? `v${version}` : version;
}

/** What to do, in the package manager's own words where there is one. */
function fixText(pkg: InstalledPackage, match: AffectedMatch, advisory: string): string {
  const fixed = match.fixedIn[0];
  const base = ecosystemBase(pkg.ecosystem);
  if (fixed === undefined) {
    if (match.lastAffected !== undefined) return `upgrade ${pkg.name} to a version after ${versionLabel(pkg.ecosystem, match.lastAffected)} (the last one ${advisory} names as affected)`;
    return `no fixed version of ${pkg.name} is published: remove or replace it, or record the accepted risk (${advisory})`;
  }
  const target = versionLabel(pkg.ecosystem, fixed);
  switch (base) {
    case 'Debian':
    case 'Ubuntu': {
      const binaries = [...new Set(pkg.paths.map((label) => label.split(/[: ]/)[0]!))];
      return `upgrade source package ${pkg.name} to ${fixed} or later (apt-get install --only-upgrade ${binaries.join(' ')})`;
    }
    case 'Go':
      return `upgrade ${pkg.name} to ${target} (go get ${pkg.name}@${target})`;
    case 'crates.io':
      return `upgrade ${pkg.name} to ${target} (cargo update -p ${pkg.name} --precise ${target})`;
    case 'PyPI':
      return `upgrade ${pkg.name} to ${target} (pin ${pkg.name}==${target}, or poetry add ${pkg.name}@${target})`;
    default:
      return `upgrade ${pkg.name} to ${target}`;
  }
}

export function databaseAges(ecosystems: readonly EcosystemFreshness[], clock: Clock, maxAgeDays: number): DatabaseAge[] {
  return ecosystems.map((row) => {
    const ageDays = Math.max(0, (clock.nowMs() - row.newestModifiedMs) / DAY_MS);
    return { ecosystem: row.ecosystem, ageDays: Math.floor(ageDays * 10) / 10, newestModified: row.newestModified, importedAt: row.importedAt, stale: ageDays > maxAgeDays };
  });
}

/** Matches every package of every manifest against the database: one indexed lookup per package. */
export function scanManifests(manifests: readonly PackageManifest[], database: VulnerabilityDatabase, options: DependencyScanOptions): DependencyScanResult {
  const findings: DependencyFinding[] = [];
  const warnings: ScanWarning[] = [];
  const ages = databaseAges(database.status().ecosystems, options.clock, options.maxAgeDays);
  const imported = new Map(ages.map((age) => [age.ecosystem, age]));
  const unchecked = new Map<string, number>();
  const used = new Set<string>();
  let packagesChecked = 0;
  for (const manifest of manifests) {
    for (const note of manifest.notes) warnings.push({ kind: 'not-checked', file: manifest.path, message: `${manifest.path}: ${note}` });
    for (const pkg of manifest.packages) {
      const base = ecosystemBase(pkg.ecosystem);
      const scheme = versionSchemeOf(pkg.ecosystem);
      if (!imported.has(base) || scheme === undefined) {
        unchecked.set(base, (unchecked.get(base) ?? 0) + 1);
        continue;
      }
      used.add(base);
      packagesChecked++;
      const seen = new Set<string>();
      for (const { vulnerability, affected } of database.candidates(pkg.ecosystem, pkg.name)) {
        if (seen.has(vulnerability.id) || packageKey(affected.ecosystem, affected.name) !== packageKey(pkg.ecosystem, pkg.name) || !ecosystemApplies(pkg.ecosystem, affected.ecosystem)) continue;
        const match = matchAffected(pkg.version, affected, scheme);
        if (match === undefined) continue;
        seen.add(vulnerability.id);
        const severity = assessSeverity(vulnerability, affected, options.unscoredAs);
        findings.push({
          vulnerabilityId: vulnerability.id,
          aliases: vulnerability.aliases,
          ...(vulnerability.summary === undefined ? {} : { summary: vulnerability.summary }),
          ...(vulnerability.advisoryUrl === undefined ? {} : { advisoryUrl: vulnerability.advisoryUrl }),
          modified: vulnerability.modified,
          severity: severity.level,
          severityDetail: severity,
          ecosystem: pkg.ecosystem,
          package: pkg.name,
          version: pkg.version,
          file: manifest.path,
          line: pkg.line,
          paths: pkg.paths,
          ...(pkg.dev === true ? { dev: true } : {}),
          ...(match.fixedIn[0] === undefined ? {} : { fixedVersion: match.fixedIn[0] }),
          ...(match.lastAffected === undefined ? {} : { lastAffected: match.lastAffected }),
          fix: fixText(pkg, match, vulnerability.id),
          policy: DEPENDENCIES_SCANNED,
          fingerprint: dependencyFingerprint(vulnerability.id, pkg.ecosystem, pkg.name, manifest.path),
        });
      }
    }
  }
  for (const [ecosystem, packages] of unchecked) {
    warnings.push({ kind: 'ecosystem-not-imported', ecosystem, packages, message: `${packages} ${ecosystem} package(s) were not checked: the database has no ${ecosystem} records; import OSV's ${ecosystem}/all.zip with holdfast vulndb import.` });
  }
  for (const age of ages) {
    if (!age.stale || !used.has(age.ecosystem)) continue;
    warnings.push({
      kind: 'stale-database',
      ecosystem: age.ecosystem,
      ageDays: age.ageDays,
      newestModified: age.newestModified,
      importedAt: age.importedAt,
      message: `the ${age.ecosystem} advisories are ${age.ageDays} days old (newest record modified ${age.newestModified}), older than ${options.maxAgeDays} days: newer vulnerabilities are missing; import a fresh ${age.ecosystem}/all.zip.`,
    });
  }
  return { findings, warnings, databaseAges: ages.filter((age) => used.has(age.ecosystem)), packagesChecked };
}

import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../infra/clock.js';
import { blockingDependencyFindings, renderDependencyJson, renderDependencySarif, renderDependencyTable, type DependencyScanReport } from '../guard/deps/dependency-report.js';
import { DEFAULT_MAX_AGE_DAYS, scanManifests } from '../guard/deps/dependency-scan.js';
import { ImageFormatError } from '../guard/baseline/image/image-archive.js';
import { findManifests, type FoundManifests } from '../guard/deps/manifests/find-manifests.js';
import { isContainerImage, readImagePackages } from '../guard/deps/manifests/image-packages.js';
import { VulnerabilityDatabase } from '../guard/deps/vulnerability-database.js';
import { isSeverity, SEVERITIES } from '../guard/severity.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { TarFormatError } from '../infra/tar/tar-header.js';
import { packageVersion } from './package-version.js';
import { parseDays, vulnDbPath } from './vulndb-location.js';

export const SCAN_DEPS_USAGE = `Usage:
  holdfast scan deps [PATH] [--db FILE] [--format table|json|sarif] [--json] [--sarif FILE]
                     [--fail-on ${SEVERITIES.join('|')}] [--max-age DAYS] [--distro Debian:12|Ubuntu:22.04]
                     [--unscored-as ${SEVERITIES.join('|')}] [--image NAME]

scan deps checks installed and locked packages against the OSV advisories imported with
\`holdfast vulndb import\`, offline. PATH (default .) is a lockfile, a dpkg status file, or a
directory searched for package-lock.json, npm-shrinkwrap.json, node_modules/.package-lock.json,
go.mod, Cargo.lock, poetry.lock, requirements*.txt (== pins) and var/lib/dpkg/status (an
unpacked image root works), or a container image: a docker save tarball or an OCI layout
directory, whose dpkg database is read from its layers without a Docker engine.

  --db           the vulnerability database (default $HOLDFAST_VULNDB, else the per-user one)
  --fail-on      the lowest severity that makes the exit code 4 (default high)
  --max-age      warn when an ecosystem's advisories are older than DAYS (default ${DEFAULT_MAX_AGE_DAYS})
  --distro       the Debian/Ubuntu release of a dpkg database when etc/os-release cannot tell
  --unscored-as  the severity of advisories with no label or CVSS v3 score (default medium)
  --image        the image to read when the archive holds several (a RepoTags or ref.name)

Exit codes: 0 nothing at or above --fail-on, 1 failure (a file could not be read), 2 usage error,
4 vulnerable packages at or above --fail-on.
`;

export interface ScanDepsIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
  readonly env?: NodeJS.ProcessEnv;
}

class UsageError extends Error {}
/** An image archive that is not one (exit 1, like scan image). */
class ImageUnreadable extends Error {}

const DISTRO = /^(Debian:\d+|Ubuntu:\d+\.\d+)$/;

async function run(args: string[], io: ScanDepsIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      db: { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean' },
      sarif: { type: 'string' },
      'fail-on': { type: 'string' },
      'max-age': { type: 'string' },
      distro: { type: 'string' },
      'unscored-as': { type: 'string' },
      image: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    io.stdout(SCAN_DEPS_USAGE);
    return EXIT_OK;
  }
  const format = values.json === true ? 'json' : (values.format ?? 'table');
  if (format !== 'table' && format !== 'json' && format !== 'sarif') throw new UsageError(`--format takes table, json or sarif, not "${format}".`);
  const failOn = values['fail-on'] ?? 'high';
  if (!isSeverity(failOn)) throw new UsageError(`--fail-on takes one of ${SEVERITIES.join(', ')}, not "${failOn}".`);
  const unscoredAs = values['unscored-as'] ?? 'medium';
  if (!isSeverity(unscoredAs)) throw new UsageError(`--unscored-as takes one of ${SEVERITIES.join(', ')}, not "${unscoredAs}".`);
  const maxAgeDays = parseDays(values['max-age'], '--max-age', DEFAULT_MAX_AGE_DAYS);
  if (typeof maxAgeDays === 'string') throw new UsageError(maxAgeDays);
  if (values.distro !== undefined && !DISTRO.test(values.distro)) throw new UsageError(`--distro takes an OSV ecosystem such as Debian:12 or Ubuntu:22.04, not "${values.distro}".`);
  if (positionals.length > 1) throw new UsageError(`scan deps takes one PATH, not "${positionals.join(' ')}".`);
  const root = resolve(positionals[0] ?? '.');
  if (!existsSync(root)) throw new UsageError(`${root} does not exist; pass a lockfile, a dpkg status file or a directory.`);
  const dbPath = vulnDbPath(values.db, io.env ?? process.env);
  if (!existsSync(dbPath)) throw new UsageError(`no vulnerability database at ${dbPath}; import one first, e.g. holdfast vulndb import npm-all.zip (OSV's https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip), or pass --db FILE.`);

  const started = performance.now();
  const distro = values.distro === undefined ? {} : { distro: values.distro };
  const image = isContainerImage(root);
  if (values.image !== undefined && !image) throw new UsageError(`--image picks an image inside a docker save tarball or an OCI layout, and ${root} is neither.`);
  let found: FoundManifests;
  try {
    found = image ? await readImagePackages(root, { ...distro, ...(values.image === undefined ? {} : { select: values.image }) }) : findManifests(root, distro);
  } catch (error) {
    if (error instanceof ImageFormatError || error instanceof TarFormatError) throw new ImageUnreadable(`${root} cannot be read as an image: ${error.message}`);
    throw error;
  }
  if (image && found.manifests.length === 0 && found.problems.length === 0) throw new UsageError(`the image ${root} has no dpkg database (var/lib/dpkg/status or status.d/), the one package database scan deps reads in an image; scan the lockfiles it was built from instead.`);
  if (found.manifests.length === 0 && found.problems.length === 0) throw new UsageError(`found no lockfile or dpkg database under ${root}; pass a package-lock.json, go.mod, Cargo.lock, poetry.lock, requirements.txt, a dpkg status file, or the directory that holds them.`);
  let database: VulnerabilityDatabase;
  try {
    database = VulnerabilityDatabase.openForScan(dbPath);
  } catch (error) {
    throw new UsageError(`${dbPath} cannot be opened as a vulnerability database (${(error as Error).message}); re-create it with holdfast vulndb import.`);
  }
  let report: DependencyScanReport;
  try {
    const result = scanManifests(found.manifests, database, { clock: io.clock, maxAgeDays, unscoredAs });
    report = {
      root: statSync(root).isDirectory() && !image ? root : resolve(root, '..'),
      database: dbPath,
      failOn,
      manifests: found.manifests.map((manifest) => ({ path: manifest.path, kind: manifest.kind, packages: manifest.packages.length })),
      problems: found.problems,
      ...result,
      durationMs: performance.now() - started,
    };
  } finally {
    database.close();
  }
  if (values.sarif !== undefined) await writeFile(values.sarif, renderDependencySarif(report, packageVersion()));
  io.stdout(format === 'json' ? renderDependencyJson(report) : format === 'sarif' ? renderDependencySarif(report, packageVersion()) : renderDependencyTable(report));
  if (format !== 'table') for (const warning of report.warnings) io.stderr(`holdfast scan deps: warning: ${warning.message}\n`);
  if (blockingDependencyFindings(report).length > 0) return EXIT_PROBLEMS_FOUND;
  if (report.problems.length > 0) {
    io.stderr(`holdfast scan deps: ${report.problems.length} file(s) could not be read, so the result is incomplete: ${report.problems.map((problem) => `${problem.path} (${problem.message})`).join('; ')}\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** `holdfast scan deps …`, dispatched from scan-command.ts. */
export async function runScanDepsCommand(args: string[], io: ScanDepsIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), clock: systemClock }): Promise<number> {
  try {
    return await run(args, io);
  } catch (error) {
    const parseError = error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (error instanceof UsageError || parseError) {
      io.stderr(`holdfast scan deps: ${error.message}\n${SCAN_DEPS_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ImageUnreadable) {
      io.stderr(`holdfast scan deps: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    io.stderr(`holdfast scan deps: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock, type Clock } from '../infra/clock.js';
import { ZipFormatError } from '../infra/zip/zip-reader.js';
import { databaseAges, DEFAULT_MAX_AGE_DAYS } from '../guard/deps/dependency-scan.js';
import { importOsvExport, type ImportReport } from '../guard/deps/osv-import.js';
import { VulnerabilityDatabase } from '../guard/deps/vulnerability-database.js';
import { textTable } from '../guard/report/text-table.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { parseDays, vulnDbPath } from './vulndb-location.js';

const USAGE = `Usage:
  holdfast vulndb import FILE.zip|DIR... [--db FILE] [--json]
  holdfast vulndb status [--db FILE] [--max-age DAYS] [--json]

import reads OSV exports offline — the per-ecosystem all.zip OSV publishes, e.g.
https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip (also Debian/, Ubuntu/, Go/,
crates.io/, PyPI/), or a directory of OSV JSON files — into the local database. A record replaces a stored
one only when it is as new or newer; withdrawn records stop matching.
status shows each ecosystem's import time and the age of its newest record; exit 4 when one is
older than --max-age (default ${DEFAULT_MAX_AGE_DAYS} days).

The database is --db FILE, else $HOLDFAST_VULNDB, else $XDG_DATA_HOME/holdfast/vulndb.sqlite
(~/.local/share/holdfast/vulndb.sqlite; %LOCALAPPDATA%\\holdfast\\vulndb.sqlite on Windows).
Exit codes: 0 success, 1 failure, 2 usage error, 4 (status) stale advisories.
`;

export interface VulndbIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
  readonly env?: NodeJS.ProcessEnv;
}

const processIo: VulndbIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), clock: systemClock };

class UsageError extends Error {}

function describeImport(report: ImportReport): string {
  const rejected = report.rejected.length === 0 ? '' : `; ${report.rejected.length} rejected (first: ${report.rejected[0]!.name}: ${report.rejected[0]!.reason})`;
  return `${report.source}: read ${report.read} records, stored ${report.stored}, ${report.withdrawn} withdrawn, ${report.unchanged} already up to date${rejected} in ${(report.durationMs / 1000).toFixed(1)} s`;
}

async function runImport(args: string[], io: VulndbIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { db: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length === 0) throw new UsageError('vulndb import needs at least one OSV export: FILE.zip (e.g. npm/all.zip from OSV) or a directory of OSV JSON files.');
  for (const source of positionals) if (!existsSync(source)) throw new UsageError(`${resolve(source)} does not exist; download an OSV export (e.g. https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip) and pass its path.`);
  const path = vulnDbPath(values.db, io.env ?? process.env);
  const database = VulnerabilityDatabase.openForImport(path);
  const reports: ImportReport[] = [];
  try {
    for (const source of positionals) {
      try {
        reports.push(importOsvExport(database, resolve(source), new Date(io.clock.nowMs()).toISOString()));
      } catch (error) {
        if (error instanceof ZipFormatError) {
          io.stderr(`holdfast vulndb: ${error.message} Nothing from it was imported.\n`);
          return EXIT_FAILURE;
        }
        throw error;
      }
    }
  } finally {
    database.close();
  }
  if (values.json === true) io.stdout(`${JSON.stringify({ database: path, imports: reports }, null, 2)}\n`);
  else io.stdout(`${reports.map(describeImport).join('\n')}\ndatabase: ${path}\n`);
  return EXIT_OK;
}

async function runStatus(args: string[], io: VulndbIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { db: { type: 'string' }, json: { type: 'boolean' }, 'max-age': { type: 'string' } } });
  if (positionals.length > 0) throw new UsageError(`vulndb status takes no arguments, not "${positionals.join(' ')}".`);
  const maxAgeDays = parseDays(values['max-age'], '--max-age', DEFAULT_MAX_AGE_DAYS);
  if (typeof maxAgeDays === 'string') throw new UsageError(maxAgeDays);
  const path = vulnDbPath(values.db, io.env ?? process.env);
  if (!existsSync(path)) throw new UsageError(`no vulnerability database at ${path}; create it with holdfast vulndb import FILE.zip, or pass --db FILE.`);
  const database = VulnerabilityDatabase.openForScan(path);
  const status = database.status();
  database.close();
  const ages = databaseAges(status.ecosystems, io.clock, maxAgeDays);
  const ecosystems = status.ecosystems.map((row, index) => ({ ...row, ageDays: ages[index]!.ageDays, stale: ages[index]!.stale }));
  if (values.json === true) io.stdout(`${JSON.stringify({ database: path, records: status.records, withdrawn: status.withdrawn, maxAgeDays, ecosystems }, null, 2)}\n`);
  else {
    const rows = ecosystems.map((row) => [row.ecosystem, String(row.records), row.importedAt, row.newestModified, `${row.ageDays} d${row.stale ? ' (stale)' : ''}`, row.source]);
    io.stdout(`${path}: ${status.records} records (${status.withdrawn} withdrawn)\n${rows.length === 0 ? 'no ecosystem imported yet\n' : `${textTable([['ECOSYSTEM', 'RECORDS', 'IMPORTED', 'NEWEST RECORD', 'AGE', 'SOURCE'], ...rows])}\n`}`);
  }
  const stale = ecosystems.filter((row) => row.stale);
  if (stale.length === 0) return EXIT_OK;
  io.stderr(`holdfast vulndb: ${stale.map((row) => row.ecosystem).join(', ')} advisories are older than ${maxAgeDays} days; import fresh exports.\n`);
  return EXIT_PROBLEMS_FOUND;
}

/** `holdfast vulndb import|status`: the offline OSV database `scan deps` matches against. */
export async function runVulndbCommand(argv: string[], io: VulndbIo = processIo): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'import':
        return await runImport(rest, io);
      case 'status':
        return await runStatus(rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return verb === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown verb "${verb}"; the verbs are: import, status.`);
    }
  } catch (error) {
    const parseError = error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (error instanceof UsageError || parseError) {
      io.stderr(`holdfast vulndb: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    io.stderr(`holdfast vulndb: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}

import { writeFile } from 'node:fs/promises';
import { blockingBaselineFindings, renderBaselineJson, renderBaselineSarif, renderBaselineTable, type BaselineScanReport } from '../guard/baseline/baseline-report.js';
import { isSeverity, SEVERITIES, type Severity } from '../guard/severity.js';
import { systemClock, type Clock } from '../infra/clock.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS_FOUND, EXIT_USAGE } from './exit-codes.js';
import { packageVersion } from './package-version.js';

/**
 * What `scan image`, `scan dockerfile` and `scan manifests` share: output options (table, --json,
 * --format sarif, --sarif FILE), --fail-on and the exit codes, and usage errors that name the fix.
 */
export interface BaselineScanIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
}

export const processBaselineIo: BaselineScanIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text), clock: systemClock };

export class BaselineUsageError extends Error {}

export const OUTPUT_OPTIONS = {
  format: { type: 'string' },
  json: { type: 'boolean' },
  sarif: { type: 'string' },
  'fail-on': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const OUTPUT_USAGE = `  --format table|json|sarif, --json   output on stdout (table by default)
  --sarif FILE   also write SARIF 2.1.0 to FILE
  --fail-on ${SEVERITIES.join('|')}   the lowest severity that makes the exit code 4 (default high)`;

export interface OutputChoice {
  readonly format: 'table' | 'json' | 'sarif';
  readonly sarifFile?: string;
  readonly failOn: Severity;
}

export function outputChoice(values: { format?: string; json?: boolean; sarif?: string; 'fail-on'?: string }): OutputChoice {
  const format = values.json === true ? 'json' : (values.format ?? 'table');
  if (format !== 'table' && format !== 'json' && format !== 'sarif') throw new BaselineUsageError(`--format takes table, json or sarif, not "${format}".`);
  const failOn = values['fail-on'] ?? 'high';
  if (!isSeverity(failOn)) throw new BaselineUsageError(`--fail-on takes one of ${SEVERITIES.join(', ')}, not "${failOn}".`);
  return { format, failOn, ...(values.sarif === undefined ? {} : { sarifFile: values.sarif }) };
}

export function positiveInteger(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const match = /^(\d+)([KM]?)$/i.exec(value);
  if (match === null || Number(match[1]) === 0) throw new BaselineUsageError(`${flag} takes a positive number${flag === '--max-file-size' ? ' of bytes, with an optional K or M suffix (e.g. 256K)' : ''}, not "${value}".`);
  return Number(match[1]) * (match[2]?.toUpperCase() === 'M' ? 1024 * 1024 : match[2]?.toUpperCase() === 'K' ? 1024 : 1);
}

/**
 * Writes the report and returns the exit code: 4 when findings at or above --fail-on remain;
 * else 1 when `problemsAreFailures` and something could not be read (the result is incomplete).
 */
export async function emitBaselineReport(report: BaselineScanReport, output: OutputChoice, io: BaselineScanIo, problemsAreFailures: boolean): Promise<number> {
  if (output.sarifFile !== undefined) await writeFile(output.sarifFile, renderBaselineSarif(report, packageVersion()));
  io.stdout(output.format === 'json' ? renderBaselineJson(report) : output.format === 'sarif' ? renderBaselineSarif(report, packageVersion()) : renderBaselineTable(report));
  const command = `holdfast scan ${report.scanner}`;
  if (output.format !== 'table') for (const problem of report.problems) io.stderr(`${command}: not read: ${problem.path}: ${problem.message}\n`);
  if (blockingBaselineFindings(report).length > 0) return EXIT_PROBLEMS_FOUND;
  if (problemsAreFailures && report.problems.length > 0) {
    io.stderr(`${command}: ${report.problems.length} part(s) could not be read, so the result is incomplete.\n`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/** Runs a command body; usage errors print the message and the usage and give exit 2. */
export async function runBaselineCommand(name: string, usage: string, io: BaselineScanIo, body: () => Promise<number>, isReadError: (error: unknown) => boolean = () => false): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const parseError = error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    if (error instanceof BaselineUsageError || parseError) {
      io.stderr(`holdfast scan ${name}: ${error.message}\n${usage}`);
      return EXIT_USAGE;
    }
    if (isReadError(error)) {
      io.stderr(`holdfast scan ${name}: ${(error as Error).message}\n`);
      return EXIT_FAILURE;
    }
    io.stderr(`holdfast scan ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}

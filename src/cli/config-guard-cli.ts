import { readFileSync } from 'node:fs';
import { SourcesFileError } from '../guard/config/config-sources.js';
import type { ConfigCollection } from '../guard/config/config-item.js';
import { systemClock } from '../infra/clock.js';
import { S3ClientConfigError } from '../infra/s3-client/s3-client-environment.js';
import type { Flags } from './admin-api-command.js';
import { UsageError } from './admin-subcommands.js';
import { collectFromFlags, CONFIG_INPUT_OPTIONS, CONFIG_INPUTS_HELP, ConfigInputError, describeInputs, hasInputFlags, readConfigCollection, type ConfigInputValues } from './config-inputs.js';

/**
 * What `holdfast baseline|drift|changes|reviews` share besides the admin-API frame
 * (admin-api-command.ts): connection help, and JSON files and collections read and checked
 * before anything is sent.
 */

export const CONNECTION_HELP = `Connection options as for \`holdfast admin\` (--endpoint, --credentials, --profile, --ca-bundle).
Exit codes: 0 done, 1 failure, 2 usage, 3 refused by the server (e.g. approving your own
proposal), 4 a check found problems (unexplained drift, overdue reviews).`;

export function expectArgs(command: string, args: readonly string[], count: number, usage: string): string[] {
  if (args.length !== count) throw new UsageError(`Usage: holdfast ${command} ${usage}`);
  return [...args];
}

export function requireFlag(flags: Flags, name: string, what: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required: ${what}.`);
  return value;
}

/** Reads a JSON file the command sends; a missing or broken file is a usage error naming it. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read ${what} ${path}: ${(e as Error).message}.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON (${(e as Error).message}); ${what} is a JSON file.`);
  }
}

export function limitQuery(flags: Flags, fallback: string): { limit: string } {
  const limit = typeof flags['limit'] === 'string' ? flags['limit'] : fallback;
  if (!/^\d{1,4}$/.test(limit)) throw new UsageError(`--limit takes a whole number, not "${limit}".`);
  return { limit };
}

export { UsageError };

/** `--items FILE` or the input flags of `holdfast config collect`, for `baseline capture` and `drift check`. */
export const COLLECTION_OPTIONS = { ...CONFIG_INPUT_OPTIONS, items: { type: 'string' } } as const;

export const COLLECTION_HELP = `The configuration items come from --items FILE (written by \`holdfast config collect --out FILE\`)
or are collected here, from the same inputs as \`holdfast config collect\` (input formats:
src/guard/config/README.md); either way only the collection is sent to the server. Vault inputs
read with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), independently of --credentials.

${CONFIG_INPUTS_HELP}`;

/**
 * The collection a command sends: read from --items, or collected in this process from the input
 * flags. Which inputs were read goes to stderr (stdout stays the server's answer, JSON or text).
 */
export async function collectionFromFlags(command: string, flags: Flags): Promise<ConfigCollection> {
  const values = flags as ConfigInputValues & { items?: string };
  try {
    let collection: ConfigCollection;
    if (values.items !== undefined) {
      if (hasInputFlags(values, process.env) || (values.sources ?? []).length > 0) throw new ConfigInputError('--items sends a written collection; do not give inputs (--sources, --terraform, ...) with it.');
      collection = readConfigCollection(values.items);
    } else {
      collection = (await collectFromFlags(values, { stderr: (text) => process.stderr.write(text), clock: systemClock, env: process.env, interactive: process.stderr.isTTY === true }, command)).collection;
    }
    process.stderr.write(`holdfast ${command}: ${describeInputs(collection)}`);
    return collection;
  } catch (error) {
    // The input flags' problems are usage errors here as in `holdfast config` (exit 2, with the fix).
    if (error instanceof ConfigInputError || error instanceof SourcesFileError || error instanceof S3ClientConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** One line per attribute change, `PATH: BEFORE -> AFTER`, as drift checks and change requests show them. */
export function attributeChangeLines(changes: readonly { path: string; before?: unknown; after?: unknown }[], indent: string): string[] {
  return changes.map((c) => `${indent}${c.path}: ${c.before === undefined ? '(absent)' : JSON.stringify(c.before)} -> ${c.after === undefined ? '(absent)' : JSON.stringify(c.after)}`);
}

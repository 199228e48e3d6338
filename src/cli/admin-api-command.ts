import { parseArgs } from 'node:util';
import { type AdminClient, AdminRequestError } from './admin-client.js';
import { CONNECTION_OPTIONS, connect } from './admin-connection.js';
import { UsageError } from './usage-error.js';
import { EXIT_FAILURE, EXIT_REFUSED, EXIT_USAGE } from './exit-codes.js';

/**
 * The frame of a CLI command that talks to a running server over the admin API: its connection
 * options, `--help`, `--json`, one way to print (JSON or text) and one way to fail (exit codes,
 * messages naming the fix). The command supplies its options and what each action does.
 */

export type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface CommandContext {
  readonly action: string | undefined;
  readonly args: readonly string[];
  readonly flags: Flags;
  readonly json: boolean;
  readonly client: () => AdminClient;
  readonly print: (result: unknown, text: string) => void;
}

export async function runAdminApiCommand(
  command: string,
  usage: string,
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>,
  run: (context: CommandContext) => Promise<number>,
): Promise<number> {
  let json = false;
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { ...CONNECTION_OPTIONS, ...options, help: { type: 'boolean', short: 'h' } } });
    if (values.help === true) {
      process.stdout.write(usage);
      return 0;
    }
    json = values.json === true;
    const [action, ...rest] = positionals;
    const flags = values as Flags;
    return await run({
      action,
      args: rest,
      flags,
      json,
      client: () => connect(values),
      print: (result, text) => process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${text}\n`),
    });
  } catch (error) {
    return reportFailure(command, error, json, usage);
  }
}

/** A string option's value; undefined when it was not given. */
export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** Maps a failure to its exit code and message: 2 usage, 3 refused by the server, 1 anything else. */
function reportFailure(command: string, error: unknown, json: boolean, usage: string): number {
  if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`holdfast ${command}: ${error.message}\n${usage}`);
    return EXIT_USAGE;
  }
  if (error instanceof AdminRequestError) {
    if (json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, status: error.status } }, null, 2)}\n`);
    process.stderr.write(`holdfast ${command}: ${error.code}: ${error.message}\n`);
    return error.status >= 500 ? EXIT_FAILURE : EXIT_REFUSED;
  }
  process.stderr.write(`holdfast ${command}: ${(error as Error).message}\n`);
  return EXIT_FAILURE;
}

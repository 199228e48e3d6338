import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT } from '../config/server-config.js';
import { Secret } from '../domain/secret.js';
import { type AdminCredentials, AdminClient, AdminRequestError } from './admin-client.js';
import { SUBCOMMANDS, UsageError } from './admin-subcommands.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from './exit-codes.js';

const USAGE = `Usage: holdfast admin AREA ACTION [ARGS] [--json] [connection options]

  buckets list | show BUCKET | protect BUCKET | unprotect BUCKET
          set-retention-bounds BUCKET [--min-days N] [--max-days N] [--clear]
  users   list | show USER | delete USER | disable USER | enable USER
          create USER [--service] [--role ROLE]... [--duty-override-reason TEXT]
          attach-role USER ROLE | detach-role USER ROLE
          put-policy USER NAME FILE.json | delete-policy USER NAME
          set-duty-override USER --reason TEXT | clear-duty-override USER
  policies list USER | put USER NAME FILE.json | delete USER NAME
          simulate USER ACTION RESOURCE [--context KEY=VALUE]...   (exit 0 allowed, 3 denied)
  keys    list [--user USER] | create USER [--expires ISO-TIME] [--description TEXT]
          disable KEY | enable KEY | expire KEY (--at ISO-TIME | --never)
          rotate KEY [--grace-hours N] | delete KEY
  roles   list
  approvals list | approve CHANGE-ID | cancel CHANGE-ID
  alerts  status | test
  scrub   run [--fraction F] | status     (run waits; exit 0 clean, 4 damaged versions found)

Built-in roles: backup-writer, restore-reader, pruner, auditor, admin (\`holdfast admin roles list\`).
Loosening a bucket's protection answers ApprovalRequired with a change id; a second admin runs
\`holdfast admin approvals approve CHANGE-ID\`.

Connection: --endpoint URL (or HOLDFAST_ENDPOINT; default http://${DEFAULT_HOST}:${DEFAULT_PORT}),
credentials from --credentials FILE [--profile NAME] (AWS shared-credentials format, e.g. the
server's DATA/root-credentials) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; --ca-bundle FILE
to trust a self-signed HTTPS certificate (or AWS_CA_BUNDLE).
Exit codes: 0 done, 1 failure (server unreachable or broken), 2 usage, 3 refused by the server,
4 a check found problems (scrub run: damaged versions).
`;

/** Reads one profile of an AWS shared-credentials file (INI). */
function credentialsFromFile(path: string, profile: string | undefined): AdminCredentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`Cannot read credentials file ${path}: ${(e as Error).message}.`);
  }
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header !== null) {
      current = new Map();
      sections.set(header[1]!.trim(), current);
      continue;
    }
    const pair = /^\s*([A-Za-z_]+)\s*=\s*(\S+)\s*$/.exec(line);
    if (pair !== null && current !== undefined) current.set(pair[1]!, pair[2]!);
  }
  const name = profile ?? (sections.has('holdfast-root') ? 'holdfast-root' : [...sections.keys()][0]);
  const section = name === undefined ? undefined : sections.get(name);
  const id = section?.get('aws_access_key_id');
  const secret = section?.get('aws_secret_access_key');
  if (id === undefined || secret === undefined) {
    throw new UsageError(`${path} has no profile ${name ?? ''} with aws_access_key_id and aws_secret_access_key.`);
  }
  return { accessKeyId: id, secretAccessKey: new Secret(secret) };
}

function credentialsFrom(file: string | undefined, profile: string | undefined): AdminCredentials {
  if (file !== undefined) return credentialsFromFile(file, profile);
  const id = process.env['AWS_ACCESS_KEY_ID'];
  const secret = process.env['AWS_SECRET_ACCESS_KEY'];
  if (id === undefined || secret === undefined) {
    throw new UsageError('No credentials: pass --credentials DATA/root-credentials, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.');
  }
  return { accessKeyId: id, secretAccessKey: new Secret(secret) };
}

/** Connection options every command that talks to a server accepts. */
export const CONNECTION_OPTIONS = {
  endpoint: { type: 'string' },
  credentials: { type: 'string' },
  profile: { type: 'string' },
  region: { type: 'string' },
  'ca-bundle': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** An admin client from --endpoint/--credentials/--profile/--region/--ca-bundle (or the environment). */
export function connect(values: { endpoint?: string; credentials?: string; profile?: string; region?: string; 'ca-bundle'?: string }): AdminClient {
  const endpointText = values.endpoint ?? process.env['HOLDFAST_ENDPOINT'] ?? `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw new UsageError(`--endpoint ${endpointText} is not a URL; use e.g. http://127.0.0.1:${DEFAULT_PORT}.`);
  }
  const caFile = values['ca-bundle'] ?? (endpoint.protocol === 'https:' ? process.env['AWS_CA_BUNDLE'] : undefined);
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (e) {
      throw new UsageError(`Cannot read the CA bundle ${caFile}: ${(e as Error).message}.`);
    }
  }
  return new AdminClient(endpoint, credentialsFrom(values.credentials, values.profile), values.region ?? 'us-east-1', ca);
}

/** Maps a failure to its exit code and message; shared by the commands that talk to a server. */
export function reportFailure(command: string, error: unknown, json: boolean, usage: string): number {
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

/** `holdfast admin …`: talks to a running server over the signed admin API. */
export async function runAdminCommand(args: string[]): Promise<number> {
  let json = false;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        ...CONNECTION_OPTIONS,
        'min-days': { type: 'string' },
        'max-days': { type: 'string' },
        clear: { type: 'boolean' },
        service: { type: 'boolean' },
        role: { type: 'string', multiple: true },
        'duty-override-reason': { type: 'string' },
        reason: { type: 'string' },
        user: { type: 'string' },
        expires: { type: 'string' },
        description: { type: 'string' },
        at: { type: 'string' },
        never: { type: 'boolean' },
        'grace-hours': { type: 'string' },
        context: { type: 'string', multiple: true },
        fraction: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(USAGE);
      return EXIT_OK;
    }
    json = values.json === true;
    const [area, action, ...rest] = positionals;
    const subcommand = SUBCOMMANDS[`${area ?? ''} ${action ?? ''}`];
    if (subcommand === undefined) throw new UsageError(area === undefined ? 'Name an area and an action.' : `Unknown admin command "${[area, action].filter(Boolean).join(' ')}".`);
    const output = await subcommand({ client: connect(values), args: rest, flags: values });
    process.stdout.write(json ? `${JSON.stringify(output.result, null, 2)}\n` : `${output.text}\n`);
    return output.exitCode ?? EXIT_OK;
  } catch (error) {
    return reportFailure('admin', error, json, USAGE);
  }
}

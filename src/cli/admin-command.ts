import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_HOST, DEFAULT_PORT } from '../config/server-config.js';
import { Secret } from '../domain/secret.js';
import { type AdminCredentials, AdminClient, AdminRequestError } from './admin-client.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from './exit-codes.js';

const USAGE = `Usage:
  holdfast admin buckets list [--json]
  holdfast admin buckets show BUCKET [--json]
  holdfast admin buckets set-retention-bounds BUCKET [--min-days N] [--max-days N] [--clear] [--json]

Connection: --endpoint URL (or HOLDFAST_ENDPOINT; default http://${DEFAULT_HOST}:${DEFAULT_PORT}),
credentials from --credentials FILE [--profile NAME] (AWS shared-credentials format, e.g. the
server's DATA/root-credentials) or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
Exit codes: 0 done, 1 failure (server unreachable or broken), 2 usage, 3 refused by the server.
`;

class UsageError extends Error {}

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

function days(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,5}$/.test(value)) throw new UsageError(`${flag} takes a whole number of days, not "${value}".`);
  return Number(value);
}

interface BucketView {
  name: string;
  versioning: string;
  objectLock: { enabled: boolean; defaultRetention: { mode: string; days?: number; years?: number } | null };
  retentionBounds: { minDays?: number; maxDays?: number } | null;
}

function describe(bucket: BucketView): string {
  const rule = bucket.objectLock.defaultRetention;
  const lock = bucket.objectLock.enabled
    ? `object lock on${rule === null ? '' : `, default ${rule.mode} ${rule.days !== undefined ? `${rule.days} days` : `${rule.years} years`}`}`
    : 'object lock off';
  const bounds = bucket.retentionBounds;
  const boundsText = bounds === null ? 'no retention bounds' : `retention ${bounds.minDays ?? 0}–${bounds.maxDays ?? '∞'} days`;
  return `${bucket.name}\tversioning ${bucket.versioning}\t${lock}\t${boundsText}`;
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
        endpoint: { type: 'string' },
        credentials: { type: 'string' },
        profile: { type: 'string' },
        region: { type: 'string' },
        json: { type: 'boolean' },
        'min-days': { type: 'string' },
        'max-days': { type: 'string' },
        clear: { type: 'boolean' },
      },
    });
    json = values.json === true;
    const [area, action, bucket, ...extra] = positionals;
    if (area !== 'buckets' || action === undefined || extra.length > 0) throw new UsageError('Unknown admin command.');
    const endpointText = values.endpoint ?? process.env['HOLDFAST_ENDPOINT'] ?? `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;
    let endpoint: URL;
    try {
      endpoint = new URL(endpointText);
    } catch {
      throw new UsageError(`--endpoint ${endpointText} is not a URL; use e.g. http://127.0.0.1:${DEFAULT_PORT}.`);
    }
    const client = new AdminClient(endpoint, credentialsFrom(values.credentials, values.profile), values.region ?? 'us-east-1');

    let result: unknown;
    if (action === 'list' && bucket === undefined) {
      result = await client.call('GET', 'buckets');
      if (!json) for (const b of (result as { buckets: BucketView[] }).buckets) process.stdout.write(`${describe(b)}\n`);
    } else if (action === 'show' && bucket !== undefined) {
      result = await client.call('GET', `buckets/${encodeURIComponent(bucket)}`);
      if (!json) process.stdout.write(`${describe(result as BucketView)}\n`);
    } else if (action === 'set-retention-bounds' && bucket !== undefined) {
      const minDays = days(values['min-days'], '--min-days');
      const maxDays = days(values['max-days'], '--max-days');
      if (values.clear === true && (minDays !== undefined || maxDays !== undefined)) throw new UsageError('--clear cannot be combined with --min-days/--max-days.');
      if (values.clear !== true && minDays === undefined && maxDays === undefined) throw new UsageError('Give --min-days and/or --max-days, or --clear.');
      const body = values.clear === true ? null : { ...(minDays === undefined ? {} : { minDays }), ...(maxDays === undefined ? {} : { maxDays }) };
      result = await client.call('PUT', `buckets/${encodeURIComponent(bucket)}/retention-bounds`, body);
      if (!json) process.stdout.write(`${describe(result as BucketView)}\n`);
    } else {
      throw new UsageError('Unknown admin command.');
    }
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`holdfast admin: ${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof AdminRequestError) {
      if (json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, status: error.status } }, null, 2)}\n`);
      process.stderr.write(`holdfast admin: ${error.code}: ${error.message}\n`);
      return error.status >= 500 ? EXIT_FAILURE : EXIT_REFUSED;
    }
    process.stderr.write(`holdfast admin: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

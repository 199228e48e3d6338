import { readFileSync } from 'node:fs';
import { DEFAULT_HOST, DEFAULT_PORT } from '../config/server-config.js';
import { Secret } from '../domain/secret.js';
import { type AdminCredentials, AdminClient } from './admin-client.js';
import { UsageError } from './usage-error.js';

/**
 * Where a CLI command that talks to a running server finds it and with which key: --endpoint
 * (or HOLDFAST_ENDPOINT), --credentials FILE [--profile NAME] (or AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY), --region, --ca-bundle (or AWS_CA_BUNDLE for https).
 */

/** Connection options every command that talks to a server accepts. */
export const CONNECTION_OPTIONS = {
  endpoint: { type: 'string' },
  credentials: { type: 'string' },
  profile: { type: 'string' },
  region: { type: 'string' },
  'ca-bundle': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export interface ConnectionValues {
  readonly endpoint?: string;
  readonly credentials?: string;
  readonly profile?: string;
  readonly region?: string;
  readonly 'ca-bundle'?: string;
}

/** An admin client from --endpoint/--credentials/--profile/--region/--ca-bundle (or the environment). */
export function connect(values: ConnectionValues): AdminClient {
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

function credentialsFrom(file: string | undefined, profile: string | undefined): AdminCredentials {
  if (file !== undefined) return credentialsFromFile(file, profile);
  const id = process.env['AWS_ACCESS_KEY_ID'];
  const secret = process.env['AWS_SECRET_ACCESS_KEY'];
  if (id === undefined || secret === undefined) {
    throw new UsageError('No credentials: pass --credentials DATA/root-credentials, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.');
  }
  return { accessKeyId: id, secretAccessKey: new Secret(secret) };
}

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

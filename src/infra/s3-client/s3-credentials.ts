import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Secret } from '../../domain/secret.js';

/** An S3 access key. The secret and the session token never print (see `Secret`). */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: Secret;
  /** Temporary credentials (STS) carry a token, sent as `x-amz-security-token`. */
  readonly sessionToken?: Secret;
  /** Where they came from, for messages: `environment` or `profile NAME in FILE`. */
  readonly source: string;
}

/** No usable credentials; the message names what was looked at and how to fix it. */
export class S3CredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'S3CredentialsError';
  }
}

/** How a file is read; injected so tests need no real home directory. */
export type ReadTextFile = (path: string) => string;

const readUtf8: ReadTextFile = (path) => readFileSync(path, 'utf8');

/**
 * Credentials the way every AWS tool finds them (AWS SDKs and Tools Reference Guide,
 * "Standardized credential providers"), limited to the two sources a backup host uses:
 *
 * 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), unless `AWS_PROFILE`
 *    names a profile: as in the AWS SDK for JavaScript v3, an explicit profile wins over the
 *    key variables, so a stale exported key cannot silently override it.
 * 2. The profile `AWS_PROFILE` (default `default`) of the shared credentials file
 *    `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`).
 */
export function resolveS3Credentials(env: NodeJS.ProcessEnv, readFile: ReadTextFile = readUtf8): S3Credentials {
  const profile = nonEmpty(env['AWS_PROFILE']);
  const id = nonEmpty(env['AWS_ACCESS_KEY_ID']);
  const secret = nonEmpty(env['AWS_SECRET_ACCESS_KEY']);
  if (profile === undefined && (id !== undefined || secret !== undefined)) {
    if (id === undefined) throw new S3CredentialsError('AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither and use a profile.');
    if (secret === undefined) throw new S3CredentialsError('AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither and use a profile.');
    const token = nonEmpty(env['AWS_SESSION_TOKEN']);
    return Object.freeze({
      accessKeyId: id,
      secretAccessKey: new Secret(secret),
      ...(token === undefined ? {} : { sessionToken: new Secret(token) }),
      source: 'environment',
    });
  }
  const file = nonEmpty(env['AWS_SHARED_CREDENTIALS_FILE']) ?? join(nonEmpty(env['HOME']) ?? homedir(), '.aws', 'credentials');
  const name = profile ?? 'default';
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new S3CredentialsError(
      `No S3 credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set and the shared credentials file ${file} ${reason}. ` +
        'Export the backup-writer key as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or point AWS_SHARED_CREDENTIALS_FILE and AWS_PROFILE at a file that holds it.',
    );
  }
  const section = parseIni(text).get(name);
  const fileId = nonEmpty(section?.get('aws_access_key_id'));
  const fileSecret = nonEmpty(section?.get('aws_secret_access_key'));
  if (fileId === undefined || fileSecret === undefined) {
    throw new S3CredentialsError(
      `No S3 credentials: the shared credentials file ${file} has no profile [${name}] with aws_access_key_id and aws_secret_access_key. ` +
        'Add them, or set AWS_PROFILE to a profile that has them.',
    );
  }
  const token = nonEmpty(section?.get('aws_session_token'));
  return Object.freeze({
    accessKeyId: fileId,
    secretAccessKey: new Secret(fileSecret),
    ...(token === undefined ? {} : { sessionToken: new Secret(token) }),
    source: `profile ${name} in ${file}`,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The INI dialect of the shared credentials file: `[name]` sections, `key = value` lines,
 * `#` and `;` comment lines. Keys are case-insensitive, as in botocore's parser.
 */
function parseIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const header = /^\[\s*([^\]]+?)\s*\]$/.exec(trimmed);
    if (header !== null) {
      current = sections.get(header[1]!) ?? new Map<string, string>();
      sections.set(header[1]!, current);
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (eq > 0 && current !== undefined) current.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  return sections;
}

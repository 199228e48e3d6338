import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../config/server-config.js';
import type { IdentityRegistry } from '../domain/identity/identity-registry.js';
import { type AccessKeyPair, generateAccessKeyPair, weakCredentialProblem } from '../domain/root-credentials.js';
import { Secret } from '../domain/secret.js';

export const ROOT_CREDENTIALS_FILE = 'root-credentials';

export type RootCredentialsOutcome =
  | { readonly kind: 'from-environment'; readonly accessKeyId: string }
  | { readonly kind: 'existing'; readonly accessKeyId: string }
  | { readonly kind: 'generated'; readonly accessKeyId: string; readonly file: string };

/**
 * Establishes the root key at start-up. From HOLDFAST_ROOT_ACCESS_KEY_ID/_SECRET_ACCESS_KEY
 * when set (weak values refused); else the one stored before; else a new random pair written
 * once to DATA/root-credentials (mode 0600, in AWS shared-credentials format so any S3 tool can
 * read it with a profile). The secret itself is never printed.
 */
export async function bootstrapRootCredentials(
  registry: IdentityRegistry,
  env: Readonly<Record<string, string | undefined>>,
  dataDir: string,
  nowMs: number,
): Promise<RootCredentialsOutcome> {
  const id = env['HOLDFAST_ROOT_ACCESS_KEY_ID'];
  const secret = env['HOLDFAST_ROOT_SECRET_ACCESS_KEY'];
  if ((id === undefined) !== (secret === undefined)) {
    throw new ConfigError(
      'Only one of HOLDFAST_ROOT_ACCESS_KEY_ID and HOLDFAST_ROOT_SECRET_ACCESS_KEY is set. Fix: set both, or neither to use the stored or generated root key.',
    );
  }
  if (id !== undefined && secret !== undefined) {
    const problem = weakCredentialProblem(id, secret);
    if (problem !== undefined) {
      throw new ConfigError(
        `Refusing the root credentials from HOLDFAST_ROOT_ACCESS_KEY_ID/HOLDFAST_ROOT_SECRET_ACCESS_KEY: ${problem}. Fix: generate random ones, e.g. \`openssl rand -base64 30\` for the secret.`,
      );
    }
    const pair: AccessKeyPair = { accessKeyId: id, secretAccessKey: new Secret(secret) };
    if (registry.rootAccessKeyId() !== id || registry.secretFor(id) !== secret) await registry.setRoot(pair);
    return { kind: 'from-environment', accessKeyId: id };
  }
  const existing = registry.rootAccessKeyId();
  if (existing !== undefined) return { kind: 'existing', accessKeyId: existing };

  const pair = generateAccessKeyPair();
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  // 'wx': never overwrite a credentials file a previous start wrote.
  const handle = await open(file, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') {
      throw new ConfigError(`${file} exists but the vault has no root key stored. Fix: move the file away (it belongs to another vault) and start again.`);
    }
    throw e;
  });
  try {
    await handle.writeFile(
      [
        `# Holdfast root credentials, generated ${new Date(nowMs).toISOString()}.`,
        '# Use them to create scoped keys, then store them offline and delete this file.',
        `# aws-cli: AWS_SHARED_CREDENTIALS_FILE=${file} AWS_PROFILE=holdfast-root`,
        '[holdfast-root]',
        `aws_access_key_id = ${pair.accessKeyId}`,
        `aws_secret_access_key = ${pair.secretAccessKey.reveal()}`,
        '',
      ].join('\n'),
    );
    await handle.sync();
  } finally {
    await handle.close();
  }
  // Another cluster node may have stored a root key since this one loaded the directory: then
  // that key stays and the file just written, naming a key never stored, is removed.
  const inEffect = await registry.setRootIfNone(pair);
  if (inEffect !== pair.accessKeyId) {
    await rm(file, { force: true });
    return { kind: 'existing', accessKeyId: inEffect };
  }
  return { kind: 'generated', accessKeyId: pair.accessKeyId, file };
}

import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { repoRoot } from './repo-root.js';
import { type RunResult, runCommand } from './tools.js';
import { REGION, type RunningVault } from './vault-server.js';

export const holdfastCli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export interface KeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function rootKey(vault: RunningVault): KeyPair {
  return { accessKeyId: vault.accessKeyId, secretAccessKey: vault.secretAccessKey };
}

/** Runs `holdfast ARGS --endpoint …` as the holder of `key`, as an operator would from a shell. */
export function holdfast(vault: RunningVault, key: KeyPair, args: readonly string[], expectExitCode: number | 'any' = 0): Promise<RunResult> {
  const env: Record<string, string | undefined> = { ...process.env, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey };
  delete env['HOLDFAST_ENDPOINT'];
  return runCommand(process.execPath, [holdfastCli, ...args, '--endpoint', vault.endpoint], { env, expectExitCode, timeoutMs: 30_000 });
}

/** `holdfast admin … --json`, parsed. */
export async function adminJson<T>(vault: RunningVault, key: KeyPair, args: readonly string[]): Promise<T> {
  return JSON.parse((await holdfast(vault, key, ['admin', ...args, '--json'])).stdout) as T;
}

/** Creates an identity with roles and one access key through the CLI; returns the key. */
export async function createIdentityWithKey(vault: RunningVault, admin: KeyPair, name: string, roles: readonly string[], extra: readonly string[] = []): Promise<KeyPair> {
  await adminJson(vault, admin, ['users', 'create', name, ...roles.flatMap((r) => ['--role', r]), ...extra]);
  return adminJson<KeyPair>(vault, admin, ['keys', 'create', name]);
}

/** An SDK client signing with `key` (path-style, no retries). */
export function clientFor(vault: RunningVault, key: KeyPair): S3Client {
  return new S3Client({ endpoint: vault.endpoint, region: REGION, forcePathStyle: true, credentials: key, maxAttempts: 1 });
}

import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { repoRoot } from './repo-root.js';
import { isolatedClientEnv, requireTool, runCommand } from './tools.js';
import { REGION, type RunningVault } from './vault-server.js';

/** Debian's interpreter, which has python3-boto3 (the pyenv one first on PATH may not). */
export const PYTHON = '/usr/bin/python3';

/** False (and the test skipped, or failed under CI) when boto3 is not installed. */
export function requireBoto3(t: TestContext): Promise<boolean> {
  return requireTool(t, PYTHON, ['-c', 'import boto3'], 'python3-boto3');
}

/**
 * Runs one of test/interop's boto3 scripts against a server: the spec goes in as JSON on stdin,
 * the script's observations come back as JSON on stdout. Credentials travel in the environment
 * only, and no AWS config or credentials file of the machine can leak in.
 */
export async function runBoto3Script<T>(script: string, vault: RunningVault, work: string, spec: unknown, timeoutMs: number): Promise<T> {
  const run = await runCommand(PYTHON, [join(repoRoot, 'test', 'interop', script)], {
    env: isolatedClientEnv(join(work, 'home'), {
      AWS_ACCESS_KEY_ID: vault.accessKeyId,
      AWS_SECRET_ACCESS_KEY: vault.secretAccessKey,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: join(work, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    }),
    input: JSON.stringify(spec),
    timeoutMs,
  });
  return JSON.parse(run.stdout) as T;
}

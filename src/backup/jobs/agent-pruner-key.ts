import { Secret } from '../../domain/secret.js';
import type { S3Credentials } from '../../infra/s3-client/s3-credentials.js';
import type { BackupJob } from './job-config.js';

export const PRUNER_KEY_ID_VARIABLE = 'HOLDFAST_PRUNER_ACCESS_KEY_ID';
export const PRUNER_SECRET_VARIABLE = 'HOLDFAST_PRUNER_SECRET_ACCESS_KEY';

/** The pruner key variables are set in a form that cannot work; the message says how to fix it. */
export class AgentPrunerKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentPrunerKeyError';
  }
}

/**
 * The optional second key of `holdfast agent`: a service identity with the pruner role, used
 * only to apply each job's `retention` after a successful run. It comes from its own variables,
 * never from the config file, and must not be the writer's key: the point of keeping the two
 * apart is that whoever writes backups cannot destroy them (separation of duties), so a pruner
 * key in the agent's hands only lists, reads locks and deletes what Object Lock lets go.
 */
export function prunerCredentialsFromEnvironment(env: Readonly<Record<string, string | undefined>>, writerAccessKeyId: string): S3Credentials | undefined {
  const id = nonEmpty(env[PRUNER_KEY_ID_VARIABLE]);
  const secret = nonEmpty(env[PRUNER_SECRET_VARIABLE]);
  if (id === undefined && secret === undefined) return undefined;
  if (id === undefined) throw new AgentPrunerKeyError(`${PRUNER_SECRET_VARIABLE} is set but ${PRUNER_KEY_ID_VARIABLE} is not: set both (a key of a service identity with the pruner role), or neither.`);
  if (secret === undefined) throw new AgentPrunerKeyError(`${PRUNER_KEY_ID_VARIABLE} is set but ${PRUNER_SECRET_VARIABLE} is not: set both (a key of a service identity with the pruner role), or neither.`);
  if (id === writerAccessKeyId) {
    throw new AgentPrunerKeyError(`${PRUNER_KEY_ID_VARIABLE} is the writer's key ${writerAccessKeyId}: the pruner key must belong to another service identity, one with the pruner role (\`holdfast admin users create NAME --service --role pruner\`, then \`holdfast admin keys create NAME\`).`);
  }
  return Object.freeze({ accessKeyId: id, secretAccessKey: new Secret(secret), source: PRUNER_KEY_ID_VARIABLE });
}

/** Jobs with a `retention` that nothing will apply when the agent has no pruner key. */
export function jobsLeftUnpruned(jobs: readonly BackupJob[]): readonly BackupJob[] {
  return jobs.filter((job) => job.retention.keepCount !== undefined || job.retention.keepDays !== undefined);
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

import { readFileSync } from 'node:fs';
import { type BackupJob, JobConfigError, parseBackupJobs } from './job-config.js';

/**
 * The configuration file of `holdfast agent`: where the vault is and which jobs to run. It holds
 * no credentials — the agent signs with the backup-writer key from the standard AWS variables —
 * and only the keys below (an unknown key is a typo, and stops the agent).
 *
 *   { "endpoint": "https://vault.internal:9470", "jobs": [ … as in the server's config … ] }
 */
export interface AgentConfig {
  readonly endpoint: string;
  readonly jobs: readonly BackupJob[];
}

const FIELDS = ['endpoint', 'jobs'];

export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentConfigError';
  }
}

export function loadAgentConfig(
  file: string,
  context: { readonly env: Readonly<Record<string, string | undefined>>; readonly nowMs: number; readonly toolInstalled?: (tool: string) => boolean },
): AgentConfig {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AgentConfigError(`Cannot read the agent config ${file}: ${(error as Error).message}. Fix: pass a JSON file {"endpoint": …, "jobs": […]} to --config.`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new AgentConfigError(`${file} must hold a JSON object {"endpoint": …, "jobs": […]}.`);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FIELDS.includes(key)) throw new AgentConfigError(`${file}: unknown setting "${key}". Known settings: ${FIELDS.join(', ')} (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, never the file).`);
  }
  const endpoint = o['endpoint'];
  if (typeof endpoint !== 'string' || !/^https?:\/\/[^\s]+$/.test(endpoint)) throw new AgentConfigError(`${file}: endpoint ${JSON.stringify(endpoint)} is not an http(s) URL. Fix: give the vault's S3 endpoint, e.g. "https://vault.internal:9470".`);
  let jobs: readonly BackupJob[];
  try {
    // The agent has no alert channels of its own: alerts are log lines (stderr) for its supervisor.
    jobs = parseBackupJobs(o['jobs'], { alertChannels: ['log'], ...context });
  } catch (error) {
    if (error instanceof JobConfigError) throw new AgentConfigError(`${file}: ${error.message}`);
    throw error;
  }
  if (jobs.length === 0) throw new AgentConfigError(`${file}: no jobs. Fix: give at least one job in "jobs".`);
  return Object.freeze({ endpoint, jobs });
}

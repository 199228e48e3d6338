import { readFileSync, statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { Clock } from '../../infra/clock.js';
import { S3Client } from '../../infra/s3-client/s3-client.js';
import { s3ClientOptionsFromEnvironment } from '../../infra/s3-client/s3-client-environment.js';
import type { BaselineProblem } from '../baseline/baseline-report.js';
import { configItemKey, type ConfigCollection, type ConfigItem } from './config-item.js';
import { sha256Hex } from './attribute-values.js';
import type { ConfigSources, VaultSource } from './config-sources.js';
import { dockerfileItems, imageItems, manifestItems } from './collectors/container-collector.js';
import { environmentItems, parseEnvironmentFile } from './collectors/env-collector.js';
import { postgresItems } from './collectors/postgres-collector.js';
import { collectTerraform } from './collectors/terraform-collector.js';
import { s3VaultBucketReader, vaultBucketItems, type VaultBucketReader } from './collectors/vault-bucket-collector.js';
import { zoneItems } from './collectors/zone-collector.js';

export interface CollectOptions {
  readonly clock: Clock;
  /** File sources are named relative to this directory (default: the working directory). */
  readonly root?: string;
  /** How to read a vault's buckets; by default over S3 with the AWS_* environment's credentials. */
  readonly vaultReader?: (vault: VaultSource) => VaultBucketReader;
  readonly env?: NodeJS.ProcessEnv;
  /** Called before each input is read, for a progress line. */
  readonly onInput?: (index: number, total: number, kind: string, location: string) => void;
}

/** One or more inputs could not be read; a partial collection would show as drift, so none is returned. */
export class ConfigCollectError extends Error {
  override readonly name = 'ConfigCollectError';
  constructor(readonly problems: readonly BaselineProblem[]) {
    super(`${problems.length} input(s) could not be read:\n${problems.map((problem) => `  ${problem.path}: ${problem.message}`).join('\n')}`);
  }
}

type Input = { kind: string; location: string; sha256?: string };

function fileSha256(path: string): string | undefined {
  return statSync(path).isFile() ? sha256Hex(readFileSync(path)) : undefined;
}

/**
 * Reads every source and returns the normalized items, sorted by component and resource id, with
 * the inputs they came from (files with their SHA-256) — the document part B's baselines and
 * drift store and compare. Every input is attempted; if any fails, ConfigCollectError lists them all.
 */
export async function collectConfigItems(sources: ConfigSources, options: CollectOptions): Promise<ConfigCollection> {
  const root = resolve(options.root ?? '.');
  const env = options.env ?? process.env;
  const name = (path: string) => relative(root, resolve(path)).split(sep).join('/') || '.';
  const items: ConfigItem[] = [];
  const inputs: Input[] = [];
  const problems: BaselineProblem[] = [];
  const steps: Array<{ kind: string; location: string; file?: string; read: () => Promise<ConfigItem[]> }> = [
    ...sources.terraform.map((source) => ({ kind: 'terraform', location: name(source.path), file: source.path, read: async () => [...collectTerraform(readFileSync(source.path, 'utf8'), name(source.path), source.stack).items] })),
    ...sources.zones.map((source) => ({ kind: 'dns-zone', location: name(source.path), file: source.path, read: async () => zoneItems(readFileSync(source.path, 'utf8'), name(source.path), source.origin).items })),
    ...sources.env.map((source) => ({ kind: 'environment', location: name(source.path), file: source.path, read: async () => environmentItems(parseEnvironmentFile(readFileSync(source.path, 'utf8')), source.name ?? name(source.path), name(source.path)) })),
    ...sources.images.map((source) => ({ kind: 'image', location: name(source.path), file: source.path, read: () => imageItems(source.path, name(source.path)) })),
    ...sources.dockerfiles.map((source) => ({ kind: 'dockerfile', location: name(source.path), file: source.path, read: async () => dockerfileItems(source.path, name(source.path)) })),
    ...sources.manifests.map((source) => ({
      kind: 'manifests',
      location: name(source.path),
      file: source.path,
      read: async () => {
        const found: BaselineProblem[] = [];
        const read = manifestItems(source.path, root, found);
        problems.push(...found);
        return read;
      },
    })),
    ...sources.vaults.map((vault) => ({
      kind: 'vault',
      location: vault.endpoint,
      read: async () => {
        const reader = options.vaultReader?.(vault) ?? defaultVaultReader(vault, env, options.clock);
        return vaultBucketItems(reader, vault.name ?? new URL(vault.endpoint).host, vault.endpoint, vault.buckets ?? []);
      },
    })),
    ...sources.postgres.map((source) => ({ kind: 'postgresql', location: '(connection)', read: async () => (await postgresItems(source.connection, source.name)).items })),
  ];
  for (const [index, step] of steps.entries()) {
    options.onInput?.(index, steps.length, step.kind, step.location);
    try {
      const read = await step.read();
      items.push(...read);
      const location = step.kind === 'postgresql' ? (read[0]?.source ?? step.location) : step.location;
      const sha256 = step.file === undefined ? undefined : fileSha256(step.file);
      inputs.push({ kind: step.kind, location, ...(sha256 === undefined ? {} : { sha256 }) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push({ path: `${step.kind} ${step.location}`, message: code === 'ENOENT' ? 'no such file or directory; check the path' : (error as Error).message });
    }
  }
  const seen = new Map<string, ConfigItem>();
  for (const item of items) {
    const previous = seen.get(configItemKey(item));
    if (previous !== undefined) {
      problems.push({ path: item.source, message: `${item.component} ${item.resourceId} is also read from ${previous.source}; give each Terraform state its own stack name, each env set its own name` });
    }
    seen.set(configItemKey(item), item);
  }
  if (problems.length > 0) throw new ConfigCollectError(problems);
  const sorted = [...seen.values()].sort((a, b) => (a.component === b.component ? (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : 0) : a.component < b.component ? -1 : 1));
  return Object.freeze({ format: 'holdfast-config-items/1' as const, collectedAt: new Date(options.clock.nowMs()).toISOString(), inputs, items: sorted });
}

function defaultVaultReader(vault: VaultSource, env: NodeJS.ProcessEnv, clock: Clock): VaultBucketReader {
  const client = new S3Client({ ...s3ClientOptionsFromEnvironment(vault.endpoint, env), clock, retry: { attempts: 2, baseDelayMs: 200, maxDelayMs: 1_000 } });
  return s3VaultBucketReader(client);
}

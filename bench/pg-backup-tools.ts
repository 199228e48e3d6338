import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchCluster } from './pg-cluster.js';
import { type OsUser, run, type RunResult } from './pg-host.js';
import { type BenchVault, createServiceKey, type KeyPair, REGION } from './pg-vault.js';

/**
 * The two tools under test, each driven through its own command line exactly as its
 * documentation says to run it, as the postgres OS user, against the same vault.
 */

export const PGBACKREST = process.env['HOLDFAST_BENCH_PGBACKREST'] ?? '/usr/bin/pgbackrest';
const STANZA = 'bench';
const TOOL_TIMEOUT_MS = 30 * 60_000;

export interface BackupMeasure {
  readonly wallMs: number;
  /** CPU seconds of the tool's process tree (GNU time): compression, checksums, TLS, pg_basebackup. */
  readonly toolCpuSeconds: number | undefined;
  readonly storedBytes: number | undefined;
  /** The backup's name in its repository. */
  readonly id: string;
}

export interface RestoreMeasure {
  readonly wallMs: number;
  readonly toolCpuSeconds: number | undefined;
}

interface ToolContext {
  readonly vault: BenchVault;
  readonly user: OsUser | undefined;
  /** A directory the postgres user owns, for HOME, config, logs and spools. */
  readonly home: string;
}

/**
 * Extra node flags for `holdfast pg backup` and `restore` from HOLDFAST_BENCH_CLI_NODE_FLAGS
 * (space-separated), e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (a directory the postgres user
 * can write) to see where the CLI's CPU goes. archive_command is left alone.
 */
function cliNodeFlags(): string[] {
  return (process.env['HOLDFAST_BENCH_CLI_NODE_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');
}

function baseEnv(home: string): Record<string, string> {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
}

/** `holdfast pg …`: a backup-writer key for wal-push and backup, a restore-reader key for restores. */
export class HoldfastTool {
  readonly #cli: string;
  readonly #context: ToolContext;
  readonly #writer: KeyPair;
  readonly #reader: KeyPair;
  readonly repo: string;

  private constructor(cli: string, context: ToolContext, writer: KeyPair, reader: KeyPair, repo: string) {
    this.#cli = cli;
    this.#context = context;
    this.#writer = writer;
    this.#reader = reader;
    this.repo = repo;
  }

  /** An Object Lock bucket with a 1-day COMPLIANCE default retention, as the README sets it up. */
  static async setUp(cli: string, context: ToolContext, bucket: string): Promise<HoldfastTool> {
    await context.vault.createBucket(bucket, 1);
    const writer = await createServiceKey(context.vault, 'bench-pg-writer', ['backup-writer']);
    const reader = await createServiceKey(context.vault, 'bench-pg-restorer', ['restore-reader']);
    return new HoldfastTool(cli, context, writer, reader, `s3://${bucket}/bench`);
  }

  #env(key: KeyPair): Record<string, string> {
    return { AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey, AWS_REGION: REGION, AWS_CA_BUNDLE: this.#context.vault.caFile };
  }

  /** What the source cluster's environment needs for archive_command. */
  serverEnv(): Record<string, string> {
    return this.#env(this.#writer);
  }

  /** What a restored cluster's environment needs for restore_command. */
  restoredEnv(): Record<string, string> {
    return this.#env(this.#reader);
  }

  archiveCommand(mode: 'sync' | { readonly spool: string }): string {
    const base = `'${process.execPath}' '${this.#cli}' pg wal-push %p --repo ${this.repo} --endpoint ${this.#context.vault.endpoint}`;
    return mode === 'sync' ? base : `${base} --async --spool '${mode.spool}'`;
  }

  async #holdfast(args: readonly string[], env: Record<string, string>): Promise<RunResult> {
    return run(process.execPath, [...cliNodeFlags(), this.#cli, 'pg', ...args, '--repo', this.repo, '--endpoint', this.#context.vault.endpoint], {
      env: { ...baseEnv(this.#context.home), ...env },
      user: this.#context.user,
      cwd: this.#context.home,
      timeoutMs: TOOL_TIMEOUT_MS,
    });
  }

  async backup(cluster: BenchCluster): Promise<BackupMeasure> {
    const result = await this.#holdfast(['backup', '--json'], {
      ...this.#env(this.#writer),
      PGHOST: '127.0.0.1',
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
      PGDATABASE: 'postgres',
    });
    const report = JSON.parse(result.stdout) as { id: string; compressedBytes: number };
    return { wallMs: result.wallMs, toolCpuSeconds: result.cpuSeconds, storedBytes: report.compressedBytes, id: report.id };
  }

  /**
   * `holdfast pg restore --into DIR --target-time T --target-action promote` (the defaults
   * otherwise: files fsynced, restore_command prefetching 8 segments into the copy's
   * pg_wal/holdfast-prefetch), or with `--no-prefetch`: one download per restore_command.
   */
  async restore(into: string, targetTime: string, prefetch: boolean): Promise<RestoreMeasure> {
    const extra = prefetch ? [] : ['--no-prefetch'];
    const result = await this.#holdfast(['restore', '--into', into, '--target-time', targetTime, '--target-action', 'promote', ...extra, '--json'], this.#env(this.#reader));
    return { wallMs: result.wallMs, toolCpuSeconds: result.cpuSeconds };
  }
}

/**
 * pgBackRest 2.x with `repo1-type=s3` pointed at the vault (path style). Its S3 client speaks only
 * HTTPS; it checks the certificate's host name against DNS names only (not an IP SAN), so
 * verification is off (`repo1-storage-verify-tls=n`) while Holdfast's CLI verifies the same
 * certificate through AWS_CA_BUNDLE. Gzip level 1, as Holdfast compresses.
 *
 * Its key is a service identity with an inline policy on its bucket that includes s3:DeleteObject:
 * pgBackRest deletes and rewrites its own files during a backup (the `latest` link, backup.info),
 * so it cannot run with a write-only backup-writer key; the vault's separation of duties refuses
 * put + delete on one identity, so the bench records an override with its reason. The bucket has
 * no Object Lock (pgBackRest rewrites files in place).
 */
export class PgBackRestTool {
  readonly #context: ToolContext;
  readonly #key: KeyPair;
  readonly #dir: string;
  readonly #bucket: string;
  readonly configFile: string;

  private constructor(context: ToolContext, key: KeyPair, dir: string, bucket: string) {
    this.#context = context;
    this.#key = key;
    this.#dir = dir;
    this.#bucket = bucket;
    this.configFile = join(dir, 'pgbackrest.conf');
  }

  static async setUp(context: ToolContext, bucket: string): Promise<PgBackRestTool> {
    await context.vault.createBucket(bucket);
    const name = 'bench-pgbackrest';
    await context.vault.admin(['users', 'create', name, '--service']);
    await context.vault.admin(['users', 'set-duty-override', name, '--reason', 'bench:pg — pgBackRest deletes and rewrites files in its own repository']);
    const policyFile = join(context.home, 'pgbackrest-policy.json');
    await writeFile(
      policyFile,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket', 's3:GetBucketLocation'],
            Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
          },
        ],
      }),
    );
    await context.vault.admin(['users', 'put-policy', name, 'pgbackrest-repository', policyFile]);
    const key = await context.vault.admin<KeyPair>(['keys', 'create', name]);
    const dir = join(context.home, 'pgbackrest');
    for (const sub of ['', 'log', 'lock', 'spool']) {
      await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
      if (context.user !== undefined) await chown(join(dir, sub), context.user.uid, context.user.gid);
    }
    return new PgBackRestTool(context, key, dir, bucket);
  }

  /** Writes the configuration for the source cluster (the key stays in the environment, never in the file). */
  async configure(cluster: BenchCluster): Promise<void> {
    const lines = [
      '[global]',
      'repo1-type=s3',
      'repo1-s3-endpoint=127.0.0.1',
      `repo1-storage-port=${this.#context.vault.port}`,
      'repo1-s3-uri-style=path',
      'repo1-storage-verify-tls=n',
      `repo1-s3-bucket=${this.#bucket}`,
      `repo1-s3-region=${REGION}`,
      'repo1-path=/pgbackrest',
      // No expiry during the run; it would only warn without a retention setting.
      'repo1-retention-full=100',
      'compress-type=gz',
      'compress-level=1',
      'start-fast=y',
      `log-path=${join(this.#dir, 'log')}`,
      `lock-path=${join(this.#dir, 'lock')}`,
      `spool-path=${join(this.#dir, 'spool')}`,
      'log-level-console=warn',
      '',
      `[${STANZA}]`,
      `pg1-path=${cluster.dataDir}`,
      `pg1-port=${cluster.port}`,
      `pg1-socket-path=${cluster.base}`,
      'pg1-user=postgres',
      '',
    ];
    await writeFile(this.configFile, lines.join('\n'), { mode: 0o600 });
    if (this.#context.user !== undefined) await chown(this.configFile, this.#context.user.uid, this.#context.user.gid);
  }

  /** The key, as pgBackRest reads it from the environment (archive_command, archive-get, the CLI). */
  serverEnv(): Record<string, string> {
    return { PGBACKREST_REPO1_S3_KEY: this.#key.accessKeyId, PGBACKREST_REPO1_S3_KEY_SECRET: this.#key.secretAccessKey };
  }

  /**
   * archive-push as pgBackRest documents it: synchronous, or `archive-async=y` with a spool and
   * `process-max` workers (its user guide's "Asynchronous Archiving" section).
   */
  archiveCommand(mode: 'sync' | { readonly processMax: number }): string {
    const base = `${PGBACKREST} --config=${this.configFile} --stanza=${STANZA}`;
    return mode === 'sync' ? `${base} archive-push %p` : `${base} --archive-async --process-max=${mode.processMax} archive-push %p`;
  }

  async #pgbackrest(args: readonly string[]): Promise<RunResult> {
    return run(PGBACKREST, [`--config=${this.configFile}`, `--stanza=${STANZA}`, ...args], {
      env: { ...baseEnv(this.#context.home), ...this.serverEnv() },
      user: this.#context.user,
      cwd: this.#context.home,
      timeoutMs: TOOL_TIMEOUT_MS,
    });
  }

  async stanzaCreate(): Promise<void> {
    await this.#pgbackrest(['stanza-create']);
  }

  async backup(processMax: number): Promise<BackupMeasure> {
    const result = await this.#pgbackrest(['--type=full', `--process-max=${processMax}`, 'backup']);
    const info = await this.#info();
    const newest = info.backup.at(-1);
    if (newest === undefined) throw new Error('pgbackrest info lists no backup after a successful backup');
    return { wallMs: result.wallMs, toolCpuSeconds: result.cpuSeconds, storedBytes: newest.info.repository.size, id: newest.label };
  }

  /** `restore --type=time --target=T --target-action=promote --archive-mode=off` into an empty directory. */
  async restore(into: string, targetTime: string, set: string, processMax: number): Promise<RestoreMeasure> {
    const result = await this.#pgbackrest([
      `--pg1-path=${into}`,
      `--set=${set}`,
      '--type=time',
      `--target=${targetTime}`,
      '--target-action=promote',
      '--archive-mode=off',
      `--process-max=${processMax}`,
      'restore',
    ]);
    return { wallMs: result.wallMs, toolCpuSeconds: result.cpuSeconds };
  }

  async #info(): Promise<PgBackRestInfo> {
    const result = await this.#pgbackrest(['--output=json', 'info']);
    const [stanza] = JSON.parse(result.stdout) as PgBackRestInfo[];
    if (stanza === undefined) throw new Error(`pgbackrest info: no stanza in ${result.stdout.slice(0, 500)}`);
    return stanza;
  }
}

interface PgBackRestInfo {
  readonly backup: readonly { readonly label: string; readonly info: { readonly size: number; readonly repository: { readonly size: number } } }[];
}

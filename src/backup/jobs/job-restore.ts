import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { TarExtractor } from '../../infra/tar/tar-extractor.js';
import { readWriteOnceObject } from '../pg/write-once-object.js';
import { type JobRunManifest, parseJobRunManifest } from './job-run-manifest.js';
import { pgConnection, pgToolEnv } from './sources/pg-dump-source.js';
import { MONGODB_TOOLS_INSTALL_HINT } from './sources/mongodb-tools.js';
import { mongoPasswordFile } from './sources/mongodump-source.js';
import { queryPsql, sqlIdentifier, sqlLiteral } from './psql-query.js';

/**
 * Restores of streamed job runs (`holdfast jobs restore`): the manifest and every part are read
 * at their FIRST version (write-once-object.ts: a writer key may add versions, never rewrite
 * history), each part checked against the manifest's size and SHA-256, the gzip stream and the
 * uncompressed stream checked against the manifest, and the bytes piped into the target — the
 * `mariadb` client for a dump, our tar extractor for a directory. Nothing is staged on disk.
 */

export class JobRestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRestoreError';
  }
}

export async function readRunManifest(client: S3Client, bucket: string, manifestKey: string): Promise<JobRunManifest> {
  const read = await readWriteOnceObject(client, bucket, manifestKey);
  if (read === undefined) throw new JobRestoreError(`s3://${bucket}/${manifestKey} does not exist: the run did not finish, or its objects were removed`);
  const chunks: Buffer[] = [];
  for await (const chunk of read.body) chunks.push(chunk as Buffer);
  return parseJobRunManifest(Buffer.concat(chunks).toString('utf8'), manifestKey);
}

/** Streams the run's uncompressed content into `sink`, verifying every checksum on the way. `signal` stops it (a drill over its budget). */
export async function streamRunContent(client: S3Client, bucket: string, manifest: JobRunManifest, sink: Writable, signal?: AbortSignal): Promise<{ bytes: number }> {
  const gzipHash = createHash('sha256');
  const contentHash = createHash('sha256');
  let compressedBytes = 0;
  let contentBytes = 0;
  const compressed = new PassThrough();
  const gunzip = createGunzip();
  gunzip.on('data', (chunk: Buffer) => {
    contentHash.update(chunk);
    contentBytes += chunk.length;
  });
  const into = pipeline(compressed, gunzip, sink);
  into.catch(() => undefined);
  try {
    for (const part of manifest.parts) {
      const read = await readWriteOnceObject(client, bucket, part.key);
      if (read === undefined) throw new JobRestoreError(`part ${part.key} is missing from s3://${bucket}`);
      const partHash = createHash('sha256');
      let partBytes = 0;
      for await (const chunk of read.body as AsyncIterable<Buffer>) {
        signal?.throwIfAborted();
        partHash.update(chunk);
        gzipHash.update(chunk);
        partBytes += chunk.length;
        compressedBytes += chunk.length;
        // 'close' too: a sink that died (a killed `mariadb`) tears the pipeline down and never drains.
        if (!compressed.write(chunk)) await new Promise((resolve) => compressed.once('drain', resolve).once('close', resolve));
        if (compressed.destroyed) {
          const failure = await into.then(() => undefined, (e: unknown) => e);
          throw failure instanceof Error ? failure : new JobRestoreError('the restore target stopped reading');
        }
      }
      const digest = partHash.digest('hex');
      if (partBytes !== part.size || digest !== part.sha256) throw new JobRestoreError(`part ${part.key} is ${partBytes} bytes with SHA-256 ${digest}; the manifest says ${part.size} bytes, ${part.sha256}`);
    }
    compressed.end();
    await into;
  } catch (error) {
    compressed.destroy(error as Error);
    await into.catch(() => undefined);
    throw error;
  }
  const gz = gzipHash.digest('hex');
  if (compressedBytes !== manifest.compressed.bytes || gz !== manifest.compressed.sha256) throw new JobRestoreError(`the gzip stream does not match the manifest (${compressedBytes} bytes, ${gz})`);
  const content = contentHash.digest('hex');
  if (contentBytes !== manifest.content.bytes || content !== manifest.content.sha256) throw new JobRestoreError(`the restored ${manifest.content.name} does not match the manifest (${contentBytes} bytes, ${content})`);
  return { bytes: contentBytes };
}

export interface MariadbTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | undefined;
  readonly database: string;
}

/**
 * Pipes a single-database dump into `mariadb` for `target.database` (created if missing). The
 * dump of one database carries no CREATE DATABASE / USE, so it lands where it is told.
 */
export async function restoreMariadbRun(client: S3Client, bucket: string, manifest: JobRunManifest, target: MariadbTarget, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ bytes: number }> {
  if (manifest.source.kind !== 'mariadb-dump') throw new JobRestoreError(`run ${manifest.runId} is a ${manifest.source.kind} backup, not a MariaDB dump`);
  const databases = manifest.source['databases'];
  if (!Array.isArray(databases) || databases.length !== 1) {
    throw new JobRestoreError(`run ${manifest.runId} dumped ${Array.isArray(databases) ? databases.join(', ') : 'all databases'} with their CREATE DATABASE statements; restoring it under another name is not supported yet — replay it with \`mariadb < dump.sql\``);
  }
  if (!/^[A-Za-z0-9_$]{1,64}$/.test(target.database)) throw new JobRestoreError(`"${target.database}" is not a database name (letters, digits, _ and $)`);
  const connection = ['--no-defaults', `--host=${target.host}`, `--port=${target.port}`, `--user=${target.user}`, '--protocol=TCP', '--default-character-set=utf8mb4'];
  const childEnv: NodeJS.ProcessEnv = { PATH: env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8', ...(target.password === undefined ? {} : { MYSQL_PWD: target.password }) };
  await runMariadb([...connection, '-e', `CREATE DATABASE IF NOT EXISTS \`${target.database}\``], childEnv);
  signal?.throwIfAborted();
  return streamRunIntoTool(client, bucket, manifest, { command: 'mariadb', args: [...connection, '--binary-mode', target.database], env: childEnv, missing: 'mariadb is not installed (apt-get install mariadb-client)' }, signal);
}

export interface PostgresTarget {
  /** libpq conninfo without dbname, e.g. `host=127.0.0.1 port=5432 user=postgres`. */
  readonly connection: string | undefined;
  /** The environment variable with the password, if any. */
  readonly passwordEnv: string | undefined;
  readonly database: string;
}

/**
 * Restores a pg-dump run into `target.database`: created (from template0, so nothing of
 * template1 is mixed in) when missing, and it must hold no tables of its own when it exists. The
 * archive is streamed into `pg_restore --single-transaction --exit-on-error` (PostgreSQL docs,
 * "pg_restore": a failure rolls everything back), without owners and grants, which name roles
 * the target cluster may not have: the restored objects belong to the restoring user.
 */
export async function restorePgDumpRun(client: S3Client, bucket: string, manifest: JobRunManifest, target: PostgresTarget, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ bytes: number }> {
  if (manifest.source.kind !== 'pg-dump') throw new JobRestoreError(`run ${manifest.runId} is a ${manifest.source.kind} backup, not a PostgreSQL dump`);
  if (target.database === '' || target.database.length > 63 || target.database.startsWith('-')) throw new JobRestoreError(`"${target.database}" is not a database name`);
  const childEnv = pgToolEnv(env, target.passwordEnv);
  const admin = pgConnection(target.connection, 'postgres');
  const [exists] = await queryPsql(admin, `SELECT 1 FROM pg_database WHERE datname = ${sqlLiteral(target.database)}`, childEnv, signal);
  if (exists !== '1') await queryPsql(admin, `CREATE DATABASE ${sqlIdentifier(target.database)} TEMPLATE template0`, childEnv, signal);
  else {
    const [tables] = await queryPsql(pgConnection(target.connection, target.database), "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'", childEnv, signal);
    if (tables !== '0') throw new JobRestoreError(`database ${target.database} already holds ${tables} table(s), view(s) or sequence(s); restore into a new or empty database`);
  }
  const args = ['--no-password', '--single-transaction', '--exit-on-error', '--no-owner', '--no-privileges', `--dbname=${pgConnection(target.connection, target.database)}`];
  return streamRunIntoTool(client, bucket, manifest, { command: 'pg_restore', args, env: childEnv, missing: 'pg_restore is not installed (apt-get install postgresql-client)' }, signal);
}

export interface MongoTarget {
  /** A MongoDB URI without a password. */
  readonly uri: string;
  readonly password: string | undefined;
  /** The database a one-database dump is restored as; undefined restores every namespace as it was. */
  readonly database: string | undefined;
}

/**
 * Streams a mongodump run into `mongorestore --archive` (from stdin). A one-database dump is
 * renamed into `target.database` with `--nsFrom DB.* --nsTo TARGET.*`; existing documents are
 * never dropped (no `--drop`): duplicates fail the restore. Not exercised on the build machine
 * (no MongoDB there); the missing tool is reported with where to get it.
 */
export async function restoreMongodumpRun(client: S3Client, bucket: string, manifest: JobRunManifest, target: MongoTarget, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<{ bytes: number }> {
  if (manifest.source.kind !== 'mongodump') throw new JobRestoreError(`run ${manifest.runId} is a ${manifest.source.kind} backup, not a MongoDB archive`);
  const dumped = manifest.source['database'];
  const rename = target.database === undefined || dumped === undefined || dumped === 'all' ? [] : [`--nsFrom=${String(dumped)}.*`, `--nsTo=${target.database}.*`];
  if (target.database !== undefined && rename.length === 0) throw new JobRestoreError(`run ${manifest.runId} dumped the whole deployment; restore it without a new database name`);
  const credentials = mongoPasswordFile(target.password);
  try {
    const args = ['--archive', `--uri=${target.uri}`, ...rename, ...(credentials === undefined ? [] : [`--config=${credentials.file}`])];
    return await streamRunIntoTool(client, bucket, manifest, {
      command: 'mongorestore',
      args,
      env: { PATH: env['PATH'] ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
      missing: `mongorestore is not installed or not on PATH: ${MONGODB_TOOLS_INSTALL_HINT}`,
    }, signal);
  } finally {
    credentials?.remove();
  }
}

/** Extracts a directory run into `into`, which must be empty or not exist. */
export async function restoreDirectoryRun(client: S3Client, bucket: string, manifest: JobRunManifest, into: string, signal?: AbortSignal): Promise<{ bytes: number; files: number }> {
  if (manifest.source.kind !== 'directory') throw new JobRestoreError(`run ${manifest.runId} is a ${manifest.source.kind} backup, not a directory archive`);
  await mkdir(into, { recursive: true, mode: 0o700 });
  if ((await readdir(into)).length > 0) throw new JobRestoreError(`${into} is not empty; restore into a new or empty directory`);
  const extractor = new TarExtractor(into, { modeMask: 0o777 });
  const streamed = await streamRunContent(client, bucket, manifest, extractor, signal);
  return { bytes: streamed.bytes, files: extractor.summary().files };
}

function runMariadb(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', (e: NodeJS.ErrnoException) => reject(new JobRestoreError(e.code === 'ENOENT' ? 'mariadb is not installed (apt-get install mariadb-client)' : e.message)));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new JobRestoreError(`mariadb failed (exit ${code}): ${stderr.trim()}`))));
  });
}

/** A restore tool that reads a run's content on stdin: `missing` is the message when it is not installed. */
interface RestoreTool {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly missing: string;
}

/**
 * Streams a run's content into `tool`'s stdin and waits for it: the tool's exit code decides,
 * and its last stderr lines say why it failed. A failed download or an abort kills the tool; a
 * tool that is not installed is reported by its own spawn error rather than as a broken pipe.
 */
async function streamRunIntoTool(client: S3Client, bucket: string, manifest: JobRunManifest, tool: RestoreTool, signal?: AbortSignal): Promise<{ bytes: number }> {
  const child = spawn(tool.command, [...tool.args], { env: tool.env, stdio: ['pipe', 'ignore', 'pipe'] });
  const kill = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', kill, { once: true });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-8000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(new JobRestoreError(e.code === 'ENOENT' ? tool.missing : e.message)));
    child.once('close', resolve);
  });
  exited.catch(() => undefined);
  child.stdin.on('error', () => undefined);
  let streamed: { bytes: number };
  let code: number | null;
  try {
    try {
      streamed = await streamRunContent(client, bucket, manifest, child.stdin, signal);
    } catch (error) {
      kill();
      // A tool that never started surfaces here as a broken pipe; its own error says more.
      await exited;
      throw error;
    }
    code = await exited;
  } finally {
    signal?.removeEventListener('abort', kill);
  }
  signal?.throwIfAborted();
  if (code !== 0) throw new JobRestoreError(`${tool.command} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return streamed;
}

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/**
 * A running source: the bytes it produces, how it ended, and a way to stop it. Sources never
 * stage anything on local disk: the output is read straight into the upload.
 */
export interface SourceProcess {
  readonly output: Readable;
  /** Resolves once the source ended cleanly (exit 0); rejects with the reason otherwise. */
  readonly finished: Promise<void>;
  /** Ends the source now (time budget, shutdown): kills the tool, destroys the stream. */
  stop(): void;
  /** The last lines the tool wrote to stderr (warnings included), for the job history. */
  logExcerpt(): string;
  /** What the source saw while it ran, for the manifest (read after `finished`). */
  recorded?(): SourceRecord;
}

/** Facts about the backup a restore drill checks the restored copy against. */
export interface SourceRecord {
  /** Rows per table as the dump holds them. */
  readonly rowCounts?: Readonly<Record<string, number>>;
  /** Why the rows could not be counted (the drill says so instead of comparing). */
  readonly rowCountsProblem?: string;
  /** Every regular file archived, with its size and SHA-256. */
  readonly files?: readonly ArchivedFile[];
}

export interface ArchivedFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Source failures the operator must act on; the message is the run's error. */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}

const STDERR_KEEP_BYTES = 16 * 1024;
const EXCERPT_LINES = 20;

/**
 * Spawns a tool whose stdout is the backup. `describeFailure` turns its exit into a message from
 * the last stderr lines; a tool that is not installed fails with the package to install.
 */
export function spawnSourceTool(command: string, args: readonly string[], env: NodeJS.ProcessEnv, installHint: string): SourceProcess {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
  });
  const excerpt = () => stderr.trim().split('\n').slice(-EXCERPT_LINES).join('\n');
  const finished = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new SourceError(error.code === 'ENOENT' ? `${command} is not installed or not on PATH (${installHint})` : `${command} could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        const last = excerpt().split('\n').slice(-3).join(' | ');
        reject(new SourceError(`${command} failed (${code === null ? `killed by ${signal}` : `exit ${code}`})${last === '' ? '' : `: ${last}`}`));
      }
    });
  });
  finished.catch(() => undefined);
  return {
    output: child.stdout,
    finished,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    logExcerpt: excerpt,
  };
}

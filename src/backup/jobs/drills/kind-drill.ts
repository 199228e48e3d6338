import type { Clock } from '../../../infra/clock.js';
import type { S3Client } from '../../../infra/s3-client/s3-client.js';
import type { DrillCheck, DrillObject } from './drill-record.js';
import type { ScratchTarget } from './scratch-target.js';

/** What every kind of drill gets: the client that reads the backup, the clock, the environment. */
export interface KindDrillContext {
  readonly client: S3Client;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The drill's id (names scratch targets). */
  readonly id: string;
  readonly startedMs: number;
  readonly onStep: (step: string) => void;
  /** Aborted when the drill runs over its time budget: stop, tear down, return. */
  readonly signal: AbortSignal;
  /**
   * Records a scratch target durably BEFORE it is created (the drill journal), so a crash or a
   * budget stop can tear it down without the drill.
   */
  readonly track: (target: ScratchTarget) => Promise<void>;
}

/**
 * What a kind of drill found. A drill never throws for a problem of the backup: a failed step is
 * a failed check (the evidence must say what went wrong); it throws only when it cannot run.
 */
export interface KindDrillResult {
  readonly checks: readonly DrillCheck[];
  /** When the restore became usable (undefined: it never did). */
  readonly usableMs: number | undefined;
  /** The newest moment the restore holds (undefined: unknown). */
  readonly newestRestorableMs: number | undefined;
  readonly objects: readonly DrillObject[];
  /** The scratch target, described for the record (and that it is gone). */
  readonly target: string;
  /** For pg: the backup restored (the newest in the repository). */
  readonly backupId?: string;
}

export function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim().slice(0, 2000) || 'unknown error';
}

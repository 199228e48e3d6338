/**
 * One run of a backup job, as the history records it. A run is written `running` before the
 * source starts and finished exactly once; a run still `running` when the process starts again
 * was cut off by a crash or a kill and becomes `interrupted` — never a success.
 */
export type JobRunOutcome = 'running' | 'succeeded' | 'failed' | 'timed-out' | 'interrupted';

export const FINISHED_OUTCOMES = ['succeeded', 'failed', 'timed-out', 'interrupted'] as const;

/** What started a run: its schedule, or someone through `holdfast jobs run`. */
export type JobRunTrigger = 'schedule' | 'manual';

export interface JobRun {
  readonly id: string;
  readonly job: string;
  readonly trigger: JobRunTrigger;
  readonly startedMs: number;
  readonly endedMs: number | undefined;
  readonly outcome: JobRunOutcome;
  /** Bytes stored (compressed, as the objects hold them). */
  readonly bytes: number;
  /** Objects stored, the manifest included. */
  readonly objects: number;
  /** The run's commit point: the manifest's key in the destination bucket. */
  readonly manifestKey: string | undefined;
  readonly error: string | undefined;
  /** The last lines the source tool wrote (stderr), for the operator. */
  readonly logExcerpt: string | undefined;
}

export interface JobRunFinish {
  readonly outcome: Exclude<JobRunOutcome, 'running'>;
  readonly endedMs: number;
  readonly bytes: number;
  readonly objects: number;
  readonly manifestKey: string | undefined;
  readonly error: string | undefined;
  readonly logExcerpt: string | undefined;
}

/** The job history. Writes MUST be durable before they return (a crash must not lose a `running` row). */
export interface JobRunHistory {
  start(run: { readonly id: string; readonly job: string; readonly trigger: JobRunTrigger; readonly startedMs: number }): void;
  finish(id: string, finish: JobRunFinish): void;
  /** Marks every `running` row `interrupted`; returns them. Called once at start-up. */
  interruptLeftovers(nowMs: number, reason: string): JobRun[];
  get(id: string): JobRun | undefined;
  /** Newest first. */
  list(filter: { readonly job?: string; readonly limit: number }): JobRun[];
  lastSuccess(job: string): JobRun | undefined;
  /** When the job was first configured here (the dead man's switch counts from it until a success). Set on first call. */
  firstSeenMs(job: string, nowMs: number): number;
  /** Keeps an evidence record (a job run's, a drill's); storing the same kind and id again changes nothing. */
  putEvidence(entry: { readonly kind: string; readonly id: string; readonly job: string; readonly outcome: string; readonly recordedMs: number; readonly record: string }): void;
  getEvidence(kind: string, id: string): LocalEvidence | undefined;
  /** Newest first. */
  listEvidence(filter: { readonly kind: string; readonly job?: string; readonly limit: number }): LocalEvidence[];
  /** Records not yet in the evidence archive, oldest first. */
  unarchivedEvidence(limit: number): LocalEvidence[];
  markEvidenceArchived(kind: string, id: string, location: string): void;
  close(): void;
}

/** An evidence record as the job history keeps it; `archivedAt` is where the locked copy is (once it is). */
export interface LocalEvidence {
  readonly kind: string;
  readonly id: string;
  readonly job: string;
  readonly outcome: string;
  readonly recordedMs: number;
  /** The record, as JSON. */
  readonly record: string;
  readonly archivedAt: string | undefined;
}

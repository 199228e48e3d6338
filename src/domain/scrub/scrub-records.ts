import type { IntegrityProblem } from './version-integrity.js';

export type ScrubTrigger = 'scheduled' | 'manual';
export type ScrubOutcome = 'running' | 'completed' | 'failed' | 'interrupted';

/** One scrub pass: how much it read and what it found. */
export interface ScrubPass {
  readonly id: string;
  readonly trigger: ScrubTrigger;
  readonly startedMs: number;
  readonly endedMs: number | undefined;
  readonly outcome: ScrubOutcome;
  /** The share of the vault's versions this pass was to read (1 = all). */
  readonly fraction: number;
  /** How many versions the vault held when the pass began, and how many it was to read. */
  readonly totalVersions: number;
  readonly plannedVersions: number;
  readonly versions: number;
  readonly bytes: number;
  readonly failures: number;
  /** Where the rotating walk began and ended (`bucket/key@version`), for the record. */
  readonly fromPosition: string | undefined;
  readonly toPosition: string | undefined;
  /** The walk reached the end of the vault in this pass: every version was covered since the cycle began. */
  readonly cycleCompleted: boolean;
  readonly error: string | undefined;
}

/** A version whose bytes did not match what its metadata promises. */
export interface ScrubFinding {
  readonly passId: string;
  readonly atMs: number;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly size: number;
  readonly problem: IntegrityProblem;
  readonly detail: string;
}

/** The last version a pass verified; the next pass resumes after it. */
export interface ScrubCursor {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
}

/**
 * Where scrub passes, findings and the rotating cursor are kept (SQLite in the embedded
 * deployment: DATA/metadata/scrub.sqlite). Every write MUST be durable when it returns: the
 * cursor is what makes "every object is covered over successive passes" survive a restart.
 */
export interface ScrubRecords {
  cursor(): ScrubCursor | undefined;
  saveCursor(cursor: ScrubCursor | undefined): void;
  /** When the walk last reached the end of the vault (every version covered since the previous time). */
  lastCycleCompletedMs(): number | undefined;
  markCycleCompleted(atMs: number): void;
  startPass(pass: ScrubPass): void;
  /** Progress and, with `outcome` other than running, the end of a pass. */
  updatePass(id: string, update: Partial<Omit<ScrubPass, 'id' | 'trigger' | 'startedMs' | 'fraction'>>): void;
  addFinding(finding: ScrubFinding): void;
  /** Passes left `running` by a crash become `interrupted`; returns how many. */
  interruptLeftovers(nowMs: number): number;
  pass(id: string): ScrubPass | undefined;
  passes(limit: number): ScrubPass[];
  findings(filter: { passId?: string; limit: number }): ScrubFinding[];
}

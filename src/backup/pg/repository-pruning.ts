import type { Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import type { BucketObjectLock, ListedObjectVersion } from '../../infra/s3-client/s3-xml.js';
import { backupsPrefix } from './backup-layout.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { readRepositoryOverview } from './repository-overview.js';
import { planRetention, type RetentionPlan, type RetentionPolicy, type StoredKey } from './retention-plan.js';
import { walPrefix } from './wal-archive-layout.js';

/**
 * Carries out a retention plan (retention-plan.ts) against the bucket, version by version, as
 * Object Lock allows:
 *
 * 1. One read of the catalog (manifests, WAL listing, history files) and one ListObjectVersions
 *    of `backups/` and `wal/`, so versions hidden under delete markers and the markers
 *    themselves are seen too.
 * 2. Every version the plan would delete is checked first — GetObjectRetention and
 *    GetObjectLegalHold — and deleted only if its retention has expired (or it never had one)
 *    and no legal hold is on. Governance retention is never bypassed; the pruner role is denied
 *    that anyway. A locked version is reported with its date, never an error: the lock, not
 *    this command, has the last word. A backup is removed whole or not at all: if any of its
 *    versions is locked it stays, and the plan is made again so the WAL it needs stays with it.
 * 3. Deletes name the version (`versionId`), so a versioned bucket loses the data instead of
 *    gaining delete markers, and delete markers under removed keys are deleted too. Backups go
 *    before WAL (a backup never outlives the WAL it needs), each backup manifest first.
 *
 * Retention is compared with this host's clock minus a minute's margin, so a clock slightly
 * ahead of the server's never asks for a delete Object Lock would refuse (and alert on).
 */

export interface PruneOptions {
  readonly client: S3Client;
  readonly location: BackupRepositoryLocation;
  readonly policy: RetentionPolicy;
  /** Plan and check locks, delete nothing. */
  readonly dryRun: boolean;
  readonly clock: Clock;
  /** Lock checks and WAL deletes in flight at once. Default 8. */
  readonly concurrency?: number;
  readonly onProgress?: (progress: { readonly phase: 'checking' | 'deleting'; readonly done: number; readonly total: number }) => void;
}

export type LockState = { readonly kind: 'unlocked' } | { readonly kind: 'retained'; readonly mode: string; readonly retainUntilMs: number } | { readonly kind: 'legal-hold' };

/** A version that stays because Object Lock protects it. */
export interface LockedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly lock: Exclude<LockState, { kind: 'unlocked' }>;
}

export interface PruneCounts {
  readonly versions: number;
  readonly deleteMarkers: number;
  readonly bytes: number;
}

export type UnitOutcome = 'removed' | 'would-remove' | 'kept-locked';

export interface PrunedUnit {
  readonly kind: 'backup' | 'incomplete-backup' | 'wal';
  /** Backup id or WAL key. */
  readonly subject: string;
  readonly outcome: UnitOutcome;
  readonly versions: number;
  readonly deleteMarkers: number;
  readonly bytes: number;
  /** For kept-locked: the latest retain-until date among its locked versions, or a legal hold. */
  readonly lockedUntilMs: number | undefined;
  readonly legalHold: boolean;
}

export interface PruneResult {
  readonly dryRun: boolean;
  readonly plan: RetentionPlan;
  readonly bucketLock: BucketObjectLock;
  readonly units: readonly PrunedUnit[];
  readonly locked: readonly LockedVersion[];
  /** Deleted (or, for a dry run, deletable). */
  readonly deleted: PruneCounts;
}

/** A delete the server refused or that failed part-way: what was deleted before it, and why it stopped. */
export class PruneInterruptedError extends Error {
  constructor(
    readonly deleted: PruneCounts,
    override readonly cause: unknown,
  ) {
    super(`${(cause as Error).message ?? String(cause)}${deleted.versions + deleted.deleteMarkers > 0 ? ` (stopped after deleting ${deleted.versions} version(s) and ${deleted.deleteMarkers} delete marker(s))` : ' (nothing was deleted)'}`);
    this.name = 'PruneInterruptedError';
  }
}

/** Margin for clock skew between this host and the server (fail closed: retain). */
export const LOCK_CLOCK_MARGIN_MS = 60_000;

interface Unit {
  readonly kind: PrunedUnit['kind'];
  readonly subject: string;
  /** Keys in deletion order. */
  readonly keys: readonly string[];
}

export async function pruneRepository(options: PruneOptions): Promise<PruneResult> {
  const { client, location, policy, clock } = options;
  const concurrency = options.concurrency ?? 8;
  const overview = await readRepositoryOverview(client, location);
  const versionsByKey = new Map<string, ListedObjectVersion[]>();
  for (const prefix of [backupsPrefix(location.prefix), walPrefix(location.prefix)]) {
    for await (const version of client.listObjectVersions({ bucket: location.bucket, prefix })) {
      const list = versionsByKey.get(version.key) ?? [];
      list.push(version);
      versionsByKey.set(version.key, list);
    }
  }
  const stored: StoredKey[] = [...versionsByKey].map(([key, versions]) => ({
    key,
    versions: versions.filter((v) => !v.isDeleteMarker).length,
    deleteMarkers: versions.filter((v) => v.isDeleteMarker).length,
    newestModifiedMs: Math.max(...versions.map((v) => (Number.isFinite(v.lastModifiedMs) ? v.lastModifiedMs : Infinity))),
  }));
  const bucketLock = await client.getObjectLockConfiguration(location.bucket);
  const nowMs = clock.nowMs();
  const plan0 = planRetention({ overview, stored, prefix: location.prefix, policy, nowMs });

  let checked = 0;
  let toCheck = 0;
  const lockOf = new Map<string, LockState>();
  const checkLocks = async (units: readonly Unit[]) => {
    const versions = units.flatMap((u) => u.keys.flatMap((key) => (versionsByKey.get(key) ?? []).filter((v) => !v.isDeleteMarker)));
    toCheck += versions.length;
    await forEachLimited(versions, concurrency, async (v) => {
      lockOf.set(versionRef(v), bucketLock.enabled ? await lockStateOf(client, location.bucket, v, nowMs) : { kind: 'unlocked' });
      options.onProgress?.({ phase: 'checking', done: ++checked, total: toCheck });
    });
  };
  const isLocked = (unit: Unit) => unit.keys.some((key) => (versionsByKey.get(key) ?? []).some((v) => !v.isDeleteMarker && lockOf.get(versionRef(v))?.kind !== 'unlocked'));

  const backupUnits = (plan: RetentionPlan): Unit[] => plan.backups.filter((b) => !b.keep).map((b) => ({ kind: 'backup', subject: b.manifest.id, keys: b.keys }));
  const incompleteUnits = (plan: RetentionPlan): Unit[] => plan.incomplete.filter((f) => f.removable).map((f) => ({ kind: 'incomplete-backup', subject: f.id, keys: f.keys }));
  const firstBackups = backupUnits(plan0);
  await checkLocks([...firstBackups, ...incompleteUnits(plan0)]);
  const stillLocked = new Set(firstBackups.filter(isLocked).map((u) => u.subject));
  const plan = stillLocked.size === 0 ? plan0 : planRetention({ overview, stored, prefix: location.prefix, policy, nowMs, stillLocked });
  const walUnits: Unit[] = plan.wal.removable.map((key) => ({ kind: 'wal', subject: key, keys: [key] }));
  await checkLocks(walUnits);

  const deletable = [...firstBackups.filter((u) => !stillLocked.has(u.subject)), ...incompleteUnits(plan).filter((u) => !isLocked(u))];
  const deletableWal = walUnits.filter((u) => !isLocked(u));
  const counts = { versions: 0, deleteMarkers: 0, bytes: 0 };
  const removedSubjects = new Set<string>();
  if (!options.dryRun) {
    const total = [...deletable, ...deletableWal].reduce((sum, u) => sum + u.keys.reduce((n, key) => n + (versionsByKey.get(key)?.length ?? 0), 0), 0);
    const deleteUnit = async (unit: Unit) => {
      for (const key of unit.keys) {
        // Data versions before delete markers: removing a marker first would make a hidden version current again.
        const versions = [...(versionsByKey.get(key) ?? [])].sort((a, b) => Number(a.isDeleteMarker) - Number(b.isDeleteMarker));
        for (const v of versions) {
          await client.deleteObject({ bucket: location.bucket, key, versionId: v.versionId });
          if (v.isDeleteMarker) counts.deleteMarkers += 1;
          else {
            counts.versions += 1;
            counts.bytes += v.size;
          }
          options.onProgress?.({ phase: 'deleting', done: counts.versions + counts.deleteMarkers, total });
        }
      }
      removedSubjects.add(unit.subject);
    };
    try {
      // Backups one at a time and in order (manifest first); then WAL, which no remaining backup needs.
      for (const unit of deletable) await deleteUnit(unit);
      await forEachLimited(deletableWal, concurrency, deleteUnit);
    } catch (error) {
      throw new PruneInterruptedError({ ...counts }, error);
    }
  }

  const units: PrunedUnit[] = [];
  const locked: LockedVersion[] = [];
  const describeUnit = (unit: Unit, unitLocked: boolean) => {
    let versions = 0;
    let deleteMarkers = 0;
    let bytes = 0;
    let lockedUntilMs: number | undefined;
    let legalHold = false;
    for (const key of unit.keys) {
      for (const v of versionsByKey.get(key) ?? []) {
        if (v.isDeleteMarker) deleteMarkers += 1;
        else {
          versions += 1;
          bytes += v.size;
        }
        const lock = v.isDeleteMarker ? undefined : lockOf.get(versionRef(v));
        if (lock === undefined || lock.kind === 'unlocked') continue;
        locked.push(Object.freeze({ key, versionId: v.versionId, lock }));
        if (lock.kind === 'legal-hold') legalHold = true;
        else lockedUntilMs = Math.max(lockedUntilMs ?? -Infinity, lock.retainUntilMs);
      }
    }
    if (!unitLocked && options.dryRun) {
      counts.versions += versions;
      counts.deleteMarkers += deleteMarkers;
      counts.bytes += bytes;
    }
    const outcome: UnitOutcome = unitLocked ? 'kept-locked' : options.dryRun ? 'would-remove' : 'removed';
    units.push(Object.freeze({ kind: unit.kind, subject: unit.subject, outcome, versions, deleteMarkers, bytes, lockedUntilMs, legalHold }));
  };
  for (const unit of firstBackups) describeUnit(unit, stillLocked.has(unit.subject));
  for (const unit of incompleteUnits(plan)) describeUnit(unit, isLocked(unit));
  for (const unit of walUnits) describeUnit(unit, isLocked(unit));
  return Object.freeze({ dryRun: options.dryRun, plan, bucketLock, units: Object.freeze(units), locked: Object.freeze(locked), deleted: Object.freeze({ ...counts }) });
}

function versionRef(v: ListedObjectVersion): string {
  return `${v.key}\u0000${v.versionId}`;
}

/**
 * Whether Object Lock still protects a version: retention until a date not yet (with the clock
 * margin) passed, in either mode, or a legal hold. Only asked in buckets with Object Lock.
 */
export async function lockStateOf(client: S3Client, bucket: string, v: ListedObjectVersion, nowMs: number): Promise<LockState> {
  const address = { bucket, key: v.key, versionId: v.versionId };
  const retention = await client.getObjectRetention(address);
  if (retention !== undefined && retention.retainUntilMs > nowMs - LOCK_CLOCK_MARGIN_MS) return Object.freeze({ kind: 'retained', mode: retention.mode, retainUntilMs: retention.retainUntilMs });
  if (await client.getObjectLegalHold(address)) return Object.freeze({ kind: 'legal-hold' });
  return Object.freeze({ kind: 'unlocked' });
}

/** Runs `work` on every item, at most `limit` at a time; the first failure rejects (after in-flight work settles). */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

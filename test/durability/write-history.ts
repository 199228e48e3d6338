// What the crash test's clients sent and what they were told, and from that, which contents a
// key may legitimately hold after a crash. Times are ticks of a logical clock: JavaScript runs
// one callback at a time, so "started after that acknowledgement arrived" is exact.

export type WriteOutcome =
  /** Sent; no answer yet. */
  | 'in-flight'
  /** The server answered 200: the write must survive. */
  | 'acknowledged'
  /** The server died before answering: the write may or may not have been committed. */
  | 'unknown';

export interface WriteRecord {
  readonly id: number;
  readonly key: string;
  /** What kind of write it was (small, large, overwrite, multipart), for failure messages. */
  readonly kind: string;
  readonly size: number;
  readonly sha256: string;
  readonly startedAt: number;
  outcome: WriteOutcome;
  /** When the 200 arrived, or (for an unknown outcome) the kill: the latest moment it can have committed. */
  settledAt: number | undefined;
}

export interface Expectation {
  /** True when some write to the key was acknowledged: the key must exist. */
  readonly mustExist: boolean;
  /** The versions the key may hold: not superseded by a write known to have committed later. */
  readonly allowed: readonly WriteRecord[];
}

export class WriteHistory {
  #tick = 0;
  #nextId = 0;
  readonly #byKey = new Map<string, WriteRecord[]>();
  readonly #problems: string[] = [];
  /** How many writes were acknowledged, and how many a kill left with an unknown outcome. */
  readonly counts = { acknowledged: 0, unknown: 0 };
  /** Acknowledged writes by kind (small, large, overwrite, multipart). */
  readonly acknowledgedByKind = new Map<string, number>();

  now(): number {
    return ++this.#tick;
  }

  begin(key: string, kind: string, size: number, sha256: string): WriteRecord {
    const record: WriteRecord = {
      id: this.#nextId++,
      key,
      kind,
      size,
      sha256,
      startedAt: this.now(),
      outcome: 'in-flight',
      settledAt: undefined,
    };
    const records = this.#byKey.get(key) ?? [];
    records.push(record);
    this.#byKey.set(key, records);
    return record;
  }

  acknowledge(record: WriteRecord): void {
    // A 200 read after crash() still counts: the server sent it, so the write had committed.
    if (record.outcome === 'unknown') this.counts.unknown--;
    record.outcome = 'acknowledged';
    record.settledAt = this.now();
    this.counts.acknowledged++;
    this.acknowledgedByKind.set(record.kind, (this.acknowledgedByKind.get(record.kind) ?? 0) + 1);
  }

  /** The server answered with an error: nothing was written. Valid writes must not fail, so it is a problem too. */
  refuse(record: WriteRecord, detail: string): void {
    const records = this.#byKey.get(record.key) ?? [];
    this.#byKey.set(record.key, records.filter((r) => r !== record));
    this.problem(`write #${record.id} (${record.kind}) of ${record.key} refused: ${detail}`);
  }

  problem(detail: string): void {
    this.#problems.push(detail);
  }

  problems(): readonly string[] {
    return this.#problems;
  }

  /** The server was killed now: every write still waiting for its answer has an unknown outcome. */
  crash(): void {
    const at = this.now();
    for (const records of this.#byKey.values()) {
      for (const record of records) {
        if (record.outcome === 'in-flight') {
          record.outcome = 'unknown';
          record.settledAt = at;
          this.counts.unknown++;
        }
      }
    }
  }

  keys(): string[] {
    return [...this.#byKey.keys()];
  }

  records(key: string): readonly WriteRecord[] {
    return this.#byKey.get(key) ?? [];
  }

  /**
   * A write V may be what the key holds unless an acknowledged write W started after V settled:
   * W then committed after V did and replaced it. In-flight writes are not expected (verification
   * runs between crash() and the next writes).
   */
  expectation(key: string): Expectation {
    const records = this.records(key);
    const acknowledged = records.filter((r) => r.outcome === 'acknowledged');
    const allowed = records.filter(
      (v) =>
        v.outcome !== 'in-flight' &&
        !acknowledged.some((w) => w !== v && v.settledAt !== undefined && w.startedAt > v.settledAt),
    );
    return { mustExist: acknowledged.length > 0, allowed };
  }

  /**
   * Verification after a restart saw `observed` (or no object): that is now the durable state, so
   * it replaces the key's history. Any later read must show it or a later write.
   */
  settle(key: string, observed: WriteRecord | undefined): void {
    if (observed === undefined) {
      this.#byKey.delete(key);
      return;
    }
    const at = this.now();
    this.#byKey.set(key, [{ ...observed, outcome: 'acknowledged', startedAt: at, settledAt: at }]);
  }

  describe(key: string): string {
    return this.records(key)
      .map(
        (r) =>
          `#${r.id} ${r.kind} ${r.outcome} size=${r.size} sha256=${r.sha256.slice(0, 16)}… ` +
          `started@${r.startedAt} settled@${r.settledAt ?? '-'}`,
      )
      .join('\n    ');
  }
}

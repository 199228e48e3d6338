import type { EvidenceArchive } from '../../domain/evidence/evidence-archive.js';
import type { JobRunHistory } from './job-run.js';

/**
 * Keeps each evidence record twice: first in the job history (durable before anything else, so
 * a record exists even while the vault cannot take it), then write-once and compliance-locked in
 * the evidence archive. A record the archive did not take is retried by `retryPending` (the
 * scheduler's tick) until it does; the archive's own contract makes a retried write harmless.
 */
export class EvidenceRecorder {
  readonly #history: JobRunHistory;
  readonly #archive: EvidenceArchive;
  readonly #onError: (error: unknown) => void;
  #retrying: Promise<void> | undefined;

  constructor(history: JobRunHistory, archive: EvidenceArchive, onError: (error: unknown) => void) {
    this.#history = history;
    this.#archive = archive;
    this.#onError = onError;
  }

  /** Resolves once both copies are kept (or the archive copy failed and awaits a retry). */
  async record(kind: string, id: string, job: string, outcome: string, recordedMs: number, record: { readonly [key: string]: unknown }): Promise<void> {
    this.#history.putEvidence({ kind, id, job, outcome, recordedMs, record: JSON.stringify(record) });
    await this.#archiveOne(kind, id, record);
  }

  retryPending(): Promise<void> {
    this.#retrying ??= (async () => {
      for (const pending of this.#history.unarchivedEvidence(50)) await this.#archiveOne(pending.kind, pending.id, JSON.parse(pending.record) as Record<string, unknown>);
    })().finally(() => (this.#retrying = undefined));
    return this.#retrying;
  }

  async #archiveOne(kind: string, id: string, record: { readonly [key: string]: unknown }): Promise<void> {
    try {
      const stored = await this.#archive.put(kind, id, record);
      this.#history.markEvidenceArchived(kind, id, stored.location);
    } catch (error) {
      this.#onError(error);
    }
  }
}

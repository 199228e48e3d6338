import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDirectory } from '../../../infra/fs/sync-directory.js';
import { writeFileAtomically } from '../../../infra/fs/write-file-atomically.js';
import type { ScratchTarget } from './scratch-target.js';

/** A drill that has begun and not yet left its record: what to report and tear down if the process dies under it. */
export interface DrillInProgress {
  readonly id: string;
  readonly job: string;
  readonly trigger: 'schedule' | 'manual';
  readonly startedMs: number;
  /** Every scratch target the drill was about to create, in order. */
  readonly targets: readonly ScratchTarget[];
}

/**
 * The drills in progress, kept where a crash cannot lose them. A drill is written here before it
 * starts, and each scratch target before it is created (so a crash between the two leaves at
 * worst a teardown of something that does not exist, never a target nobody knows of); it is
 * removed once the drill's record is kept. Whatever is here at start-up was cut off: it becomes
 * an `interrupted` record and its targets are torn down.
 *
 * Writes MUST be durable before they return.
 */
export interface DrillJournal {
  begin(drill: Omit<DrillInProgress, 'targets'>): Promise<void>;
  addTarget(id: string, target: ScratchTarget): Promise<void>;
  end(id: string): Promise<void>;
  leftovers(): Promise<DrillInProgress[]>;
}

/** One JSON file per drill in progress (`DATA/metadata/drills-in-progress/ID.json`), each written atomically and synced. */
export class FileDrillJournal implements DrillJournal {
  readonly #dir: string;
  readonly #open = new Map<string, DrillInProgress>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  async begin(drill: Omit<DrillInProgress, 'targets'>): Promise<void> {
    const entry = { ...drill, targets: [] };
    await this.#write(entry);
    this.#open.set(drill.id, entry);
  }

  async addTarget(id: string, target: ScratchTarget): Promise<void> {
    const entry = this.#open.get(id);
    if (entry === undefined) throw new Error(`drill ${id} is not in the journal`);
    const next = { ...entry, targets: [...entry.targets, target] };
    await this.#write(next);
    this.#open.set(id, next);
  }

  async end(id: string): Promise<void> {
    this.#open.delete(id);
    await unlink(this.#path(id)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await syncDirectory(this.#dir).catch(() => undefined);
  }

  async leftovers(): Promise<DrillInProgress[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const found: DrillInProgress[] = [];
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
      found.push(JSON.parse(await readFile(join(this.#dir, name), 'utf8')) as DrillInProgress);
    }
    return found;
  }

  async #write(entry: DrillInProgress): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const bytes = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    await writeFileAtomically(this.#path(entry.id), (out) => pipeline(Readable.from([bytes]), out));
  }

  #path(id: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`"${id}" is not a drill id`);
    return join(this.#dir, `${id}.json`);
  }
}

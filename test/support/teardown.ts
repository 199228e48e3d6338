import { rm } from 'node:fs/promises';

/**
 * What a test started, undone in reverse order when it ends (servers after the clusters that
 * use them, directories last): `const teardown = new Teardown(); after(() => teardown.run())`.
 * Every step runs even if one fails; the first failure is reported after all have run.
 */
export class Teardown {
  readonly #steps: (() => unknown)[] = [];

  add(step: () => unknown): void {
    this.#steps.push(step);
  }

  /** Removes `path` (recursively) at the end. */
  removeDir(path: string): void {
    // Retried: a detached worker (WAL prefetch) may still be writing into it for a moment.
    this.add(() => rm(path, { recursive: true, force: true, maxRetries: 10 }));
  }

  async run(): Promise<void> {
    let first: Error | undefined;
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        first ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    if (first !== undefined) throw first;
  }
}

/**
 * One queue per name, in this process: `run(name, work)` starts `work` once every earlier call
 * with the same name has settled (whatever its outcome), and resolves or rejects as `work` does.
 * A name's entry is dropped once its last call settles, so the map holds only names in use.
 */
export class NamedQueues {
  readonly #last = new Map<string, Promise<void>>();

  run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const run = (this.#last.get(name) ?? Promise.resolve()).then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#last.set(name, settled);
    void settled.then(() => {
      if (this.#last.get(name) === settled) this.#last.delete(name);
    });
    return run;
  }
}

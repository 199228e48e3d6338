/**
 * The children of one metric, one per distinct tuple of label values, with a hard cap on how
 * many exist. Label values often come from requests (an operation name, a status code); if an
 * attacker could make each request carry a new value, an unbounded table would grow until the
 * process runs out of memory. Past the cap — or for a value longer than allowed — `resolve`
 * returns undefined and the caller drops the update (and counts the drop).
 *
 * Lookup walks one Map per label, so tuples never need a joined string key (which could collide
 * when a value contains the separator) and a hit allocates nothing.
 */
export class BoundedLabelSets<C> {
  readonly #labelCount: number;
  readonly #maxSets: number;
  readonly #maxValueLength: number;
  readonly #create: (labelValues: readonly string[]) => C;
  #root = new Map<string, unknown>();
  #children: C[] = [];

  constructor(options: {
    labelCount: number;
    maxSets: number;
    maxValueLength: number;
    create: (labelValues: readonly string[]) => C;
  }) {
    // A metric without labels has exactly one child and needs no table.
    if (options.labelCount < 1) throw new RangeError('BoundedLabelSets needs at least one label');
    this.#labelCount = options.labelCount;
    this.#maxSets = options.maxSets;
    this.#maxValueLength = options.maxValueLength;
    this.#create = options.create;
  }

  /** The child for these values, created on first use; undefined when the cap refuses it. */
  resolve(labelValues: readonly string[]): C | undefined {
    const last = this.#labelCount - 1;
    let level: Map<string, unknown> = this.#root;
    for (let i = 0; i < last; i++) {
      const next = level.get(labelValues[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) return this.#add(labelValues);
      level = next;
    }
    const child = level.get(labelValues[last]!) as C | undefined;
    return child ?? this.#add(labelValues);
  }

  /** Children in creation order. */
  get children(): readonly C[] {
    return this.#children;
  }

  get size(): number {
    return this.#children.length;
  }

  clear(): void {
    this.#root = new Map();
    this.#children = [];
  }

  #add(labelValues: readonly string[]): C | undefined {
    if (labelValues.length !== this.#labelCount) {
      throw new TypeError(`expected ${this.#labelCount} label values, got ${labelValues.length}`);
    }
    for (const value of labelValues) {
      if (typeof value !== 'string') throw new TypeError(`label values must be strings, got ${typeof value}`);
      if (value.length > this.#maxValueLength) return undefined;
    }
    if (this.#children.length >= this.#maxSets) return undefined;
    const values = Object.freeze([...labelValues]);
    const child = this.#create(values);
    let level = this.#root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i]!, next);
      }
      level = next;
    }
    level.set(values[values.length - 1]!, child);
    this.#children.push(child);
    return child;
  }
}

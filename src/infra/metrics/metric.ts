import { BoundedLabelSets } from './bounded-label-sets.js';
import { assertLabelNames, assertMetricName, formatLabelPairs } from './exposition.js';

/** Anything the registry can ask for exposition text at scrape time. */
export interface MetricsCollector {
  /** Every metric name this collector writes; the registry refuses a name registered twice. */
  readonly familyNames: readonly string[];
  /** Complete families (HELP, TYPE, samples) in the text format, each line ending in `\n`. */
  render(): string | Promise<string>;
}

/** One string per declared label name, in the same order. */
export type LabelValues<L extends readonly string[]> = { readonly [K in keyof L]: string };

export interface MetricSpec<L extends readonly string[]> {
  readonly name: string;
  readonly help: string;
  /** Declared up front; every update names a value for each, in this order. */
  readonly labelNames?: L;
}

/** What the registry hands each metric: the cardinality caps and where dropped updates are counted. */
export interface MetricLimits {
  readonly maxLabelSets: number;
  readonly maxLabelValueLength: number;
  /** Called once per update that was dropped because its label set was refused. */
  readonly onDroppedUpdate: () => void;
}

/**
 * A metric family with declared labels and one child per label set. `labels(...)` resolves the
 * child once (cache it on hot paths); updates on the child are then a field update. A label set
 * refused by the cap resolves to the `dropping` child, whose updates only count the drop.
 */
export abstract class Metric<L extends readonly string[], C> implements MetricsCollector {
  readonly name: string;
  readonly help: string;
  readonly labelNames: L;
  readonly #single: C | undefined;
  readonly #sets: BoundedLabelSets<C> | undefined;
  readonly #dropping: C;

  protected constructor(
    spec: MetricSpec<L>,
    limits: MetricLimits,
    child: { create: (labelPairs: string) => C; dropping: C; reservedLabels?: readonly string[] },
  ) {
    assertMetricName(spec.name);
    const labelNames = spec.labelNames ?? ([] as readonly string[] as L);
    assertLabelNames(spec.name, labelNames, child.reservedLabels);
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = Object.freeze([...labelNames]) as readonly string[] as L;
    this.#dropping = child.dropping;
    if (labelNames.length === 0) {
      this.#single = child.create('');
    } else {
      this.#sets = new BoundedLabelSets({
        labelCount: labelNames.length,
        maxSets: limits.maxLabelSets,
        maxValueLength: limits.maxLabelValueLength,
        create: (values) => child.create(formatLabelPairs(labelNames, values)),
      });
    }
  }

  /** The child for these label values: created on first use, then the same object every time. */
  labels(...labelValues: LabelValues<L>): C {
    if (this.#single !== undefined) return this.#single;
    return this.#sets!.resolve(labelValues) ?? this.#dropping;
  }

  get familyNames(): readonly string[] {
    return [this.name];
  }

  abstract render(): string | Promise<string>;

  /** Children in creation order (the single child of a metric without labels). */
  protected get children(): readonly C[] {
    return this.#single !== undefined ? [this.#single] : this.#sets!.children;
  }

  /** Forgets every label set, e.g. before a collect callback sets the current ones. */
  protected clearChildren(): void {
    this.#sets?.clear();
  }
}

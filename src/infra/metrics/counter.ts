import { formatFamilyHeader, formatSample } from './exposition.js';
import { Metric, type MetricLimits, type MetricSpec } from './metric.js';

/** One label set of a counter: a value that only goes up (it resets only when the process restarts). */
export class CounterChild {
  readonly labelPairs: string;
  #value = 0;

  constructor(labelPairs: string) {
    this.labelPairs = labelPairs;
  }

  /** Adds `amount` (default 1); a negative, NaN or infinite amount is a programming error. */
  inc(amount = 1): void {
    if (!(amount >= 0 && amount < Infinity)) throw new RangeError(`a counter can only grow by a finite amount >= 0, not ${amount}`);
    this.#value += amount;
  }

  get value(): number {
    return this.#value;
  }
}

/** Stands in for a label set refused by the cardinality cap: each update is only counted as dropped. */
class DroppingCounterChild extends CounterChild {
  readonly #onDroppedUpdate: () => void;
  constructor(onDroppedUpdate: () => void) {
    super('');
    this.#onDroppedUpdate = onDroppedUpdate;
  }
  override inc(): void {
    this.#onDroppedUpdate();
  }
}

/**
 * A Prometheus counter. Names end in `_total`, as the Prometheus naming conventions ask
 * (https://prometheus.io/docs/practices/naming/), so a dashboard can tell a rate() from a level.
 */
export class Counter<L extends readonly string[] = readonly []> extends Metric<L, CounterChild> {
  constructor(spec: MetricSpec<L>, limits: MetricLimits) {
    if (!spec.name.endsWith('_total')) throw new Error(`counter ${spec.name}: counter names end in _total`);
    super(spec, limits, {
      create: (labelPairs) => new CounterChild(labelPairs),
      dropping: new DroppingCounterChild(limits.onDroppedUpdate),
    });
  }

  /** For a counter without labels: adds to its only child. */
  inc(this: Counter, amount?: number): void {
    this.labels().inc(amount);
  }

  render(): string {
    let text = formatFamilyHeader(this.name, this.help, 'counter');
    for (const child of this.children) text += formatSample(this.name, child.labelPairs, child.value);
    return text;
  }
}

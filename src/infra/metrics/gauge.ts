import { formatFamilyHeader, formatSample } from './exposition.js';
import { Metric, type MetricLimits, type MetricSpec } from './metric.js';

/** One label set of a gauge: a level that can go up and down. */
export class GaugeChild {
  readonly labelPairs: string;
  #value = 0;

  constructor(labelPairs: string) {
    this.labelPairs = labelPairs;
  }

  set(value: number): void {
    this.#value = value;
  }

  inc(amount = 1): void {
    this.#value += amount;
  }

  dec(amount = 1): void {
    this.#value -= amount;
  }

  get value(): number {
    return this.#value;
  }
}

/** Stands in for a label set refused by the cardinality cap: each update is only counted as dropped. */
class DroppingGaugeChild extends GaugeChild {
  readonly #onDroppedUpdate: () => void;
  constructor(onDroppedUpdate: () => void) {
    super('');
    this.#onDroppedUpdate = onDroppedUpdate;
  }
  override set(): void {
    this.#onDroppedUpdate();
  }
  override inc(): void {
    this.#onDroppedUpdate();
  }
  override dec(): void {
    this.#onDroppedUpdate();
  }
}

export interface GaugeSpec<L extends readonly string[]> extends MetricSpec<L> {
  /**
   * Computes the values at scrape time (e.g. objects under retention, read from the metadata
   * store). It runs before every render of this gauge; to drop label sets that no longer exist
   * (a deleted bucket), call `gauge.reset()` first and then set the current ones. If it throws,
   * the registry leaves this gauge out of that scrape and counts the failure.
   */
  readonly collect?: (gauge: Gauge<L>) => void | Promise<void>;
}

/** A Prometheus gauge, set directly or computed at scrape time by a collect callback. */
export class Gauge<L extends readonly string[] = readonly []> extends Metric<L, GaugeChild> {
  readonly #collect: ((gauge: Gauge<L>) => void | Promise<void>) | undefined;

  constructor(spec: GaugeSpec<L>, limits: MetricLimits) {
    super(spec, limits, {
      create: (labelPairs) => new GaugeChild(labelPairs),
      dropping: new DroppingGaugeChild(limits.onDroppedUpdate),
    });
    this.#collect = spec.collect;
  }

  /** True when values are computed by a collect callback, which may fail at scrape time. */
  get hasCollectCallback(): boolean {
    return this.#collect !== undefined;
  }

  set(this: Gauge, value: number): void {
    this.labels().set(value);
  }

  inc(this: Gauge, amount?: number): void {
    this.labels().inc(amount);
  }

  dec(this: Gauge, amount?: number): void {
    this.labels().dec(amount);
  }

  /** Forgets every label set (a gauge without labels goes back to 0). */
  reset(): void {
    this.clearChildren();
    if (this.labelNames.length === 0) for (const child of this.children) child.set(0);
  }

  render(): string | Promise<string> {
    if (this.#collect === undefined) return this.#text();
    const pending = this.#collect(this);
    return pending instanceof Promise ? pending.then(() => this.#text()) : this.#text();
  }

  #text(): string {
    let text = formatFamilyHeader(this.name, this.help, 'gauge');
    for (const child of this.children) text += formatSample(this.name, child.labelPairs, child.value);
    return text;
  }
}

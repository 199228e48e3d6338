import { Counter, type CounterChild } from './counter.js';
import { Gauge, type GaugeSpec } from './gauge.js';
import { Histogram, type HistogramSpec } from './histogram.js';
import type { MetricLimits, MetricSpec, MetricsCollector } from './metric.js';

export interface MetricsRegistryOptions {
  /** Distinct label sets one metric may hold; further ones are dropped and counted. Default 2000. */
  readonly maxLabelSetsPerMetric?: number;
  /** Longer label values are treated like a refused label set. Default 256 characters. */
  readonly maxLabelValueLength?: number;
  /** Told when a collector fails at scrape time (the scrape still answers, without its families). */
  readonly onCollectError?: (collector: string, error: unknown) => void;
}

export const DEFAULT_MAX_LABEL_SETS_PER_METRIC = 2000;
export const DEFAULT_MAX_LABEL_VALUE_LENGTH = 256;

const OVERFLOW_METRIC = 'holdfast_metrics_label_overflow_total';
const COLLECT_ERRORS_METRIC = 'holdfast_metrics_collect_errors_total';

/**
 * The set of metrics one process exposes, rendered on scrape in the Prometheus text format.
 * Creating a metric registers it; a name can be registered once. The registry exposes two
 * metrics about itself: updates dropped because a metric reached its label-set cap (per metric),
 * and collectors that failed at scrape time.
 */
export class MetricsRegistry {
  readonly #maxLabelSets: number;
  readonly #maxLabelValueLength: number;
  readonly #onCollectError: (collector: string, error: unknown) => void;
  readonly #collectors: MetricsCollector[] = [];
  readonly #names = new Set<string>();
  readonly #labelOverflow: Counter<readonly ['metric']>;
  readonly #collectErrors: Counter<readonly ['collector']>;
  #rendering: Promise<string> | undefined;

  constructor(options: MetricsRegistryOptions = {}) {
    this.#maxLabelSets = positiveInteger('maxLabelSetsPerMetric', options.maxLabelSetsPerMetric ?? DEFAULT_MAX_LABEL_SETS_PER_METRIC);
    this.#maxLabelValueLength = positiveInteger('maxLabelValueLength', options.maxLabelValueLength ?? DEFAULT_MAX_LABEL_VALUE_LENGTH);
    this.#onCollectError = options.onCollectError ?? (() => {});
    // Both are labelled by names of registered metrics and collectors: the code bounds them, not the cap.
    const unbounded: MetricLimits = { maxLabelSets: Number.MAX_SAFE_INTEGER, maxLabelValueLength: Number.MAX_SAFE_INTEGER, onDroppedUpdate: () => {} };
    this.#labelOverflow = new Counter(
      {
        name: OVERFLOW_METRIC,
        help: 'Metric updates dropped because the metric already had the maximum number of distinct label sets.',
        labelNames: ['metric'],
      },
      unbounded,
    );
    this.#collectErrors = new Counter(
      { name: COLLECT_ERRORS_METRIC, help: 'Scrapes in which a collector failed and its metrics were left out.', labelNames: ['collector'] },
      unbounded,
    );
    for (const own of [this.#labelOverflow, this.#collectErrors]) this.#names.add(own.name);
  }

  counter<const L extends readonly string[] = readonly []>(spec: MetricSpec<L>): Counter<L> {
    return this.#addMetric(new Counter(spec, this.#limitsFor(spec)));
  }

  gauge<const L extends readonly string[] = readonly []>(spec: GaugeSpec<L>): Gauge<L> {
    const gauge = new Gauge(spec, this.#limitsFor(spec));
    this.#addMetric(gauge);
    if (gauge.hasCollectCallback) this.#collectErrors.labels(gauge.name);
    return gauge;
  }

  histogram<const L extends readonly string[] = readonly []>(spec: HistogramSpec<L>): Histogram<L> {
    return this.#addMetric(new Histogram(spec, this.#limitsFor(spec)));
  }

  /** Adds a collector that writes its own families (e.g. the process collector). */
  register<T extends MetricsCollector>(collector: T): T {
    const name = collector.familyNames[0];
    if (name === undefined) throw new Error('a collector must name at least one metric family');
    this.#add(collector);
    this.#collectErrors.labels(name);
    return collector;
  }

  /**
   * The exposition text of every registered metric. Scrapes that arrive while one is being
   * rendered share its result, so concurrent scrapes cannot interleave collect callbacks or
   * multiply the load they put on the store.
   */
  render(): Promise<string> {
    this.#rendering ??= this.#renderAll().finally(() => {
      this.#rendering = undefined;
    });
    return this.#rendering;
  }

  async #renderAll(): Promise<string> {
    const parts = await Promise.all(
      this.#collectors.map(async (collector) => {
        try {
          return await collector.render();
        } catch (error) {
          const name = collector.familyNames[0]!;
          this.#collectErrors.labels(name).inc();
          this.#onCollectError(name, error);
          return '';
        }
      }),
    );
    // Last, so they include what this very scrape counted.
    return parts.join('') + this.#labelOverflow.render() + this.#collectErrors.render();
  }

  #limitsFor(spec: MetricSpec<readonly string[]>): MetricLimits {
    let overflow: CounterChild | undefined;
    return {
      maxLabelSets: this.#maxLabelSets,
      maxLabelValueLength: this.#maxLabelValueLength,
      // Resolved on the first drop, then one counter increment per dropped update.
      onDroppedUpdate: () => (overflow ??= this.#labelOverflow.labels(spec.name)).inc(),
    };
  }

  /** Registers a metric; one with labels starts its overflow count at 0, so alerts see every increase. */
  #addMetric<T extends MetricsCollector & { readonly name: string; readonly labelNames: readonly string[] }>(metric: T): T {
    this.#add(metric);
    if (metric.labelNames.length > 0) this.#labelOverflow.labels(metric.name);
    return metric;
  }

  #add<T extends MetricsCollector>(collector: T): T {
    for (const name of collector.familyNames) {
      if (this.#names.has(name)) throw new Error(`metric ${name} is already registered`);
    }
    for (const name of collector.familyNames) this.#names.add(name);
    this.#collectors.push(collector);
    return collector;
  }
}

function positiveInteger(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${option} must be a whole number >= 1, not ${value}`);
  return value;
}

import { formatFamilyHeader, formatSample, formatSampleValue } from './exposition.js';
import { Metric, type MetricLimits, type MetricSpec } from './metric.js';

/**
 * Default buckets for request latency in seconds. An S3 server answers a HEAD from cache in well
 * under a millisecond and may spend tens of seconds streaming a large PUT, so the buckets run
 * from 0.5 ms to 30 s, roughly ×2–2.5 apart.
 */
export const DEFAULT_LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

/** One label set of a histogram. */
export class HistogramChild {
  readonly labelPairs: string;
  readonly #upperBounds: Float64Array;
  /** Non-cumulative: [i] counts observations in (bound[i-1], bound[i]]; the last slot is above every bound. */
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(labelPairs: string, upperBounds: readonly number[]) {
    this.labelPairs = labelPairs;
    // A typed array keeps the scan in observe() on unboxed doubles.
    this.#upperBounds = Float64Array.from(upperBounds);
    this.#counts = new Float64Array(upperBounds.length + 1);
  }

  /** Records one observation; a bucket's `le` bound is inclusive. NaN is a programming error. */
  observe(value: number): void {
    if (Number.isNaN(value)) throw new RangeError('cannot observe NaN');
    const bounds = this.#upperBounds;
    let i = 0;
    // A linear scan beats a binary search for ~15 bounds, and fast requests stop early.
    while (i < bounds.length && value > bounds[i]!) i++;
    this.#counts[i]!++;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  /** Cumulative counts per upper bound, as exposed in `_bucket{le=...}`, ending with +Inf. */
  cumulativeCounts(): number[] {
    const cumulative: number[] = [];
    let running = 0;
    for (const n of this.#counts) cumulative.push((running += n));
    return cumulative;
  }
}

/** Stands in for a label set refused by the cardinality cap: each update is only counted as dropped. */
class DroppingHistogramChild extends HistogramChild {
  readonly #onDroppedUpdate: () => void;
  constructor(onDroppedUpdate: () => void) {
    super('', []);
    this.#onDroppedUpdate = onDroppedUpdate;
  }
  override observe(): void {
    this.#onDroppedUpdate();
  }
}

export interface HistogramSpec<L extends readonly string[]> extends MetricSpec<L> {
  /** Upper bounds, strictly increasing and finite; +Inf is always added. Default: latency in seconds. */
  readonly buckets?: readonly number[];
}

function checkedBuckets(name: string, buckets: readonly number[]): readonly number[] {
  const bounds = buckets.at(-1) === Infinity ? buckets.slice(0, -1) : [...buckets];
  if (bounds.length === 0) throw new Error(`histogram ${name}: give at least one finite bucket bound`);
  bounds.forEach((bound, i) => {
    if (!Number.isFinite(bound)) throw new Error(`histogram ${name}: bucket bound ${bound} is not finite (+Inf is implicit)`);
    if (i > 0 && bound <= bounds[i - 1]!) throw new Error(`histogram ${name}: bucket bounds must strictly increase (${bounds[i - 1]} then ${bound})`);
  });
  return Object.freeze(bounds);
}

/**
 * A Prometheus histogram: per label set, cumulative `_bucket{le=...}` counts ending with
 * `le="+Inf"`, then `_sum` and `_count`.
 */
export class Histogram<L extends readonly string[] = readonly []> extends Metric<L, HistogramChild> {
  readonly upperBounds: readonly number[];
  readonly #leValues: readonly string[];

  constructor(spec: HistogramSpec<L>, limits: MetricLimits) {
    const upperBounds = checkedBuckets(spec.name, spec.buckets ?? DEFAULT_LATENCY_BUCKETS_SECONDS);
    super(spec, limits, {
      create: (labelPairs) => new HistogramChild(labelPairs, upperBounds),
      dropping: new DroppingHistogramChild(limits.onDroppedUpdate),
      // `le` carries the bucket bound in the exposition, so it cannot be a user label.
      reservedLabels: ['le'],
    });
    this.upperBounds = upperBounds;
    this.#leValues = [...upperBounds.map(formatSampleValue), '+Inf'];
  }

  override get familyNames(): readonly string[] {
    return [this.name, `${this.name}_bucket`, `${this.name}_sum`, `${this.name}_count`];
  }

  /** For a histogram without labels: observes into its only child. */
  observe(this: Histogram, value: number): void {
    this.labels().observe(value);
  }

  render(): string {
    let text = formatFamilyHeader(this.name, this.help, 'histogram');
    const bucketName = `${this.name}_bucket`;
    for (const child of this.children) {
      const prefix = child.labelPairs === '' ? '' : `${child.labelPairs},`;
      const cumulative = child.cumulativeCounts();
      for (let i = 0; i < cumulative.length; i++) {
        text += formatSample(bucketName, `${prefix}le="${this.#leValues[i]}"`, cumulative[i]!);
      }
      text += formatSample(`${this.name}_sum`, child.labelPairs, child.sum);
      text += formatSample(`${this.name}_count`, child.labelPairs, child.count);
    }
    return text;
  }
}

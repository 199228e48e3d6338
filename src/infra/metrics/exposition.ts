/**
 * The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details):
 * one sample per line, `# HELP` and `# TYPE` once per family before its samples, UTF-8, `\n`
 * line endings, and a final newline.
 */

/** The Content-Type of a scrape answer in this format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Throws when `name` is not a legal metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
export function assertMetricName(name: string): void {
  if (!METRIC_NAME.test(name)) throw new Error(`"${name}" is not a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`);
}

/**
 * Throws when a label name is illegal, reserved (names starting with `__` belong to Prometheus
 * itself) or repeated, or when it is one of `reserved` (`le` for histograms).
 */
export function assertLabelNames(metric: string, labelNames: readonly string[], reserved: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith('__')) {
      throw new Error(`${metric}: "${label}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`);
    }
    if (reserved.includes(label)) throw new Error(`${metric}: the label name "${label}" is reserved for this metric type`);
    if (seen.has(label)) throw new Error(`${metric}: label "${label}" is declared twice`);
    seen.add(label);
  }
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : value;
}

/** HELP text escapes backslash and line feed only (a double quote stays as it is). */
export function escapeHelp(help: string): string {
  return /[\\\n]/.test(help) ? help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\')) : help;
}

/** Sample values are Go floats: `NaN`, `+Inf`, `-Inf`, or a number such as `0.0005` or `1e+21`. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `a="x",b="y"` (no braces), for names and values in the same order. */
export function formatLabelPairs(labelNames: readonly string[], labelValues: readonly string[]): string {
  let pairs = '';
  for (let i = 0; i < labelNames.length; i++) {
    pairs += `${i === 0 ? '' : ','}${labelNames[i]}="${escapeLabelValue(labelValues[i] ?? '')}"`;
  }
  return pairs;
}

/** The `# HELP` and `# TYPE` lines that open a family. */
export function formatFamilyHeader(name: string, help: string, type: MetricType): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
}

/** One sample line; `labelPairs` as built by {@link formatLabelPairs}, '' for none. */
export function formatSample(name: string, labelPairs: string, value: number): string {
  return labelPairs === '' ? `${name} ${formatSampleValue(value)}\n` : `${name}{${labelPairs}} ${formatSampleValue(value)}\n`;
}

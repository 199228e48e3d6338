/**
 * A strict parser of the Prometheus text format 0.0.4, written from the spec
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details) and
 * independent of the renderer, so tests compare what a scraper would read rather than strings.
 * It throws on anything a scraper would reject or misread.
 */
export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedFamily {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const HELP_LINE = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);

function unescape(text: string, allowQuote: boolean): string {
  return text.replace(/\\(.)/g, (whole, c: string) => {
    if (c === 'n') return '\n';
    if (c === '\\' || (allowQuote && c === '"')) return c;
    throw new Error(`invalid escape ${whole}`);
  });
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"(,|$)/y;
  let at = 0;
  while (at < text.length) {
    pair.lastIndex = at;
    const match = pair.exec(text);
    if (match === null) throw new Error(`malformed labels at "${text.slice(at)}"`);
    const [, key, raw] = match;
    if (key! in labels) throw new Error(`label ${key} repeated`);
    labels[key!] = unescape(raw!, true);
    at = pair.lastIndex;
  }
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`malformed value ${text}`);
  return Number(text);
}

function familyOf(sampleName: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  const direct = families.get(sampleName);
  if (direct !== undefined) return direct;
  const base = /^(.*)_(bucket|sum|count)$/.exec(sampleName)?.[1];
  const histogram = base === undefined ? undefined : families.get(base);
  return histogram?.type === 'histogram' ? histogram : undefined;
}

export function parseExposition(text: string): Map<string, ParsedFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the last line must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const helps = new Map<string, string>();
  let current: ParsedFamily | undefined;
  for (const line of text.split('\n').slice(0, -1)) {
    const help = HELP_LINE.exec(line);
    if (help !== null) {
      if (helps.has(help[1]!)) throw new Error(`second HELP for ${help[1]}`);
      helps.set(help[1]!, unescape(help[2]!, false));
      continue;
    }
    const type = TYPE_LINE.exec(line);
    if (type !== null) {
      if (families.has(type[1]!)) throw new Error(`second TYPE for ${type[1]}`);
      current = { name: type[1]!, help: helps.get(type[1]!) ?? '', type: type[2]!, samples: [] };
      families.set(current.name, current);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (sample === null) throw new Error(`unparseable line: ${JSON.stringify(line)}`);
    const family = familyOf(sample[1]!, families);
    if (family === undefined || family !== current) throw new Error(`sample ${sample[1]} outside its family's block`);
    family.samples.push({ name: sample[1]!, labels: parseLabels(sample[2] ?? ''), value: parseValue(sample[3]!) });
  }
  for (const name of helps.keys()) if (!families.has(name)) throw new Error(`HELP without TYPE for ${name}`);
  return families;
}

/** The value of the one sample of `family` named `name` whose labels equal `labels`. */
export function sampleValue(families: Map<string, ParsedFamily>, family: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = families.get(family)?.samples.filter(
    (s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (matches === undefined || matches.length === 0) return undefined;
  if (matches.length > 1) throw new Error(`${matches.length} samples ${name} with labels ${JSON.stringify(labels)}`);
  return matches[0]!.value;
}

import type { Severity } from '../severity.js';

/**
 * The CVSS v3.0/v3.1 base score from a vector string, per the FIRST specification
 * (https://www.first.org/cvss/v3.1/specification-document §7.1 formulas, §7.4 metric values,
 * Appendix A Roundup, §5 qualitative ratings). v3.0 vectors use the same formulas; v3.1 only
 * changed Roundup to avoid floating-point surprises, which this implementation uses for both.
 */
export interface CvssV3Score {
  readonly vector: string;
  readonly version: '3.0' | '3.1';
  readonly baseScore: number;
  /** §5: 0.1–3.9 low, 4.0–6.9 medium, 7.0–8.9 high, 9.0–10.0 critical; 0.0 is "none". */
  readonly rating: Severity | 'none';
}

const WEIGHTS = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
} as const;
/** Privileges Required weighs more when the scope changes (§7.4). */
const PRIVILEGES = { U: { N: 0.85, L: 0.62, H: 0.27 }, C: { N: 0.85, L: 0.68, H: 0.5 } } as const;
const BASE_METRICS = ['AV', 'AC', 'PR', 'UI', 'S', 'C', 'I', 'A'] as const;

/** Appendix A: the smallest number, to one decimal place, that is equal to or higher than its input. */
function roundUp(value: number): number {
  const integer = Math.round(value * 100_000);
  return integer % 10_000 === 0 ? integer / 100_000 : (Math.floor(integer / 10_000) + 1) / 10;
}

export function cvssRating(score: number): Severity | 'none' {
  if (score === 0) return 'none';
  if (score < 4) return 'low';
  if (score < 7) return 'medium';
  if (score < 9) return 'high';
  return 'critical';
}

function weight<T extends Record<string, number>>(table: T, value: string | undefined): number | undefined {
  return value !== undefined && Object.hasOwn(table, value) ? table[value as keyof T] : undefined;
}

/** The base score, or undefined for a string that is not a complete, valid v3 vector. */
export function cvssV3BaseScore(vector: string): CvssV3Score | undefined {
  const [prefix, ...parts] = vector.trim().split('/');
  const version = prefix === 'CVSS:3.1' ? '3.1' : prefix === 'CVSS:3.0' ? '3.0' : undefined;
  if (version === undefined) return undefined;
  const metrics = new Map<string, string>();
  for (const part of parts) {
    const [key, value, extra] = part.split(':');
    if (key === undefined || value === undefined || extra !== undefined || metrics.has(key)) return undefined;
    metrics.set(key, value);
  }
  if (BASE_METRICS.some((metric) => !metrics.has(metric))) return undefined;
  const scope = metrics.get('S');
  if (scope !== 'U' && scope !== 'C') return undefined;
  const av = weight(WEIGHTS.AV, metrics.get('AV'));
  const ac = weight(WEIGHTS.AC, metrics.get('AC'));
  const pr = weight(PRIVILEGES[scope], metrics.get('PR'));
  const ui = weight(WEIGHTS.UI, metrics.get('UI'));
  const c = weight(WEIGHTS.C, metrics.get('C'));
  const i = weight(WEIGHTS.I, metrics.get('I'));
  const a = weight(WEIGHTS.A, metrics.get('A'));
  if (av === undefined || ac === undefined || pr === undefined || ui === undefined || c === undefined || i === undefined || a === undefined) return undefined;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = scope === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const exploitability = 8.22 * av * ac * pr * ui;
  const baseScore = impact <= 0 ? 0 : scope === 'U' ? roundUp(Math.min(impact + exploitability, 10)) : roundUp(Math.min(1.08 * (impact + exploitability), 10));
  return { vector, version, baseScore, rating: cvssRating(baseScore) };
}

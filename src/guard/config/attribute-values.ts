import { createHash } from 'node:crypto';
import type { AttributeValue } from './config-item.js';

/**
 * Turns parsed input (JSON, YAML, Terraform values) into the contract's AttributeValue: object keys
 * sorted, `undefined` dropped, non-finite numbers as null. Arrays keep their order here — order
 * means something in a DNS TXT string list or a NACL — and the collectors call `attributeSet` where
 * an array is a set (CIDR blocks, actions), so equal configuration is byte-equal JSON.
 */
export function attributeValue(value: unknown): AttributeValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return Object.freeze(value.map(attributeValue));
  if (typeof value === 'object') {
    const out: Record<string, AttributeValue> = {};
    for (const key of Object.keys(value).sort()) {
      const entry = (value as Record<string, unknown>)[key];
      if (entry !== undefined) out[key] = attributeValue(entry);
    }
    return Object.freeze(out);
  }
  return JSON.stringify(value);
}

/** An object of attributes, normalized (see attributeValue). */
export function attributeRecord(value: Readonly<Record<string, unknown>>): { readonly [key: string]: AttributeValue } {
  return attributeValue(value) as { readonly [key: string]: AttributeValue };
}

/** A set: normalized members, duplicates removed, sorted by their JSON. */
export function attributeSet(values: readonly unknown[]): readonly AttributeValue[] {
  const byJson = new Map<string, AttributeValue>();
  for (const value of values) {
    const normalized = attributeValue(value);
    byJson.set(JSON.stringify(normalized), normalized);
  }
  return Object.freeze([...byJson.keys()].sort().map((key) => byJson.get(key)!));
}

/** A set of strings, sorted, without duplicates or empty strings. */
export function stringSet(values: readonly unknown[]): readonly string[] {
  return Object.freeze([...new Set(values.filter((value): value is string => typeof value === 'string' && value !== ''))].sort());
}

/** A value that may be one string or a list of them (IAM Action, Resource) as a sorted set. */
export function oneOrMany(value: unknown): readonly string[] {
  if (value === undefined || value === null) return [];
  return stringSet(Array.isArray(value) ? value.map((entry) => (typeof entry === 'string' ? entry : JSON.stringify(entry))) : [typeof value === 'string' ? value : JSON.stringify(value)]);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

/** Terraform nested blocks are lists of objects (`versioning = [{ enabled = true }]`); the first one, or undefined. */
export function firstBlock(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) return value.find(isRecord);
  return isRecord(value) ? value : undefined;
}

export function blocks(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter(isRecord);
  return isRecord(value) ? [value] : [];
}

/** Any parsed value as text for messages and evidence: scalars as themselves, structures as JSON. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint' || value === null) return String(value);
  return JSON.stringify(value);
}

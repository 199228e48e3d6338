import { createHash } from 'node:crypto';
import { type AttributeValue, type ConfigComponent, type ConfigItem, configItemKey } from '../../guard/config/config-item.js';

/**
 * Attribute-level differences between two sets of configuration items, paired by
 * (component, resourceId). Paths are JSON paths rooted at the item (`$.attributes.ingress[0].port`,
 * `$.kind`), so a reviewer sees which setting moved, not just that a resource did.
 *
 * Arrays are compared element by element when their lengths match; when the length changed the
 * whole array is reported at its path. Collectors emit sets as sorted arrays, so an index-wise
 * diff of a grown set would pair unrelated elements and mislead more than it helps.
 */

export type DifferenceKind = 'added' | 'removed' | 'changed';

export interface AttributeChange {
  readonly path: string;
  /** Absent when the path did not exist before. */
  readonly before?: AttributeValue;
  /** Absent when the path no longer exists. */
  readonly after?: AttributeValue;
}

export interface ItemDifference {
  /** `configItemKey` of the item. */
  readonly key: string;
  readonly component: ConfigComponent;
  readonly resourceId: string;
  readonly difference: DifferenceKind;
  /** The resource kind (after the change, or before it when removed). */
  readonly kind: string;
  readonly changes: readonly AttributeChange[];
}

/** Differences from `baseline` to `current`, sorted by component then resource id. */
export function diffItems(baseline: readonly ConfigItem[], current: readonly ConfigItem[]): ItemDifference[] {
  const before = new Map(baseline.map((item) => [configItemKey(item), item]));
  const after = new Map(current.map((item) => [configItemKey(item), item]));
  const differences: ItemDifference[] = [];
  for (const [key, item] of after) {
    const old = before.get(key);
    if (old === undefined) {
      differences.push({ key, component: item.component, resourceId: item.resourceId, difference: 'added', kind: item.kind, changes: [{ path: '$', after: comparable(item) }] });
      continue;
    }
    const changes = diffValues(comparable(old), comparable(item), '$');
    if (changes.length > 0) differences.push({ key, component: item.component, resourceId: item.resourceId, difference: 'changed', kind: item.kind, changes });
  }
  for (const [key, item] of before) {
    if (!after.has(key)) differences.push({ key, component: item.component, resourceId: item.resourceId, difference: 'removed', kind: item.kind, changes: [{ path: '$', before: comparable(item) }] });
  }
  return differences.sort((a, b) => compareText(a.component, b.component) || compareText(a.resourceId, b.resourceId));
}

/** The parts of an item that drift compares: `source` says where it was read, not what it is. */
export function comparable(item: Pick<ConfigItem, 'kind' | 'attributes'>): { readonly [key: string]: AttributeValue } {
  return { kind: item.kind, attributes: item.attributes };
}

export function diffValues(before: AttributeValue | undefined, after: AttributeValue | undefined, path: string): AttributeChange[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ path, after: after! }];
  if (after === undefined) return [{ path, before }];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareText);
    return keys.flatMap((key) => diffValues(before[key], after[key], childPath(path, key)));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((value: AttributeValue, i) => diffValues(value, (after as readonly AttributeValue[])[i], `${path}[${i}]`));
  }
  return canonicalJson(before) === canonicalJson(after) ? [] : [{ path, before, after }];
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function isObject(value: AttributeValue): value is { readonly [key: string]: AttributeValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** JSON with object members sorted by key, so equal configuration is equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort(compareText)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(',')}}`;
}

/**
 * SHA-256 of the items as drift compares them (component, resource id, kind, attributes; sorted
 * by key): two collections with the same digest have no drift between them.
 */
export function itemsDigest(items: readonly ConfigItem[]): string {
  const sorted = [...items].sort((a, b) => compareText(configItemKey(a), configItemKey(b)));
  const text = canonicalJson(sorted.map((i) => ({ component: i.component, resourceId: i.resourceId, kind: i.kind, attributes: i.attributes })));
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

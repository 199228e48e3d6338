import { type AttributeValue, CONFIG_COMPONENTS, type ConfigCollection, type ConfigComponent, type ConfigItem, configItemKey } from '../../guard/config/config-item.js';

/** Bounds on what a client may send, so one request cannot exhaust the server. */
export const MAX_COLLECTION_ITEMS = 50_000;
const MAX_DEPTH = 32;

/** A collection (or a change request's target) that does not have the documented shape. */
export class ConfigInputError extends Error {
  override readonly name = 'ConfigInputError';
}

/**
 * Checks a ConfigCollection that arrived as JSON (`holdfast config collect --out items.json`),
 * naming the first problem by its path. Two items with the same (component, resourceId) are
 * refused: drift pairs items by that key, so a duplicate would make the comparison ambiguous.
 */
export function parseConfigCollection(value: unknown): ConfigCollection {
  const root = record(value, '$');
  if (root['format'] !== 'holdfast-config-items/1') throw new ConfigInputError(`$.format must be "holdfast-config-items/1" (the output of \`holdfast config collect\`), got ${JSON.stringify(root['format'])}`);
  const collectedAt = text(root['collectedAt'], '$.collectedAt');
  if (Number.isNaN(Date.parse(collectedAt))) throw new ConfigInputError(`$.collectedAt must be an ISO 8601 time, got ${JSON.stringify(collectedAt)}`);
  const inputs = list(root['inputs'] ?? [], '$.inputs').map((input, i) => {
    const r = record(input, `$.inputs[${i}]`);
    const sha256 = r['sha256'];
    if (sha256 !== undefined && (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))) throw new ConfigInputError(`$.inputs[${i}].sha256 must be 64 lower-case hex digits`);
    return { kind: text(r['kind'], `$.inputs[${i}].kind`), location: text(r['location'], `$.inputs[${i}].location`), ...(sha256 === undefined ? {} : { sha256 }) };
  });
  const rawItems = list(root['items'], '$.items');
  if (rawItems.length > MAX_COLLECTION_ITEMS) throw new ConfigInputError(`$.items holds ${rawItems.length} items; at most ${MAX_COLLECTION_ITEMS} are accepted`);
  const seen = new Set<string>();
  const items = rawItems.map((raw, i) => {
    const item = parseConfigItem(raw, `$.items[${i}]`);
    const key = configItemKey(item);
    if (seen.has(key)) throw new ConfigInputError(`$.items[${i}] repeats ${item.component} ${item.resourceId}; each resource may appear once per collection`);
    seen.add(key);
    return item;
  });
  return { format: 'holdfast-config-items/1', collectedAt, inputs, items };
}

export function parseConfigItem(value: unknown, path: string): ConfigItem {
  const r = record(value, path);
  return {
    component: parseComponent(r['component'], `${path}.component`),
    resourceId: text(r['resourceId'], `${path}.resourceId`),
    kind: text(r['kind'], `${path}.kind`),
    source: typeof r['source'] === 'string' ? r['source'] : '',
    attributes: attributes(r['attributes'], `${path}.attributes`),
  };
}

export function parseComponent(value: unknown, path: string): ConfigComponent {
  if (typeof value !== 'string' || !(CONFIG_COMPONENTS as readonly string[]).includes(value)) {
    throw new ConfigInputError(`${path} must be one of ${CONFIG_COMPONENTS.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as ConfigComponent;
}

export function attributes(value: unknown, path: string): { readonly [key: string]: AttributeValue } {
  const r = record(value, path);
  return attributeValue(r, path, 0) as { readonly [key: string]: AttributeValue };
}

function attributeValue(value: unknown, path: string, depth: number): AttributeValue {
  if (depth > MAX_DEPTH) throw new ConfigInputError(`${path} nests deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ConfigInputError(`${path} must be a finite number`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v: unknown, i) => attributeValue(v, `${path}[${i}]`, depth + 1));
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, attributeValue(v, `${path}.${k}`, depth + 1)]));
  }
  throw new ConfigInputError(`${path} must be JSON (string, number, boolean, null, array or object)`);
}

export function record(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigInputError(`${path} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new ConfigInputError(`${path} must be a JSON array`);
  return value;
}

export function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigInputError(`${path} must be a non-empty string`);
  return value;
}

import { type ConfigItem, configItemKey } from '../../guard/config/config-item.js';
import { attributes, ConfigInputError, list, parseComponent, record, text } from './config-collection-input.js';
import { canonicalJson, comparable, compareText } from './config-diff.js';
import type { ChangeRequestRecord, DriftItem, ExpectedChange } from './config-guard-records.js';

const MAX_EXPECTED = 1000;

/**
 * The `--expect FILE` of a change request: the state each named resource will be in once the
 * change is made, e.g.
 *   {"changes": [{"component": "dns", "resourceId": "example.com./www/A",
 *                 "target": {"kind": "dns_record", "attributes": {"ttl": 300, "values": ["203.0.113.7"]}}},
 *                {"component": "network", "resourceId": "aws_security_group.old", "target": null}]}
 * A target state (rather than a patch) is what a reviewer can check against reality: drift is
 * covered only when the resource is exactly in the approved state.
 */
export function parseExpectedChanges(value: unknown): ExpectedChange[] {
  const root = record(value, '$');
  const changes = list(root['changes'], '$.changes');
  if (changes.length === 0) throw new ConfigInputError('$.changes is empty; a change request names at least one resource');
  if (changes.length > MAX_EXPECTED) throw new ConfigInputError(`$.changes holds ${changes.length} entries; at most ${MAX_EXPECTED}`);
  const seen = new Set<string>();
  return changes.map((raw, i) => {
    const path = `$.changes[${i}]`;
    const r = record(raw, path);
    const component = parseComponent(r['component'], `${path}.component`);
    const resourceId = text(r['resourceId'], `${path}.resourceId`);
    const key = configItemKey({ component, resourceId });
    if (seen.has(key)) throw new ConfigInputError(`${path} names ${component} ${resourceId} a second time`);
    seen.add(key);
    if (!('target' in r)) throw new ConfigInputError(`${path}.target is missing: give the resource's state after the change, or null to remove it`);
    if (r['target'] === null) return { component, resourceId, target: null };
    const t = record(r['target'], `${path}.target`);
    const source = t['source'];
    return {
      component,
      resourceId,
      target: { kind: text(t['kind'], `${path}.target.kind`), ...(typeof source === 'string' ? { source } : {}), attributes: attributes(t['attributes'], `${path}.target.attributes`) },
    };
  });
}

/** The baseline's items with the change made: targets replace, add or (null) remove items. */
export function applyExpectedChanges(items: readonly ConfigItem[], expected: readonly ExpectedChange[]): ConfigItem[] {
  const byKey = new Map(items.map((item) => [configItemKey(item), item]));
  for (const change of expected) {
    const key = configItemKey(change);
    if (change.target === null) {
      byKey.delete(key);
      continue;
    }
    byKey.set(key, { component: change.component, resourceId: change.resourceId, kind: change.target.kind, source: change.target.source ?? byKey.get(key)?.source ?? 'change-request', attributes: change.target.attributes });
  }
  return [...byKey.values()].sort((a, b) => compareText(configItemKey(a), configItemKey(b)));
}

/**
 * The approved (not yet applied) change request that explains one drift item: the current state
 * of the resource is exactly its target (or the resource is gone and the target is null). A
 * resource that moved somewhere other than where the request said stays unexplained.
 */
export function coveringChange(drift: Pick<DriftItem, 'key'>, current: ConfigItem | undefined, approved: readonly ChangeRequestRecord[]): string | undefined {
  for (const request of approved) {
    if (request.status !== 'approved') continue;
    const expected = request.expected.find((e) => configItemKey(e) === drift.key);
    if (expected === undefined) continue;
    if (expected.target === null ? current === undefined : current !== undefined && canonicalJson(comparable(current)) === canonicalJson(comparable(expected.target))) return request.id;
  }
  return undefined;
}

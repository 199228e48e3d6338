/**
 * A configuration item: one resource of the team's infrastructure, normalized so that two
 * collections of the same inputs compare equal and a change shows up as an attribute-level diff.
 *
 * This is the contract between the collectors (Terraform state, DNS zone files, environment
 * variable sets, images and manifests, live vault buckets, live PostgreSQL settings), the rules
 * that judge items against the Configuration Management Policy, and the baselines / drift /
 * change-request machinery that keeps a history of them.
 */

/** The policy's infrastructure components (its "Infrastructure Components" table), plus the database. */
export type ConfigComponent = 'container' | 'network' | 'dns' | 'storage' | 'iam' | 'environment' | 'database';

export const CONFIG_COMPONENTS: readonly ConfigComponent[] = ['container', 'network', 'dns', 'storage', 'iam', 'environment', 'database'];

/** Plain JSON; objects have their keys sorted and sets are sorted arrays, so equal config is equal JSON. */
export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [key: string]: AttributeValue };

export interface ConfigItem {
  readonly component: ConfigComponent;
  /**
   * Stable identity of the resource across collections, unique within its component, e.g.
   * `aws_security_group.web`, `example.com./www/A`, `.env:production/DATABASE_URL`,
   * `bucket:backups`, `postgresql:127.0.0.1:5432/ssl`. Drift pairs items by (component, resourceId).
   */
  readonly resourceId: string;
  /** The kind of resource within its component, e.g. `security_group`, `dns_record`, `s3_bucket`, `env_var`. */
  readonly kind: string;
  /** Where it was read from: a file path (relative to the collection root) or a live endpoint. Not compared. */
  readonly source: string;
  /** Normalized attributes; secret values never appear (environment values are SHA-256 fingerprints). */
  readonly attributes: { readonly [key: string]: AttributeValue };
}

/** The output of one collection run (`holdfast config collect --json`), the input of baselines and drift. */
export interface ConfigCollection {
  readonly format: 'holdfast-config-items/1';
  readonly collectedAt: string;
  /** What was read, for the evidence record: each input with its kind and, for files, SHA-256. */
  readonly inputs: readonly { readonly kind: string; readonly location: string; readonly sha256?: string }[];
  readonly items: readonly ConfigItem[];
}

/** The key that pairs an item across collections. */
export function configItemKey(item: Pick<ConfigItem, 'component' | 'resourceId'>): string {
  return `${item.component}\u0000${item.resourceId}`;
}

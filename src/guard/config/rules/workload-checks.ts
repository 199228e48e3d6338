import lists from '../../baseline/baseline-lists.json' with { type: 'json' };
import type { ConfigItem } from '../config-item.js';
import { isRecord, textOf } from '../attribute-values.js';
import { valueFingerprint } from '../collectors/env-collector.js';
import type { ConfigFinding } from './config-finding.js';
import { configFinding } from './config-rules.js';

/**
 * Containers (digest pinning, root), environment sets (default credentials, found by comparing
 * value fingerprints with the fingerprints of part 1's list of well-known defaults — the values
 * themselves are never collected), DNS (wildcard CNAMEs out of the zone) and PostgreSQL (trust
 * authentication, TLS off, MD5 password hashing).
 */
const PASSWORD_NAME = new RegExp(lists.defaultCredentials.passwordNamePattern, 'i');

function variants(value: string): string[] {
  return [value, value.toLowerCase(), value.toUpperCase(), value.charAt(0).toUpperCase() + value.slice(1).toLowerCase()];
}

/** fingerprint → the default it is, for credential-named variables; per variable for image-documented defaults. */
const GENERIC_DEFAULTS = new Map<string, string>([...lists.defaultCredentials.values, ...lists.defaultCredentials.pairs].flatMap((value) => variants(value).map((variant) => [valueFingerprint(variant), value] as [string, string])));
const VARIABLE_DEFAULTS = new Map<string, Map<string, string>>(lists.defaultCredentials.variables.map((entry) => [entry.name, new Map(entry.values.flatMap((value) => variants(value).map((variant) => [valueFingerprint(variant), value] as [string, string])))]));

/** The well-known default a fingerprint stands for, when `name` is a credential variable; else undefined. */
export function defaultCredentialFor(name: string, fingerprint: string): string | undefined {
  const upper = name.toUpperCase();
  const specific = VARIABLE_DEFAULTS.get(upper)?.get(fingerprint);
  if (specific !== undefined) return specific;
  return PASSWORD_NAME.test(upper) ? GENERIC_DEFAULTS.get(fingerprint) : undefined;
}

function environmentChecks(item: ConfigItem, variables: Record<string, unknown>, out: ConfigFinding[]): void {
  for (const [name, fingerprint] of Object.entries(variables)) {
    if (typeof fingerprint !== 'string') continue;
    const known = defaultCredentialFor(name, fingerprint);
    // The evidence names the variable and the fact, not the value: a report is not a place for it,
    // even a default one (the finding says which well-known list matched, by fingerprint).
    if (known !== undefined) out.push(configFinding('env-default-credential', item, `${name} has the fingerprint of a well-known default credential (${fingerprint.slice(0, 19)}…)`, name));
  }
}

const PINNABLE = new Set(['k8s_container', 'compose_service']);

function containerChecks(item: ConfigItem, out: ConfigFinding[]): void {
  const a = item.attributes;
  if (PINNABLE.has(item.kind) && typeof a.image === 'string' && a.digestPinned === false && a.pinning !== 'unresolved' && a.pinning !== 'unknown') {
    out.push(configFinding('image-not-digest-pinned', item, `image ${a.image} (${a.pinning === 'latest' ? 'latest or no tag' : 'a tag, which can be moved'})`, a.image));
  }
  if (item.kind === 'dockerfile' && Array.isArray(a.unpinnedBaseImages) && a.unpinnedBaseImages.length > 0) {
    out.push(configFinding('image-not-digest-pinned', item, `FROM ${a.unpinnedBaseImages.join(', ')} without @sha256: digest`, 'base'));
  }
  if (a.runsAsRoot === true) {
    const why = item.kind === 'image' ? `config.User: ${textOf(a.user)}` : item.kind === 'dockerfile' ? 'the final stage sets no non-root USER' : item.kind === 'k8s_container' ? 'runAsUser: 0' : `user: ${textOf(a.user)}`;
    out.push(configFinding('container-runs-as-root', item, why));
  }
  if (isRecord(a.environment)) environmentChecks(item, a.environment, out);
}

function dnsChecks(item: ConfigItem, out: ConfigFinding[]): void {
  const a = item.attributes;
  if (a.type !== 'CNAME' || typeof a.name !== 'string' || !a.name.startsWith('*.')) return;
  const zone = item.resourceId.slice(0, item.resourceId.indexOf('/'));
  for (const target of Array.isArray(a.values) ? a.values : []) {
    if (typeof target !== 'string' || target === zone || target.endsWith(`.${zone}`)) continue;
    out.push(configFinding('dns-wildcard-cname-external', item, `${a.name} CNAME ${target}: every name under ${a.name.slice(2)} resolves to ${target}`, target));
  }
}

function postgresChecks(item: ConfigItem, out: ConfigFinding[]): void {
  const a = item.attributes;
  if (item.kind === 'postgresql_setting' && a.name === 'ssl' && a.value === 'off') out.push(configFinding('postgres-ssl-off', item, 'ssl = off'));
  if (item.kind === 'postgresql_setting' && a.name === 'password_encryption' && a.value === 'md5') out.push(configFinding('postgres-md5-passwords', item, 'password_encryption = md5'));
  if (item.kind === 'postgresql_hba' && Array.isArray(a.rules)) {
    for (const rule of a.rules.filter(isRecord)) {
      if (rule.method !== 'trust') continue;
      const network = typeof rule.type === 'string' && rule.type.startsWith('host');
      const databases = Array.isArray(rule.database) ? rule.database.join(',') : textOf(rule.database);
      const users = Array.isArray(rule.user) ? rule.user.join(',') : textOf(rule.user);
      const line = `${textOf(rule.type)} ${databases} ${users}${network ? ` ${textOf(rule.address)}${rule.netmask === null ? '' : `/${textOf(rule.netmask)}`}` : ''} trust`;
      // Over the network trust is anyone who reaches the port; on the local socket, any local OS user.
      out.push(configFinding('postgres-trust-auth', item, `pg_hba.conf: ${line}`, line, network ? 'high' : 'low'));
    }
  }
}

export function workloadFindings(items: readonly ConfigItem[]): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  for (const item of items) {
    if (item.component === 'container') containerChecks(item, out);
    else if (item.component === 'environment' && item.kind === 'env_var' && typeof item.attributes.name === 'string') environmentChecks(item, { [item.attributes.name]: item.attributes.valueSha256 }, out);
    else if (item.component === 'dns') dnsChecks(item, out);
    else if (item.component === 'database') postgresChecks(item, out);
  }
  return out;
}

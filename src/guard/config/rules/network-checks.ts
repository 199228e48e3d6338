import type { ConfigItem } from '../config-item.js';
import { isRecord, textOf } from '../attribute-values.js';
import type { ConfigFinding } from './config-finding.js';
import { configFinding } from './config-rules.js';

/**
 * World-open ingress: a source of 0.0.0.0/0 or ::/0 (any /0) reaching port 22, or every port
 * (protocol all, or 0–65535). Security groups allow only, so any such rule opens the port.
 * Network ACLs are evaluated in rule-number order with deny rules, and the AWS default NACL
 * allows everything (security groups do the filtering); so for an ACL only an explicit allow of a
 * port range including 22 from the world, not preceded by a deny that covers it, is reported.
 */
function isWorld(cidr: unknown): boolean {
  return typeof cidr === 'string' && /\/0$/.test(cidr.trim());
}

interface PortRange {
  readonly protocol: string;
  readonly fromPort: number | null;
  readonly toPort: number | null;
}

function coversAllPorts(rule: PortRange): boolean {
  return rule.protocol === 'all' || ((rule.protocol === 'tcp' || rule.protocol === 'udp') && (rule.fromPort ?? 0) <= 0 && (rule.toPort ?? 0) >= 65535);
}

function coversSsh(rule: PortRange): boolean {
  if (rule.protocol === 'all') return true;
  if (rule.protocol !== 'tcp') return false;
  return rule.fromPort !== null && rule.toPort !== null && rule.fromPort <= 22 && rule.toPort >= 22;
}

function describeRule(rule: PortRange): string {
  if (rule.protocol === 'all') return 'all protocols and ports';
  return rule.fromPort === rule.toPort ? `${rule.protocol} port ${rule.fromPort}` : `${rule.protocol} ports ${rule.fromPort}-${rule.toPort}`;
}

function securityGroupRule(item: ConfigItem, rule: Record<string, unknown>, where: string, out: ConfigFinding[]): void {
  const blocks = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
  const world = [...blocks(rule.cidrBlocks), ...blocks(rule.ipv6CidrBlocks)].filter(isWorld) as string[];
  if (world.length === 0) return;
  const range = rule as unknown as PortRange;
  const evidence = `${where} allows ${describeRule(range)} from ${world.join(', ')}`;
  if (coversAllPorts(range)) out.push(configFinding('network-all-ports-open-to-world', item, evidence, `${where} ${describeRule(range)}`));
  else if (coversSsh(range)) out.push(configFinding('network-ssh-open-to-world', item, evidence, `${where} ${describeRule(range)}`));
}

interface AclEntry extends PortRange {
  readonly ruleNo: number;
  readonly action: string;
  readonly cidrBlock: string | null;
  readonly ipv6CidrBlock: string | null;
}

function aclSshFindings(item: ConfigItem, entries: readonly AclEntry[], out: ConfigFinding[], itemOf: (entry: AclEntry) => ConfigItem = () => item): void {
  const fromWorld = [...entries].filter((entry) => isWorld(entry.cidrBlock) || isWorld(entry.ipv6CidrBlock)).sort((a, b) => a.ruleNo - b.ruleNo);
  const first = fromWorld.find((entry) => coversSsh(entry));
  if (first === undefined || first.action !== 'allow' || coversAllPorts(first)) return;
  // Reported on the allowing rule's own item (a separate aws_network_acl_rule): what a reviewer changes.
  out.push(configFinding('network-ssh-open-to-world', itemOf(first), `network ACL rule ${first.ruleNo} allows ${describeRule(first)} from ${first.cidrBlock ?? first.ipv6CidrBlock}`, `acl ${first.ruleNo}`));
}

export function networkFindings(items: readonly ConfigItem[]): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  const separateAclEntries = new Map<string, Map<AclEntry, ConfigItem>>();
  for (const item of items) {
    if (item.component !== 'network') continue;
    const a = item.attributes;
    if (item.kind === 'security_group') {
      for (const rule of Array.isArray(a.ingress) ? a.ingress.filter(isRecord) : []) securityGroupRule(item, rule, 'inline ingress', out);
    } else if (item.kind === 'security_group_rule' && a.direction === 'ingress') {
      securityGroupRule(item, a, 'ingress rule', out);
    } else if (item.kind === 'network_acl') {
      aclSshFindings(item, (Array.isArray(a.ingress) ? a.ingress.filter(isRecord) : []) as unknown as AclEntry[], out);
    } else if (item.kind === 'network_acl_rule' && a.direction === 'ingress') {
      const acl = textOf(a.networkAcl ?? a.networkAclId ?? item.resourceId);
      const group = separateAclEntries.get(acl) ?? separateAclEntries.set(acl, new Map()).get(acl)!;
      group.set(a as unknown as AclEntry, item);
    }
  }
  for (const group of separateAclEntries.values()) aclSshFindings([...group.values()][0]!, [...group.keys()], out, (entry) => group.get(entry)!);
  return out;
}

import type { AttributeValue, ConfigItem } from '../config-item.js';
import { attributeRecord, attributeSet, blocks, numberOf, stringOf, stringSet, textOf } from '../attribute-values.js';
import type { TerraformContext } from './terraform-context.js';
import type { TerraformResource } from './terraform-document.js';

/**
 * Security groups and network ACLs (the policy's "Networking (AWS): Security Groups, NACLs"), from
 * the AWS provider's resources: `aws_security_group` / `aws_default_security_group` with inline
 * `ingress`/`egress` blocks, the separate `aws_security_group_rule` and
 * `aws_vpc_security_group_ingress_rule` / `_egress_rule`, `aws_network_acl` /
 * `aws_default_network_acl` with inline entries, and `aws_network_acl_rule`.
 *
 * Every rule is reduced to one shape (direction, protocol, port range, sources), protocols named
 * (`-1` → all, 6 → tcp, 17 → udp, 1 → icmp, 58 → icmpv6: EC2 accepts both forms, the provider
 * stores what was written) and a range that "all" protocols ignore is dropped, so two ways of
 * writing the same rule are the same attribute.
 */
const PROTOCOL_NAMES: Readonly<Record<string, string>> = { '-1': 'all', all: 'all', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

export function protocolName(value: unknown): string {
  const text = textOf(value ?? 'all').trim().toLowerCase();
  return PROTOCOL_NAMES[text] ?? text;
}

export interface NetworkRule {
  readonly direction: 'ingress' | 'egress';
  readonly protocol: string;
  /** null when the protocol is `all` (every port). */
  readonly fromPort: number | null;
  readonly toPort: number | null;
  readonly cidrBlocks: readonly string[];
  readonly ipv6CidrBlocks: readonly string[];
  readonly securityGroups: readonly string[];
  readonly prefixListIds: readonly string[];
  readonly self: boolean;
  readonly description: string | null;
}

function ports(protocol: string, from: unknown, to: unknown): { fromPort: number | null; toPort: number | null } {
  if (protocol === 'all') return { fromPort: null, toPort: null };
  return { fromPort: numberOf(from) ?? null, toPort: numberOf(to) ?? null };
}

function list(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null || value === '' ? [] : [value];
}

/** An inline `ingress`/`egress` block of aws_security_group. */
function inlineSecurityGroupRule(direction: 'ingress' | 'egress', block: Record<string, unknown>): NetworkRule {
  const protocol = protocolName(block.protocol);
  return {
    direction,
    protocol,
    ...ports(protocol, block.from_port, block.to_port),
    cidrBlocks: stringSet(list(block.cidr_blocks)),
    ipv6CidrBlocks: stringSet(list(block.ipv6_cidr_blocks)),
    securityGroups: stringSet(list(block.security_groups)),
    prefixListIds: stringSet(list(block.prefix_list_ids)),
    self: block.self === true,
    description: stringOf(block.description) ?? null,
  };
}

/** aws_security_group_rule, aws_vpc_security_group_ingress_rule, aws_vpc_security_group_egress_rule. */
export function separateSecurityGroupRule(resource: TerraformResource): NetworkRule {
  const v = resource.values;
  const vpcStyle = resource.type.startsWith('aws_vpc_security_group_');
  const direction = vpcStyle ? (resource.type.endsWith('egress_rule') ? 'egress' : 'ingress') : v.type === 'egress' ? 'egress' : 'ingress';
  const protocol = protocolName(vpcStyle ? v.ip_protocol : v.protocol);
  return {
    direction,
    protocol,
    ...ports(protocol, v.from_port, v.to_port),
    cidrBlocks: stringSet(vpcStyle ? list(v.cidr_ipv4) : list(v.cidr_blocks)),
    ipv6CidrBlocks: stringSet(vpcStyle ? list(v.cidr_ipv6) : list(v.ipv6_cidr_blocks)),
    securityGroups: stringSet(vpcStyle ? list(v.referenced_security_group_id) : list(v.source_security_group_id)),
    prefixListIds: stringSet(vpcStyle ? list(v.prefix_list_id) : list(v.prefix_list_ids)),
    self: v.self === true,
    description: stringOf(v.description) ?? null,
  };
}

export interface AclEntry {
  readonly direction: 'ingress' | 'egress';
  readonly ruleNo: number;
  readonly action: string;
  readonly protocol: string;
  readonly fromPort: number | null;
  readonly toPort: number | null;
  readonly cidrBlock: string | null;
  readonly ipv6CidrBlock: string | null;
}

function aclEntry(direction: 'ingress' | 'egress', block: Record<string, unknown>, separate: boolean): AclEntry {
  const protocol = protocolName(block.protocol);
  return {
    direction,
    ruleNo: numberOf(separate ? block.rule_number : block.rule_no) ?? 0,
    action: textOf((separate ? block.rule_action : block.action) ?? '').toLowerCase(),
    protocol,
    ...ports(protocol, block.from_port, block.to_port),
    cidrBlock: stringOf(block.cidr_block) ?? null,
    ipv6CidrBlock: stringOf(block.ipv6_cidr_block) ?? null,
  };
}

const SECURITY_GROUPS = new Set(['aws_security_group', 'aws_default_security_group']);
const SECURITY_GROUP_RULES = new Set(['aws_security_group_rule', 'aws_vpc_security_group_ingress_rule', 'aws_vpc_security_group_egress_rule']);
const NETWORK_ACLS = new Set(['aws_network_acl', 'aws_default_network_acl']);

export function networkItems(context: TerraformContext): ConfigItem[] {
  const items: ConfigItem[] = [];
  const groupsById = context.addressesById(SECURITY_GROUPS);
  const aclsById = context.addressesById(NETWORK_ACLS);
  for (const resource of context.document.resources) {
    if (resource.mode !== 'managed') continue;
    const v = resource.values;
    if (SECURITY_GROUPS.has(resource.type)) {
      const rules = [...blocks(v.ingress).map((block) => inlineSecurityGroupRule('ingress', block)), ...blocks(v.egress).map((block) => inlineSecurityGroupRule('egress', block))];
      items.push(
        context.item('network', 'security_group', resource.address, {
          id: stringOf(v.id) ?? null,
          name: stringOf(v.name) ?? null,
          vpcId: stringOf(v.vpc_id) ?? null,
          description: stringOf(v.description) ?? null,
          ingress: attributeSet(rules.filter((rule) => rule.direction === 'ingress')),
          egress: attributeSet(rules.filter((rule) => rule.direction === 'egress')),
          tags: attributeRecord((v.tags as Record<string, unknown> | null | undefined) ?? {}),
        }),
      );
    } else if (SECURITY_GROUP_RULES.has(resource.type)) {
      const groupId = stringOf(v.security_group_id);
      const rule = separateSecurityGroupRule(resource);
      items.push(
        context.item('network', 'security_group_rule', resource.address, {
          ...(rule as unknown as Record<string, AttributeValue>),
          securityGroupId: groupId ?? null,
          securityGroup: context.resolve(resource, 'security_group_id', groupId, groupsById) ?? null,
        }),
      );
    } else if (NETWORK_ACLS.has(resource.type)) {
      const entries = [...blocks(v.ingress).map((block) => aclEntry('ingress', block, false)), ...blocks(v.egress).map((block) => aclEntry('egress', block, false))];
      const ordered = (direction: string) => entries.filter((entry) => entry.direction === direction).sort((a, b) => a.ruleNo - b.ruleNo);
      items.push(
        context.item('network', 'network_acl', resource.address, {
          id: stringOf(v.id) ?? null,
          vpcId: stringOf(v.vpc_id) ?? null,
          subnetIds: stringSet(list(v.subnet_ids)),
          // Rule numbers order the evaluation (lowest first), so entries are sorted by them.
          ingress: ordered('ingress'),
          egress: ordered('egress'),
        }),
      );
    } else if (resource.type === 'aws_network_acl_rule') {
      const aclId = stringOf(v.network_acl_id);
      const entry = aclEntry(v.egress === true ? 'egress' : 'ingress', v, true);
      items.push(context.item('network', 'network_acl_rule', resource.address, { ...(entry as unknown as Record<string, AttributeValue>), networkAclId: aclId ?? null, networkAcl: context.resolve(resource, 'network_acl_id', aclId, aclsById) ?? null }));
    }
  }
  return items;
}

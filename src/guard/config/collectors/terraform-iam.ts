import type { ConfigItem } from '../config-item.js';
import { blocks, stringOf, stringSet } from '../attribute-values.js';
import { documentFromStatementBlocks, policyAttribute } from './iam-policy-document.js';
import type { TerraformContext } from './terraform-context.js';

/**
 * IAM policies, their JSON strings parsed into canonical documents (iam-policy-document.ts):
 * managed policies (aws_iam_policy), inline policies of roles, users and groups (aws_iam_role_policy,
 * aws_iam_user_policy, aws_iam_group_policy, and aws_iam_role's `inline_policy` blocks), roles'
 * trust policies, and aws_iam_policy_document data sources (their computed `json`, or their
 * `statement` blocks when a plan has not read them yet).
 */
const INLINE_OWNER: Readonly<Record<string, string>> = { aws_iam_role_policy: 'role', aws_iam_user_policy: 'user', aws_iam_group_policy: 'group' };

export function iamItems(context: TerraformContext): ConfigItem[] {
  const items: ConfigItem[] = [];
  for (const resource of context.document.resources) {
    const v = resource.values;
    if (resource.mode === 'data') {
      if (resource.type === 'aws_iam_policy_document') {
        const document = stringOf(v.json) !== undefined ? policyAttribute(v.json) : policyAttribute(documentFromStatementBlocks(v.statement));
        items.push(context.item('iam', 'iam_policy_document', resource.address, { document }));
      }
      continue;
    }
    if (resource.type === 'aws_iam_policy') {
      items.push(context.item('iam', 'iam_policy', resource.address, { name: stringOf(v.name) ?? null, path: stringOf(v.path) ?? null, arn: stringOf(v.arn) ?? null, document: policyAttribute(v.policy) }));
    } else if (INLINE_OWNER[resource.type] !== undefined) {
      const owner = INLINE_OWNER[resource.type]!;
      items.push(context.item('iam', `iam_${owner}_policy`, resource.address, { name: stringOf(v.name) ?? null, [owner]: stringOf(v[owner]) ?? null, document: policyAttribute(v.policy) }));
    } else if (resource.type === 'aws_iam_role') {
      items.push(
        context.item('iam', 'iam_role', resource.address, {
          name: stringOf(v.name) ?? null,
          assumeRolePolicy: policyAttribute(v.assume_role_policy),
          managedPolicyArns: stringSet(Array.isArray(v.managed_policy_arns) ? v.managed_policy_arns : []),
          inlinePolicies: blocks(v.inline_policy)
            .filter((block) => stringOf(block.name) !== undefined)
            .map((block) => ({ name: stringOf(block.name)!, document: policyAttribute(block.policy) }))
            .sort((a, b) => a.name.localeCompare(b.name)),
        }),
      );
    } else if (resource.type === 'aws_iam_role_policy_attachment' || resource.type === 'aws_iam_user_policy_attachment') {
      const owner = resource.type === 'aws_iam_role_policy_attachment' ? 'role' : 'user';
      items.push(context.item('iam', `iam_${owner}_policy_attachment`, resource.address, { [owner]: stringOf(v[owner]) ?? null, policyArn: stringOf(v.policy_arn) ?? null }));
    }
  }
  return items;
}

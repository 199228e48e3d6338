/**
 * A policy sentence a finding serves, quoted from the Configuration Management Policy
 * (/work/shared/policies/configuration-management-policy.txt), so a finding can stand as evidence.
 */
export interface PolicyReference {
  readonly policy: string;
  readonly section: string;
  readonly statement: string;
}

export function describePolicy(reference: PolicyReference): string {
  return `${reference.policy} §${reference.section}: "${reference.statement}"`;
}

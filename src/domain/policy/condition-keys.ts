/**
 * The condition keys Holdfast's evaluator understands, in their canonical spelling. IAM treats
 * key names case-insensitively ("Condition key names are not case-sensitive", IAM JSON policy
 * elements: Condition), so policies may spell them any way; the request context must use the
 * spelling below. A key outside this list is refused when the policy is parsed, as S3 refuses
 * "Policy has an invalid condition key": a misspelt key in a Deny would otherwise never apply.
 *
 * Sources: AWS global condition context keys; Service Authorization Reference, "Actions,
 * resources, and condition keys for Amazon S3".
 */
export const CONDITION_KEYS = [
  'aws:CurrentTime',
  'aws:EpochTime',
  'aws:PrincipalArn',
  'aws:PrincipalType',
  'aws:Referer',
  'aws:RequestedRegion',
  'aws:SecureTransport',
  'aws:SourceIp',
  'aws:UserAgent',
  'aws:userid',
  'aws:username',
  's3:authType',
  's3:delimiter',
  's3:max-keys',
  's3:object-lock-legal-hold',
  's3:object-lock-mode',
  's3:object-lock-remaining-retention-days',
  's3:object-lock-retain-until-date',
  's3:prefix',
  's3:signatureAge',
  's3:signatureversion',
  's3:TlsVersion',
  's3:versionid',
  's3:x-amz-content-sha256',
  's3:x-amz-copy-source',
  's3:x-amz-metadata-directive',
  's3:x-amz-server-side-encryption',
  's3:x-amz-storage-class',
] as const;

export type ConditionKey = (typeof CONDITION_KEYS)[number];

const byLowerCase = new Map<string, ConditionKey>(CONDITION_KEYS.map((key) => [key.toLowerCase(), key]));

/** The canonical spelling of a condition key, or undefined when Holdfast does not know it. */
export function canonicalConditionKey(key: string): ConditionKey | undefined {
  return byLowerCase.get(key.toLowerCase());
}

/**
 * Terraform documents written the way Terraform writes them (state v4, `terraform show -json` of a
 * plan), for the configuration collector tests: no terraform binary is needed to read them.
 */
export interface FixtureResource {
  readonly type: string;
  readonly name: string;
  readonly mode?: 'managed' | 'data';
  readonly module?: string;
  readonly attributes: Record<string, unknown>;
}

const PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]';

export function stateV4(resources: readonly FixtureResource[]): string {
  return JSON.stringify(
    {
      version: 4,
      terraform_version: '1.7.5',
      serial: 42,
      lineage: '3f2a9c1e-8b7d-4e2a-9f31-6c0d5e4b2a10',
      outputs: {},
      resources: resources.map((resource) => ({
        ...(resource.module === undefined ? {} : { module: resource.module }),
        mode: resource.mode ?? 'managed',
        type: resource.type,
        name: resource.name,
        provider: PROVIDER,
        instances: [{ schema_version: 0, attributes: resource.attributes, sensitive_attributes: [], private: 'bnVsbA==', dependencies: [] }],
      })),
      check_results: null,
    },
    null,
    2,
  );
}

export const PUBLIC_ACCESS_BLOCKED = { block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true };

export function tlsOnlyPolicy(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ],
  });
}

/** An aws_s3_bucket as provider v5 stores it: the split-out settings show as computed, empty inline blocks. */
export function bucket(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: name,
    bucket: name,
    arn: `arn:aws:s3:::${name}`,
    force_destroy: false,
    object_lock_enabled: false,
    object_lock_configuration: [],
    versioning: [{ enabled: false, mfa_delete: false }],
    server_side_encryption_configuration: [],
    policy: '',
    tags: {},
    tags_all: {},
    ...extra,
  };
}

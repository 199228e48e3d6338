import { type PolicyDocument, parsePolicy } from './policy-document.js';

/**
 * Built-in roles: policies a user attaches by name instead of writing JSON. They encode the
 * security policy: "write and delete access to backup storage is restricted to automated backup
 * processes only", "no individual user has permissions to delete or modify backup objects
 * directly", and separate duties between creating backups and deleting them (no role both
 * writes and deletes; see separation-of-duties.ts).
 *
 * Action names: Service Authorization Reference, "Actions, resources, and condition keys for
 * Amazon S3". Note that S3 checks s3:GetObject for HeadObject as well as GetObject.
 */

export type BuiltInRoleName = 'backup-writer' | 'restore-reader' | 'pruner' | 'auditor' | 'admin';

export interface BuiltInRole {
  readonly name: BuiltInRoleName;
  /** One line for `holdfast role list` and the admin API. */
  readonly description: string;
  /** Meant for automated processes (`service` identities), not people. */
  readonly automationOnly: boolean;
  readonly document: PolicyDocument;
}

/** Changes that would let a version be destroyed before its time. */
const DESTRUCTIVE_LOCK_CHANGES = ['s3:BypassGovernanceRetention', 's3:PutObjectRetention', 's3:PutObjectLegalHold'];

const BUCKET_READ = ['s3:ListAllMyBuckets', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration'];
const LIST = ['s3:ListBucket', 's3:ListBucketVersions'];
const LOCK_READ = ['s3:GetObjectRetention', 's3:GetObjectLegalHold'];

const definitions: Record<BuiltInRoleName, { description: string; automationOnly: boolean; statements: object[] }> = {
  'backup-writer': {
    description: 'Uploads and reads back backups; cannot delete them, change their retention or legal hold, or bypass governance retention.',
    automationOnly: true,
    statements: [
      {
        Sid: 'WriteAndReadBackups',
        Effect: 'Allow',
        Action: [
          's3:PutObject',
          's3:GetObject',
          's3:GetObjectVersion',
          ...LIST,
          's3:ListBucketMultipartUploads',
          's3:ListMultipartUploadParts',
          's3:AbortMultipartUpload',
          ...BUCKET_READ,
          ...LOCK_READ,
        ],
        Resource: '*',
      },
    ],
  },
  'restore-reader': {
    description: 'Lists and reads backups (any version) to restore them; changes nothing.',
    automationOnly: false,
    statements: [
      {
        Sid: 'ReadBackups',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:GetObjectVersionAttributes', ...LIST, ...BUCKET_READ, ...LOCK_READ],
        Resource: '*',
      },
    ],
  },
  pruner: {
    description:
      'Deletes backup versions once their retention has expired (Object Lock refuses earlier deletes); lists, reads lock metadata and the backup catalog (manifests, timeline histories), never backup data. Explicitly denied bypassing governance retention and changing retention or legal holds, whatever else is attached.',
    automationOnly: true,
    statements: [
      {
        Sid: 'PruneExpiredVersions',
        Effect: 'Allow',
        Action: [...LIST, ...BUCKET_READ, ...LOCK_READ, 's3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: '*',
      },
      { Sid: 'NeverShortenProtection', Effect: 'Deny', Action: DESTRUCTIVE_LOCK_CHANGES, Resource: '*' },
      {
        // `holdfast pg prune` must know which WAL each backup needs before it deletes any: that is
        // in the backup manifests and the timeline history files (LSNs, segment names, times — no
        // database contents). Only those two key shapes of the pg repository layout; base backup
        // parts and WAL segments stay unreadable (src/backup/pg/README.md, "Repository layout").
        // GetObjectVersion: the catalog reads the first version of each key (write-once-object.ts).
        Sid: 'ReadBackupCatalog',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: ['arn:aws:s3:::*backups/*/manifest.json', 'arn:aws:s3:::*wal/*.history'],
      },
    ],
  },
  auditor: {
    description: 'Reads configuration, object lock state and the audit log (and verifies it); never reads backup contents.',
    automationOnly: false,
    statements: [
      {
        Sid: 'ReadConfiguration',
        Effect: 'Allow',
        Action: ['s3:GetBucket*', 's3:GetBucketObjectLockConfiguration', 's3:List*', ...LOCK_READ],
        Resource: '*',
      },
      {
        Sid: 'ReadAdministration',
        Effect: 'Allow',
        Action: ['holdfast:Get*', 'holdfast:List*', 'holdfast:ReadAuditLog', 'holdfast:VerifyAuditLog'],
        Resource: '*',
      },
    ],
  },
  admin: {
    description:
      'Administers Holdfast (identities, keys, settings) and bucket configuration; is explicitly denied writing, deleting, and changing the retention or legal hold of backup objects, so no other policy attached to an admin can grant them.',
    automationOnly: false,
    statements: [
      { Sid: 'Administer', Effect: 'Allow', Action: 'holdfast:*', Resource: '*' },
      {
        Sid: 'ConfigureBuckets',
        Effect: 'Allow',
        Action: [
          's3:CreateBucket',
          's3:PutBucketVersioning',
          's3:PutBucketObjectLockConfiguration',
          's3:PutBucketPolicy',
          's3:GetBucketPolicy',
          's3:DeleteBucketPolicy',
          's3:GetBucket*',
          's3:List*',
          's3:ListAllMyBuckets',
        ],
        Resource: '*',
      },
      {
        Sid: 'NeverTouchBackupObjects',
        Effect: 'Deny',
        Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', ...DESTRUCTIVE_LOCK_CHANGES],
        Resource: '*',
      },
    ],
  },
};

function build(name: BuiltInRoleName): BuiltInRole {
  const { description, automationOnly, statements } = definitions[name];
  const document = parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }, null, 2), { kind: 'identity' });
  return Object.freeze({ name, description, automationOnly, document });
}

export const BUILT_IN_ROLES: Readonly<Record<BuiltInRoleName, BuiltInRole>> = Object.freeze({
  'backup-writer': build('backup-writer'),
  'restore-reader': build('restore-reader'),
  pruner: build('pruner'),
  auditor: build('auditor'),
  admin: build('admin'),
});

export function isBuiltInRole(name: string): name is BuiltInRoleName {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}

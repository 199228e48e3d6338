import type { AccessKeyInfo, IdentityRecord } from '../../domain/identity/identity-model.js';
import type { ChangeRequest } from '../../domain/identity/change-approvals.js';
import type { BucketRecord } from '../../domain/model.js';

/** What the admin API shows; times as ISO 8601, never a secret. */
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function bucketView(bucket: BucketRecord) {
  return {
    name: bucket.name,
    createdAt: iso(bucket.createdAtMs),
    region: bucket.region,
    versioning: bucket.versioning,
    objectLock: { enabled: bucket.objectLockEnabled, defaultRetention: bucket.defaultRetention ?? null },
    retentionBounds: bucket.retentionBounds ?? null,
    protected: bucket.controls.protected === true,
    hasPolicy: bucket.controls.policy !== undefined,
  };
}

export function accessKeyView(key: AccessKeyInfo) {
  return {
    accessKeyId: key.accessKeyId,
    owner: key.owner,
    status: key.status,
    createdAt: iso(key.createdMs),
    expiresAt: iso(key.expiresMs),
    description: key.description ?? null,
  };
}

export function identityView(identity: IdentityRecord, keys: readonly AccessKeyInfo[]) {
  return {
    name: identity.name,
    kind: identity.kind,
    roles: identity.roles,
    policies: Object.fromEntries(Object.entries(identity.policies).map(([name, text]) => [name, JSON.parse(text) as unknown])),
    createdAt: iso(identity.createdMs),
    disabled: identity.disabled,
    dutyOverride: identity.dutyOverride === undefined ? null : { ...identity.dutyOverride, atMs: undefined, at: iso(identity.dutyOverride.atMs) },
    accessKeys: keys.map(accessKeyView),
  };
}

export function changeView(request: ChangeRequest) {
  return {
    id: request.id,
    status: request.status,
    summary: request.summary,
    change: request.change,
    requestedBy: request.requestedBy,
    requestedAt: iso(request.requestedMs),
    expiresAt: iso(request.expiresMs),
    decidedBy: request.decidedBy ?? null,
    decidedAt: iso(request.decidedMs),
    error: request.error ?? null,
  };
}

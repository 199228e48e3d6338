/**
 * Who may call the vault. Root bootstraps; day-to-day work uses identities — people (`user`) and
 * automated processes (`service`) — each with access keys and policies (built-in roles and
 * inline IAM-style documents).
 */
export type IdentityKind = 'user' | 'service';

export interface DutyOverride {
  /** Why this identity may both write and delete on the same bucket (e.g. "CI test bucket"). */
  readonly reason: string;
  readonly grantedBy: string;
  readonly atMs: number;
}

export interface IdentityRecord {
  readonly name: string;
  readonly kind: IdentityKind;
  /** Built-in role names (see policy/roles.ts). */
  readonly roles: readonly string[];
  /** Inline policies by name: the JSON text as the admin gave it (validated on the way in). */
  readonly policies: Readonly<Record<string, string>>;
  readonly createdMs: number;
  readonly disabled: boolean;
  /** Present when an admin explicitly allowed a write/delete combination (audited). */
  readonly dutyOverride?: DutyOverride;
}

export type AccessKeyStatus = 'active' | 'inactive';

/** An access key as stored: the secret sealed (AES-256-GCM, see SecretBox), never in clear. */
export interface StoredAccessKey {
  readonly accessKeyId: string;
  readonly sealedSecret: string;
  /** An identity name, or `root`. */
  readonly owner: string;
  readonly status: AccessKeyStatus;
  readonly createdMs: number;
  /** After this instant the key authenticates nothing. */
  readonly expiresMs?: number;
  readonly description?: string;
}

/** What the admin API shows of a key: everything but the secret. */
export type AccessKeyInfo = Omit<StoredAccessKey, 'sealedSecret'>;

/** The whole identity directory, persisted as one document (small teams: tens of identities). */
export interface IdentityDirectoryDocument {
  readonly version: 1;
  /**
   * Incremented by every change (absent, 0, in documents written before it existed), so a node
   * never installs a document older than the one it holds: a refresh and a change of the same
   * node can finish in either order.
   */
  readonly revision?: number;
  readonly identities: readonly IdentityRecord[];
  readonly keys: readonly StoredAccessKey[];
}

export const ROOT_IDENTITY = 'root';

/** IAM's user-name alphabet; `root` is reserved. */
export function identityNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9+=,.@_-]{1,64}$/.test(name)) {
    return 'an identity name is 1 to 64 characters of letters, digits and + = , . @ _ -';
  }
  if (name.toLowerCase() === ROOT_IDENTITY) return '"root" is reserved for the bootstrap key';
  return undefined;
}

/** Identities appear in policies (Principal, aws:username) as ARNs. */
export function principalArn(name: string, kind: IdentityKind | 'root'): string {
  return kind === 'root' ? 'arn:holdfast:iam:::root' : `arn:holdfast:iam:::${kind}/${name}`;
}

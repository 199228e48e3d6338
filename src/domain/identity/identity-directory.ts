import { s3errors } from '../errors.js';
import { type IdentityDirectoryDocument, type IdentityRecord, ROOT_IDENTITY, type StoredAccessKey } from './identity-model.js';

/**
 * One stored version of the identity directory, as plain data: what a change is computed from.
 * Each change derives its new document from the snapshot parsed from the stored text it will
 * compare-and-set against, never from the registry's live state, which a refresh may replace
 * while the change awaits (see updateSetting). Every derived document carries the next revision.
 */
export class IdentityDirectory {
  readonly revision: number;
  readonly identities: ReadonlyMap<string, IdentityRecord>;
  readonly keys: ReadonlyMap<string, StoredAccessKey>;

  constructor(document: IdentityDirectoryDocument) {
    this.revision = document.revision ?? 0;
    this.identities = new Map(document.identities.map((identity) => [identity.name, identity]));
    this.keys = new Map(document.keys.map((key) => [key.accessKeyId, key]));
  }

  identity(name: string): IdentityRecord {
    const identity = this.identities.get(name);
    if (identity === undefined) throw s3errors.noSuchEntity(`The identity "${name}"`);
    return identity;
  }

  rootAccessKeyId(): string | undefined {
    for (const [id, key] of this.keys) if (key.owner === ROOT_IDENTITY && key.status === 'active') return id;
    return undefined;
  }

  /** Root's key is managed by the bootstrap (environment or root-credentials file), not here. */
  userKey(accessKeyId: string): StoredAccessKey {
    const key = this.keys.get(accessKeyId);
    if (key === undefined) throw s3errors.noSuchEntity(`The access key ${accessKeyId}`);
    if (key.owner === ROOT_IDENTITY) {
      throw s3errors.invalidRequest('The root key is managed at start-up (HOLDFAST_ROOT_ACCESS_KEY_ID/_SECRET_ACCESS_KEY), not through the admin API.');
    }
    return key;
  }

  /** The next revision of the directory with these identities and keys. */
  next(identities: Iterable<IdentityRecord>, keys: Iterable<StoredAccessKey>): IdentityDirectoryDocument {
    return { version: 1, revision: this.revision + 1, identities: [...identities], keys: [...keys] };
  }

  withIdentity(identity: IdentityRecord): IdentityDirectoryDocument {
    const identities = new Map(this.identities);
    identities.set(identity.name, identity);
    return this.next(identities.values(), this.keys.values());
  }

  withKeyReplaced(accessKeyId: string, replacement: readonly StoredAccessKey[]): IdentityDirectoryDocument {
    const keys: StoredAccessKey[] = [];
    for (const key of this.keys.values()) {
      if (key.accessKeyId === accessKeyId) keys.push(...replacement);
      else keys.push(key);
    }
    return this.next(this.identities.values(), keys);
  }
}

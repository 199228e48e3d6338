import { type S3Error, s3errors } from '../errors.js';
import type { NamedPolicy, PolicyDocument } from '../policy/policy-document.js';
import { BUILT_IN_ROLES, isBuiltInRole } from '../policy/roles.js';
import type { Conflict } from '../policy/separation-of-duties.js';
import type { MetadataStore } from '../ports.js';
import { type AccessKeyPair, generateAccessKeyPair } from '../root-credentials.js';
import { Secret } from '../secret.js';
import { updateSetting } from '../setting-compare-and-set.js';
import { IdentityDirectory } from './identity-directory.js';
import {
  type AccessKeyInfo,
  type AccessKeyStatus,
  type IdentityDirectoryDocument,
  type IdentityKind,
  type IdentityRecord,
  ROOT_IDENTITY,
  type StoredAccessKey,
  identityNameProblem,
  principalArn,
} from './identity-model.js';
import { type IdentityPolicies, type Principal, compileIdentityPolicies } from './principal.js';

/** Seals secrets for storage (AES-256-GCM with a key kept outside the metadata; see SecretBox). */
export interface SecretSealer {
  seal(plaintext: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

/** A stored secret does not open with this process's sealing key (a different key than the one that sealed it). */
export class SealedSecretMismatchError extends Error {
  constructor(readonly accessKeyId: string) {
    super(`Cannot decrypt the secret of access key ${accessKeyId}: it was sealed with another key`);
    this.name = 'SealedSecretMismatchError';
  }
}

const SETTING = 'identities';
/** Where keys lived before identities existed (root only); read once and migrated. */
const LEGACY_SETTING = 'access-keys';
const MAX_KEYS_PER_IDENTITY = 5;
const MAX_IDENTITIES = 1000;
const MAX_POLICIES_PER_IDENTITY = 10;
/**
 * Held (MetadataStore.exclusively) across the separation-of-duties check and the write it guards,
 * on both sides: an identity change checks against bucket policies and a bucket policy against
 * identities, so without one lock two nodes could each pass their check and together give one
 * identity write and delete on a bucket (write skew).
 */
const DUTIES_LOCK = 'holdfast:duties';
/** Compare-and-set rounds before a change gives up (each lost round means another node's change landed). */
const MAX_CHANGE_ATTEMPTS = 20;

export interface NewIdentity {
  readonly name: string;
  readonly kind: IdentityKind;
  readonly roles?: readonly string[];
  readonly policies?: Readonly<Record<string, string>>;
  /** Allow write + delete on the same bucket anyway (test buckets); the reason is recorded. */
  readonly dutyOverrideReason?: string;
}

export interface CreatedAccessKey {
  readonly key: AccessKeyInfo;
  /** Shown once to the caller; only the sealed form is stored. */
  readonly secretAccessKey: Secret;
}

/** What a change makes of the stored directory: the new document (undefined: unchanged) and the caller's answer. */
interface ChangeOutcome<T> {
  readonly document: IdentityDirectoryDocument | undefined;
  readonly result: T;
}

interface LiveKey {
  readonly stored: StoredAccessKey;
  readonly secret: Secret;
}

/** A bucket as separation-of-duties checks see it: its name and its policy, if any. */
export interface BucketGrants {
  readonly name: string;
  readonly policy: PolicyDocument | undefined;
}

export interface IdentityRegistryOptions {
  readonly nowMs: () => number;
  /** The buckets separation-of-duties checks look at (besides "any bucket"), with their policies. */
  readonly buckets: () => Promise<readonly BucketGrants[]>;
}

/**
 * The identity directory: identities, their policies and their access keys. Secrets are sealed
 * at rest and held in memory only as `Secret`s. Lookups are synchronous (SigV4 runs on every
 * request); changes are serialized and persisted as one document before they take effect.
 *
 * Separation of duties (policy: "IAM policies enforce separation of duties between backup
 * creation and backup deletion") is enforced here: a change that would let one identity both
 * write and delete on the same bucket is refused, naming the conflict, unless an admin recorded
 * an explicit override with a reason.
 */
export class IdentityRegistry {
  readonly #metadata: MetadataStore;
  readonly #sealer: SecretSealer;
  readonly #options: IdentityRegistryOptions;
  #identities = new Map<string, IdentityRecord>();
  #compiled = new Map<string, IdentityPolicies>();
  #keys = new Map<string, LiveKey>();
  #queue: Promise<unknown> = Promise.resolve();
  /** The stored document the in-memory state was installed from (undefined: none stored yet). */
  #raw: string | undefined;
  /** Its revision (-1: nothing installed yet). */
  #revision = -1;
  /** The refresh under way, and the one queued behind it for callers that arrived meanwhile. */
  #refreshing: Promise<void> | undefined;
  #refreshQueued: Promise<void> | undefined;

  constructor(metadata: MetadataStore, sealer: SecretSealer, options: IdentityRegistryOptions) {
    this.#metadata = metadata;
    this.#sealer = sealer;
    this.#options = options;
  }

  async load(): Promise<void> {
    await this.#reload();
  }

  /**
   * Re-reads the directory, so that what any other process sharing the metadata store committed
   * before this call is in effect when it resolves (a key created or revoked through another
   * cluster node). Callers that arrive while a read is under way share the next one, started
   * after they arrived: one round trip per burst of requests, never a stale answer.
   */
  refresh(): Promise<void> {
    if (this.#refreshing === undefined) {
      this.#refreshing = this.#reload().finally(() => {
        this.#refreshing = undefined;
      });
      return this.#refreshing;
    }
    this.#refreshQueued ??= this.#refreshing
      .catch(() => undefined)
      .then(() => {
        this.#refreshQueued = undefined;
        return this.refresh();
      });
    return this.#refreshQueued;
  }

  /** Reads the stored document and installs it if it is newer than the one installed. */
  async #reload(): Promise<void> {
    const raw = await this.#metadata.getSetting(SETTING);
    if (raw !== undefined && raw === this.#raw) return;
    this.#install(await this.#parse(raw), raw);
  }

  /** The directory stored as `raw`; with none stored, the root key where it lived before identities existed. */
  async #parse(raw: string | undefined): Promise<IdentityDirectoryDocument> {
    if (raw !== undefined) return JSON.parse(raw) as IdentityDirectoryDocument;
    const legacy = await this.#metadata.getSetting(LEGACY_SETTING);
    const keys = legacy === undefined ? [] : (JSON.parse(legacy) as Array<{ accessKeyId: string; sealedSecret: string; identity: string; createdMs: number }>);
    return {
      version: 1,
      identities: [],
      keys: keys.map((k) => ({ accessKeyId: k.accessKeyId, sealedSecret: k.sealedSecret, owner: k.identity, status: 'active', createdMs: k.createdMs })),
    };
  }

  /**
   * Replaces the in-memory state with `document` (stored as `raw`) unless the installed one is
   * as new: a refresh that read the directory before a change of this node committed may finish
   * after it. A document without a revision (written before revisions existed) is installed
   * whenever its text differs. Compiles every identity's policies (a bad stored one stops start-up).
   */
  #install(document: IdentityDirectoryDocument, raw: string | undefined): void {
    if (document.revision !== undefined && document.revision <= this.#revision) return;
    const identities = new Map<string, IdentityRecord>();
    const compiled = new Map<string, IdentityPolicies>();
    for (const identity of document.identities) {
      identities.set(identity.name, identity);
      compiled.set(identity.name, compileIdentityPolicies(identity));
    }
    const keys = new Map<string, LiveKey>();
    for (const stored of document.keys) {
      let plaintext: string;
      try {
        plaintext = this.#sealer.open(stored.sealedSecret, stored.accessKeyId);
      } catch {
        throw new SealedSecretMismatchError(stored.accessKeyId);
      }
      keys.set(stored.accessKeyId, { stored, secret: new Secret(plaintext) });
    }
    this.#identities = identities;
    this.#compiled = compiled;
    this.#keys = keys;
    this.#raw = raw;
    this.#revision = document.revision ?? 0;
  }

  /**
   * Runs one change at a time in this process, and across processes sharing the metadata store
   * (cluster nodes) by compare-and-set: `apply` computes the change from the directory parsed
   * from the stored text read in this round, and the result is stored only if the setting still
   * holds that text, else read again and re-applied. `apply` may await (the duty check reads the
   * buckets), and a refresh may replace this node's state meanwhile; the change never looks at
   * that state, so it cannot undo another node's change made in between.
   */
  #change<T>(apply: (directory: IdentityDirectory) => Promise<ChangeOutcome<T>> | ChangeOutcome<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      const { result, installed, raw } = await updateSetting(
        this.#metadata,
        SETTING,
        async (stored) => {
          const current = await this.#parse(stored);
          const { document, result } = await apply(new IdentityDirectory(current));
          // Nothing to change (decided on the stored state read): still install what was read.
          if (document === undefined) return { next: undefined, result: { result, installed: current, raw: stored } };
          // Compile before persisting, so a document that cannot load never reaches the store.
          for (const identity of document.identities) compileIdentityPolicies(identity);
          const next = JSON.stringify(document);
          return { next, result: { result, installed: document, raw: next } };
        },
        { attempts: MAX_CHANGE_ATTEMPTS, contended: () => s3errors.serviceUnavailable('The identity directory is being changed by other nodes; try again.') },
      );
      this.#install(installed, raw);
      return result;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // ---- authentication -------------------------------------------------------------------

  /**
   * The secret for SigV4 verification, or undefined when the key is unknown, inactive, expired
   * or belongs to a disabled identity (the client then gets InvalidAccessKeyId, as from AWS).
   */
  secretFor(accessKeyId: string): string | undefined {
    const key = this.#keys.get(accessKeyId);
    if (key === undefined || !this.#usable(key.stored)) return undefined;
    return key.secret.reveal();
  }

  #usable(key: StoredAccessKey): boolean {
    if (key.status !== 'active') return false;
    if (key.expiresMs !== undefined && this.#options.nowMs() >= key.expiresMs) return false;
    if (key.owner === ROOT_IDENTITY) return true;
    const owner = this.#identities.get(key.owner);
    return owner !== undefined && !owner.disabled;
  }

  /** Who signed with this key, with the policies that apply; undefined for an unusable key. */
  principalOf(accessKeyId: string): Principal | undefined {
    const key = this.#keys.get(accessKeyId);
    if (key === undefined || !this.#usable(key.stored)) return undefined;
    if (key.stored.owner === ROOT_IDENTITY) {
      return { name: ROOT_IDENTITY, kind: 'root', arn: principalArn(ROOT_IDENTITY, 'root'), accessKeyId, policies: undefined };
    }
    const identity = this.#identities.get(key.stored.owner);
    const policies = this.#compiled.get(key.stored.owner);
    if (identity === undefined || policies === undefined) return undefined;
    return { name: identity.name, kind: identity.kind, arn: principalArn(identity.name, identity.kind), accessKeyId, policies };
  }

  /** The principal an identity acts as, whatever key it signs with (for the policy simulator). */
  principalNamed(name: string): Principal {
    const identity = this.getIdentity(name);
    const policies = this.#compiled.get(name);
    if (policies === undefined) throw s3errors.noSuchEntity(`The identity "${name}"`);
    return { name, kind: identity.kind, arn: principalArn(name, identity.kind), accessKeyId: '', policies };
  }

  rootAccessKeyId(): string | undefined {
    for (const [id, key] of this.#keys) if (key.stored.owner === ROOT_IDENTITY && key.stored.status === 'active') return id;
    return undefined;
  }

  /** Makes `pair` the one root key, replacing any previous root key. */
  setRoot(pair: AccessKeyPair): Promise<void> {
    return this.#change((directory) => ({ document: this.#withRoot(directory, pair), result: undefined }));
  }

  /**
   * Makes `pair` the root key only if there is none (checked against the stored directory, in
   * the same compare-and-set as the write); resolves with the root key id in effect. Two cluster
   * nodes generating a root key on a first start at once thus agree on one.
   */
  setRootIfNone(pair: AccessKeyPair): Promise<string> {
    return this.#change((directory) => {
      const existing = directory.rootAccessKeyId();
      if (existing !== undefined) return { document: undefined, result: existing };
      return { document: this.#withRoot(directory, pair), result: pair.accessKeyId };
    });
  }

  #withRoot(directory: IdentityDirectory, pair: AccessKeyPair): IdentityDirectoryDocument {
    const keys = [...directory.keys.values()].filter((k) => k.owner !== ROOT_IDENTITY);
    keys.push({
      accessKeyId: pair.accessKeyId,
      sealedSecret: this.#sealer.seal(pair.secretAccessKey.reveal(), pair.accessKeyId),
      owner: ROOT_IDENTITY,
      status: 'active',
      createdMs: this.#options.nowMs(),
    });
    return directory.next(directory.identities.values(), keys);
  }

  // ---- identities -----------------------------------------------------------------------

  listIdentities(): IdentityRecord[] {
    return [...this.#identities.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  getIdentity(name: string): IdentityRecord {
    const identity = this.#identities.get(name);
    if (identity === undefined) throw s3errors.noSuchEntity(`The identity "${name}"`);
    return identity;
  }

  createIdentity(spec: NewIdentity, actor: string): Promise<IdentityRecord> {
    return this.#metadata.exclusively(DUTIES_LOCK, () => this.#change(async (directory) => {
      const problem = identityNameProblem(spec.name);
      if (problem !== undefined) throw s3errors.invalidArgument(`Invalid identity name "${spec.name}": ${problem}.`, 'name', spec.name);
      if (directory.identities.has(spec.name)) throw s3errors.entityAlreadyExists(`The identity "${spec.name}"`);
      if (directory.identities.size >= MAX_IDENTITIES) throw s3errors.limitExceeded(`At most ${MAX_IDENTITIES} identities are supported.`);
      const identity: IdentityRecord = {
        name: spec.name,
        kind: spec.kind,
        roles: dedupe(spec.roles ?? []),
        policies: { ...(spec.policies ?? {}) },
        createdMs: this.#options.nowMs(),
        disabled: false,
        ...(spec.dutyOverrideReason === undefined ? {} : { dutyOverride: { reason: spec.dutyOverrideReason, grantedBy: actor, atMs: this.#options.nowMs() } }),
      };
      await this.#checkDuties(identity);
      return { document: directory.withIdentity(identity), result: identity };
    }));
  }

  /** Applies `edit` to one identity (roles, policies, disabled flag, override) and re-checks duties. */
  updateIdentity(name: string, edit: (current: IdentityRecord) => IdentityRecord): Promise<IdentityRecord> {
    return this.#metadata.exclusively(DUTIES_LOCK, () => this.#change(async (directory) => {
      const next = edit(directory.identity(name));
      if (Object.keys(next.policies).length > MAX_POLICIES_PER_IDENTITY) {
        throw s3errors.limitExceeded(`An identity holds at most ${MAX_POLICIES_PER_IDENTITY} inline policies.`);
      }
      await this.#checkDuties(next);
      return { document: directory.withIdentity(next), result: next };
    }));
  }

  deleteIdentity(name: string): Promise<{ deletedKeys: string[] }> {
    return this.#change((directory) => {
      directory.identity(name);
      const identities = [...directory.identities.values()].filter((i) => i.name !== name);
      const keys = [...directory.keys.values()];
      const deletedKeys = keys.filter((k) => k.owner === name).map((k) => k.accessKeyId);
      return { document: directory.next(identities, keys.filter((k) => k.owner !== name)), result: { deletedKeys } };
    });
  }

  async #checkDuties(identity: IdentityRecord): Promise<void> {
    const policies = compileIdentityPolicies(identity);
    // "Write and delete access to backup storage is restricted to automated backup processes only."
    const automated = identity.kind === 'user' ? identity.roles.find((role) => isBuiltInRole(role) && BUILT_IN_ROLES[role].automationOnly) : undefined;
    if (automated !== undefined) {
      throw s3errors.separationOfDutiesConflict(
        `Role "${automated}" is for automated backup processes only, and "${identity.name}" is a user. ` +
          `Give it to a service identity instead: \`holdfast admin users create NAME --service --role ${automated}\`.`,
      );
    }
    if (identity.dutyOverride !== undefined) return;
    const buckets = await this.#options.buckets();
    const first = policies.writeDeleteConflicts(
      buckets.map((b) => b.name),
      bucketPolicies(buckets),
      principalArn(identity.name, identity.kind),
    )[0];
    if (first !== undefined) throw dutyConflict(`identity "${identity.name}"`, first);
  }

  /**
   * Stores a bucket policy with `write` only if checkBucketPolicy passes, both under the duties
   * lock and the check made on the identities as stored now (refreshed inside the lock), so an
   * identity change on another node can neither slip between them nor be missed.
   */
  storeBucketPolicy(bucket: string, policy: PolicyDocument, write: () => Promise<void>): Promise<void> {
    return this.#metadata.exclusively(DUTIES_LOCK, async () => {
      await this.refresh();
      await this.checkBucketPolicy(bucket, policy);
      await write();
    });
  }

  /**
   * Refuses a bucket policy that would let one identity — or anyone, through `"Principal": "*"` —
   * both write and delete in the bucket (with what their own policies allow). Identities with a
   * recorded override are exempt.
   */
  async checkBucketPolicy(bucket: string, policy: PolicyDocument): Promise<void> {
    const others = (await this.#options.buckets()).filter((b) => b.name !== bucket);
    const grants = [...bucketPolicies(others), { name: `bucket-policy:${bucket}`, document: policy }];
    for (const identity of this.#identities.values()) {
      if (identity.dutyOverride !== undefined) continue;
      const compiled = this.#compiled.get(identity.name);
      const first = compiled?.writeDeleteConflicts([bucket], grants, principalArn(identity.name, identity.kind)).find((c) => c.bucket === bucket);
      if (first !== undefined) throw dutyConflict(`identity "${identity.name}"`, first);
    }
    // Any principal at all, even one created later: the policy alone must not grant both.
    const anyone = compileIdentityPolicies({ name: 'anyone', roles: [], policies: {} });
    const first = anyone.writeDeleteConflicts([bucket], grants, principalArn('\u0000any', 'user')).find((c) => c.bucket === bucket);
    if (first !== undefined) throw dutyConflict('any principal', first);
  }

  // ---- access keys ------------------------------------------------------------------------

  listAccessKeys(owner?: string): AccessKeyInfo[] {
    return [...this.#keys.values()]
      .map((k) => k.stored)
      .filter((k) => owner === undefined || k.owner === owner)
      .map(keyInfo)
      .sort((a, b) => a.createdMs - b.createdMs);
  }

  getAccessKey(accessKeyId: string): AccessKeyInfo {
    const key = this.#keys.get(accessKeyId);
    if (key === undefined) throw s3errors.noSuchEntity(`The access key ${accessKeyId}`);
    return keyInfo(key.stored);
  }

  createAccessKey(owner: string, options: { expiresMs?: number; description?: string } = {}): Promise<CreatedAccessKey> {
    return this.#change((directory) => {
      directory.identity(owner);
      const existing = [...directory.keys.values()].filter((k) => k.owner === owner);
      if (existing.length >= MAX_KEYS_PER_IDENTITY) {
        throw s3errors.limitExceeded(`Identity "${owner}" already has ${MAX_KEYS_PER_IDENTITY} access keys; delete an old one first.`);
      }
      const { stored, pair } = this.#newKey(directory, owner, options);
      const keys = [...directory.keys.values(), stored];
      return {
        document: directory.next(directory.identities.values(), keys),
        result: { key: keyInfo(stored), secretAccessKey: pair.secretAccessKey },
      };
    });
  }

  #newKey(directory: IdentityDirectory, owner: string, options: { expiresMs?: number; description?: string }): { stored: StoredAccessKey; pair: AccessKeyPair } {
    const nowMs = this.#options.nowMs();
    if (options.expiresMs !== undefined && options.expiresMs <= nowMs) {
      throw s3errors.invalidArgument('The expiry of a new access key must be in the future.', 'expiresAt', new Date(options.expiresMs).toISOString());
    }
    if (options.description !== undefined && options.description.length > 256) {
      throw s3errors.invalidArgument('An access key description is at most 256 characters.', 'description');
    }
    let pair = generateAccessKeyPair();
    while (directory.keys.has(pair.accessKeyId)) pair = generateAccessKeyPair();
    const stored: StoredAccessKey = {
      accessKeyId: pair.accessKeyId,
      sealedSecret: this.#sealer.seal(pair.secretAccessKey.reveal(), pair.accessKeyId),
      owner,
      status: 'active',
      createdMs: nowMs,
      ...(options.expiresMs === undefined ? {} : { expiresMs: options.expiresMs }),
      ...(options.description === undefined ? {} : { description: options.description }),
    };
    return { stored, pair };
  }

  updateAccessKey(accessKeyId: string, change: { status?: AccessKeyStatus; expiresMs?: number | null }): Promise<AccessKeyInfo> {
    return this.#change((directory) => {
      const current = directory.userKey(accessKeyId);
      const next: StoredAccessKey = { ...current, ...(change.status === undefined ? {} : { status: change.status }) };
      const withExpiry: StoredAccessKey =
        change.expiresMs === undefined
          ? next
          : change.expiresMs === null
            ? (({ expiresMs: _, ...rest }) => rest)(next)
            : { ...next, expiresMs: change.expiresMs };
      return { document: directory.withKeyReplaced(accessKeyId, [withExpiry]), result: keyInfo(withExpiry) };
    });
  }

  /**
   * A new key for the same identity; the old one keeps working for `graceMs` (0: it stops now)
   * so deployments can switch without an outage.
   */
  rotateAccessKey(accessKeyId: string, graceMs: number): Promise<{ old: AccessKeyInfo; created: CreatedAccessKey }> {
    return this.#change((directory) => {
      const current = directory.userKey(accessKeyId);
      const nowMs = this.#options.nowMs();
      const old: StoredAccessKey =
        graceMs <= 0 ? { ...current, status: 'inactive' } : { ...current, expiresMs: Math.min(current.expiresMs ?? Infinity, nowMs + graceMs) };
      const { stored, pair } = this.#newKey(directory, current.owner, current.description === undefined ? {} : { description: current.description });
      return {
        document: directory.withKeyReplaced(accessKeyId, [old, stored]),
        result: { old: keyInfo(old), created: { key: keyInfo(stored), secretAccessKey: pair.secretAccessKey } },
      };
    });
  }

  deleteAccessKey(accessKeyId: string): Promise<AccessKeyInfo> {
    return this.#change((directory) => {
      const current = directory.userKey(accessKeyId);
      return { document: directory.withKeyReplaced(accessKeyId, []), result: keyInfo(current) };
    });
  }
}

function bucketPolicies(buckets: readonly BucketGrants[]): NamedPolicy[] {
  return buckets.flatMap((b) => (b.policy === undefined ? [] : [{ name: `bucket-policy:${b.name}`, document: b.policy }]));
}

function dutyConflict(who: string, conflict: Conflict): S3Error {
  const where = conflict.bucket === '*' ? 'any bucket' : `bucket "${conflict.bucket}"`;
  return s3errors.separationOfDutiesConflict(
    `Separation of duties: ${who} would be allowed both ${conflict.write} and ${conflict.delete} on ${where}. ` +
      'Give writing and deleting to different identities (e.g. backup-writer and pruner), or, for a test bucket only, ' +
      'record an override with a reason (`holdfast admin users set-duty-override NAME --reason TEXT`).',
  );
}

function keyInfo(stored: StoredAccessKey): AccessKeyInfo {
  const { sealedSecret: _, ...info } = stored;
  return info;
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

import { s3errors } from './errors.js';
import type { AccessKeyPair } from './root-credentials.js';
import { Secret } from './secret.js';
import type { MetadataStore } from './ports.js';

/** Seals secrets for storage (AES-256-GCM with a key kept outside the metadata; see SecretBox). */
export interface SecretSealer {
  seal(plaintext: string, associatedData: string): string;
  open(sealed: string, associatedData: string): string;
}

interface StoredAccessKey {
  readonly accessKeyId: string;
  readonly sealedSecret: string;
  readonly identity: string;
  readonly createdMs: number;
}

const SETTING = 'access-keys';

/**
 * The access keys the vault accepts. Secrets are sealed at rest and held in memory only as
 * `Secret`s, so they cannot reach a log by accident. Lookups are synchronous because the
 * SigV4 verifier runs on every request.
 */
export class AccessKeyRegistry {
  readonly #metadata: MetadataStore;
  readonly #sealer: SecretSealer;
  #keys = new Map<string, { identity: string; secret: Secret; stored: StoredAccessKey }>();

  constructor(metadata: MetadataStore, sealer: SecretSealer) {
    this.#metadata = metadata;
    this.#sealer = sealer;
  }

  async load(): Promise<void> {
    const raw = await this.#metadata.getSetting(SETTING);
    const stored = raw === undefined ? [] : (JSON.parse(raw) as StoredAccessKey[]);
    const keys = new Map<string, { identity: string; secret: Secret; stored: StoredAccessKey }>();
    for (const entry of stored) {
      let plaintext: string;
      try {
        plaintext = this.#sealer.open(entry.sealedSecret, entry.accessKeyId);
      } catch {
        throw new Error(
          `Cannot decrypt the secret of access key ${entry.accessKeyId}: the key file does not match this data directory. Restore the original keys/secret-box.key.`,
        );
      }
      keys.set(entry.accessKeyId, { identity: entry.identity, secret: new Secret(plaintext), stored: entry });
    }
    this.#keys = keys;
  }

  rootAccessKeyId(): string | undefined {
    for (const [id, key] of this.#keys) if (key.identity === 'root') return id;
    return undefined;
  }

  /** Makes `pair` the one root key, replacing any previous root key. */
  async setRoot(pair: AccessKeyPair, nowMs: number): Promise<void> {
    const entries = [...this.#keys.values()].map((k) => k.stored).filter((k) => k.identity !== 'root');
    entries.push({
      accessKeyId: pair.accessKeyId,
      sealedSecret: this.#sealer.seal(pair.secretAccessKey.reveal(), pair.accessKeyId),
      identity: 'root',
      createdMs: nowMs,
    });
    await this.#metadata.putSetting(SETTING, JSON.stringify(entries));
    await this.load();
  }

  /** The secret for SigV4 verification, or undefined for an unknown key. */
  secretFor(accessKeyId: string): string | undefined {
    return this.#keys.get(accessKeyId)?.secret.reveal();
  }

  identityOf(accessKeyId: string): string {
    const key = this.#keys.get(accessKeyId);
    if (key === undefined) throw s3errors.invalidAccessKeyId();
    return key.identity;
  }
}

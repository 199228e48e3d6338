import { type KeyObject, createHash, verify } from 'node:crypto';

/**
 * A checkpoint: the head of a chain at some moment, signed (Ed25519, RFC 8032) with the
 * server's audit key, and stored where the server itself cannot change it (compliance-locked
 * objects in a system bucket). An entry covered by a checkpoint cannot be edited, removed or
 * reordered undetected, even by someone who can rewrite the whole audit database and recompute
 * every hash: they cannot produce a second signed checkpoint, nor delete the locked one.
 */
export interface AuditCheckpoint {
  readonly chain: string;
  readonly seq: number;
  readonly hash: string;
  readonly timeMs: number;
  /** auditKeyId() of the signing key. */
  readonly keyId: string;
  /** Ed25519 signature over checkpointSigningPayload(), base64. */
  readonly signature: string;
}

/** Signs checkpoints; the private key never leaves the implementation. */
export interface CheckpointSigner {
  readonly keyId: string;
  /** Ed25519 signature over `payload`, base64. */
  sign(payload: Uint8Array): string;
}

/**
 * Where checkpoints are kept. The server's implementation writes each as a compliance-locked
 * object in a system bucket.
 */
export interface CheckpointSink {
  /** MUST resolve only once the checkpoint is durable and protected from deletion and overwrite. */
  write(checkpoint: AuditCheckpoint): Promise<void>;
  /** Every checkpoint kept (of every chain), in any order. */
  list(): Promise<AuditCheckpoint[]>;
}

/**
 * The bytes a checkpoint's signature covers: the UTF-8 JSON object
 * {"type":"holdfast.audit-checkpoint.v1","chain":…,"seq":…,"hash":…,"timeMs":…,"keyId":…}
 * with members in this order and no whitespace. The type member keeps a signature made for a
 * checkpoint from being valid for anything else signed with the same key.
 */
export function checkpointSigningPayload(checkpoint: Omit<AuditCheckpoint, 'signature'>): Buffer {
  const json =
    `{"type":"holdfast.audit-checkpoint.v1","chain":${JSON.stringify(checkpoint.chain)},"seq":${JSON.stringify(checkpoint.seq)}` +
    `,"hash":${JSON.stringify(checkpoint.hash)},"timeMs":${JSON.stringify(checkpoint.timeMs)},"keyId":${JSON.stringify(checkpoint.keyId)}}`;
  return Buffer.from(json, 'utf8');
}

/** A key's id: the first 16 bytes of SHA-256 over its SubjectPublicKeyInfo (DER), hex. */
export function auditKeyId(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex').slice(0, 32);
}

export function signCheckpoint(signer: CheckpointSigner, head: { chain: string; seq: number; hash: string; timeMs: number }): AuditCheckpoint {
  const unsigned = { chain: head.chain, seq: head.seq, hash: head.hash, timeMs: head.timeMs, keyId: signer.keyId };
  return { ...unsigned, signature: signer.sign(checkpointSigningPayload(unsigned)) };
}

/** Why a checkpoint is not valid under `publicKey`, or undefined if it is. Never throws. */
export function checkpointProblem(checkpoint: unknown, publicKey: KeyObject): string | undefined {
  if (!isCheckpointShaped(checkpoint)) return 'the checkpoint is malformed';
  const expectedKeyId = auditKeyId(publicKey);
  if (checkpoint.keyId !== expectedKeyId) {
    return `the checkpoint is signed by key ${checkpoint.keyId.slice(0, 32)}, not by the audit key ${expectedKeyId}`;
  }
  const signature = Buffer.from(checkpoint.signature, 'base64');
  let valid: boolean;
  try {
    valid = verify(null, checkpointSigningPayload(checkpoint), publicKey, signature);
  } catch {
    valid = false;
  }
  return valid ? undefined : 'the checkpoint signature does not verify';
}

/** Parses a checkpoint from untrusted JSON (e.g. an object read back from the system bucket). */
export function parseAuditCheckpoint(json: string): AuditCheckpoint {
  const value: unknown = JSON.parse(json);
  if (!isCheckpointShaped(value)) throw new Error('not an audit checkpoint');
  const { chain, seq, hash, timeMs, keyId, signature } = value;
  return { chain, seq, hash, timeMs, keyId, signature };
}

function isCheckpointShaped(value: unknown): value is AuditCheckpoint {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  return (
    typeof c.chain === 'string' &&
    Number.isSafeInteger(c.seq) &&
    (c.seq as number) >= 1 &&
    typeof c.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(c.hash) &&
    Number.isSafeInteger(c.timeMs) &&
    typeof c.keyId === 'string' &&
    typeof c.signature === 'string'
  );
}

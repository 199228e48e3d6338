import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { systemClock, type Clock } from '../../infra/clock.js';
import type { S3Client } from '../../infra/s3-client/s3-client.js';
import { isNoSuchKey, S3IntegrityError, S3RequestError, S3TransportError } from '../../infra/s3-client/s3-client-errors.js';
import { DigestingStream } from '../../infra/streams/digesting-stream.js';
import type { BackupRepositoryLocation } from './backup-repository.js';
import { readRepositoryOverview, type RepositoryOverview } from './repository-overview.js';
import type { ArchivedWalFile } from './wal-archive-listing.js';
import { walDecoder } from './wal-compression.js';
import { readWalObjectMetadata, walAssociatedData } from './wal-object-metadata.js';
import { contentDigest, DecryptionError, type RepositoryKey } from './repository-key.js';
import { readWriteOnceObject } from './write-once-object.js';

/**
 * `holdfast pg verify`: everything a restore will rely on, checked now rather than on the day of
 * the restore.
 *
 * - Every stored object is read back in full (unless `readData` is false): base backup parts
 *   against the manifest's size and SHA-256, WAL files decoded and checked against the size and
 *   SHA-256 of the original recorded at push; the S3 client also checks each body against the
 *   checksum the server stored.
 * - Every manifest parses and every part it names exists.
 * - WAL continuity: for each backup, every segment a recovery to the newest archived WAL needs
 *   (across timeline switches); gaps are reported by segment name.
 * - Objects under `wal/` that are not WAL files (put there by something else) are reported.
 *
 * Problems are collected, not thrown: one bad object does not hide the next.
 */

export type VerificationProblemKind = 'checksum' | 'overwritten-object' | 'missing-object' | 'unreadable' | 'foreign-object' | 'invalid-manifest' | 'wal-gap' | 'no-restore-plan' | 'history-file';

export interface VerificationProblem {
  readonly kind: VerificationProblemKind;
  /** The object key, segment name or backup id the problem is about. */
  readonly subject: string;
  readonly message: string;
}

export interface VerificationProgress {
  readonly objects: number;
  readonly totalObjects: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface RepositoryVerificationOptions {
  readonly client: S3Client;
  readonly location: BackupRepositoryLocation;
  /** Read every object's bytes (default true); false checks the catalog and continuity only. */
  readonly readData?: boolean;
  /** Objects read at once (default 4). */
  readonly concurrency?: number;
  readonly clock?: Clock;
  readonly onProgress?: (progress: VerificationProgress) => void;
  /** The repository key: encrypted WAL is then opened and checked against its keyed digest. */
  readonly encryption?: RepositoryKey | undefined;
}

export interface RepositoryVerification {
  readonly overview: RepositoryOverview;
  readonly objectsRead: number;
  readonly bytesRead: number;
  readonly problems: readonly VerificationProblem[];
  /** Encrypted objects checked against their stored checksum only, for want of the key. */
  readonly notDecrypted: number;
  readonly durationMs: number;
}

interface ObjectCheck {
  readonly key: string;
  readonly size: number;
  /** Reads the object and returns a problem, or undefined when it is sound. */
  readonly check: () => Promise<VerificationProblem | undefined>;
}

export async function verifyRepository(options: RepositoryVerificationOptions): Promise<RepositoryVerification> {
  const clock = options.clock ?? systemClock;
  const began = clock.nowMs();
  const { client, location } = options;
  const overview = await readRepositoryOverview(client, location, options.encryption);
  const problems: VerificationProblem[] = [];
  for (const bad of overview.catalog.invalid) problems.push({ kind: 'invalid-manifest', subject: bad.key, message: bad.problem });
  for (const stray of overview.catalog.listing.strays) problems.push({ kind: 'foreign-object', subject: stray, message: `${stray} is under wal/ but is not a WAL file name in its timeline folder; holdfast never wrote it and no restore reads it.` });
  for (const problem of overview.historyProblems) problems.push({ kind: 'history-file', subject: problem.split(':')[0]!, message: problem });
  for (const backup of overview.backups) {
    const id = backup.manifest.id;
    if (backup.planProblem !== undefined) problems.push({ kind: 'no-restore-plan', subject: id, message: backup.planProblem });
    for (const segment of backup.missingWal) {
      problems.push({ kind: 'wal-gap', subject: segment, message: `segment ${segment} is missing: a recovery from backup ${id} to the newest WAL (timeline ${backup.targetTimeline}) needs it${backup.missingWalCount > backup.missingWal.length ? ` (${backup.missingWalCount} segments missing in all)` : ''}.` });
    }
  }

  // Tamper evidence: a write-once key with more than one version, or a delete marker, means
  // something with write access tried to replace or hide what was archived. Restores read the
  // first version regardless (write-once-object.ts); verify names every such key.
  const versionsByKey = new Map<string, { versions: number; deleteMarkers: number }>();
  for await (const version of client.listObjectVersions({ bucket: location.bucket, ...(location.prefix === '' ? {} : { prefix: `${location.prefix}/` }) })) {
    const entry = versionsByKey.get(version.key) ?? { versions: 0, deleteMarkers: 0 };
    if (version.isDeleteMarker) entry.deleteMarkers += 1;
    else entry.versions += 1;
    versionsByKey.set(version.key, entry);
  }
  for (const [key, entry] of versionsByKey) {
    if (entry.versions > 1 || entry.deleteMarkers > 0) {
      const what = [entry.versions > 1 ? `${entry.versions - 1} later version(s) written over it` : '', entry.deleteMarkers > 0 ? `${entry.deleteMarkers} delete marker(s)` : ''].filter((x) => x !== '').join(' and ');
      problems.push({ kind: 'overwritten-object', subject: key, message: `${key} was written once by holdfast but has ${what}; restores use the first version. Find out what wrote to the repository.` });
    }
  }

  const checks: ObjectCheck[] = [];
  for (const backup of overview.backups) {
    for (const part of backup.manifest.parts) {
      checks.push({ key: part.key, size: part.size, check: () => checkPart(client, location.bucket, backup.manifest.id, part) });
    }
  }
  let notDecrypted = 0;
  const countNotDecrypted = () => (notDecrypted += 1);
  for (const file of overview.catalog.listing.files) checks.push({ key: file.key, size: file.size, check: () => checkWalFile(client, location.bucket, file, options.encryption, countNotDecrypted) });

  let objectsRead = 0;
  let bytesRead = 0;
  if (options.readData !== false) {
    const totalBytes = checks.reduce((sum, c) => sum + c.size, 0);
    let next = 0;
    const worker = async () => {
      while (next < checks.length) {
        const item = checks[next++]!;
        const problem = await item.check();
        if (problem !== undefined) problems.push(problem);
        objectsRead += 1;
        bytesRead += item.size;
        options.onProgress?.({ objects: objectsRead, totalObjects: checks.length, bytes: bytesRead, totalBytes });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
  } else {
    // Catalog only: the parts must at least exist with their recorded size.
    for (const backup of overview.backups) {
      for (const part of backup.manifest.parts) {
        try {
          const head = await client.headObject({ bucket: location.bucket, key: part.key });
          if (head.contentLength !== part.size) problems.push({ kind: 'checksum', subject: part.key, message: `${part.key} is ${head.contentLength} bytes, the manifest of backup ${backup.manifest.id} says ${part.size}.` });
        } catch (error) {
          problems.push(problemOf(error, part.key, `part of backup ${backup.manifest.id}`));
        }
      }
    }
  }
  return { overview, objectsRead, bytesRead, problems: Object.freeze(problems), notDecrypted, durationMs: clock.nowMs() - began };
}

async function checkPart(client: S3Client, bucket: string, backupId: string, part: { key: string; size: number; sha256: string }): Promise<VerificationProblem | undefined> {
  try {
    const read = await readWriteOnceObject(client, bucket, part.key);
    if (read === undefined) return { kind: 'missing-object', subject: part.key, message: `${part.key} (part of backup ${backupId}) is missing.` };
    const { body } = read;
    const digest = new DigestingStream();
    await pipeline(body, digest, discard());
    const sha256 = digest.sha256();
    if (digest.size !== part.size || sha256 !== part.sha256) {
      return { kind: 'checksum', subject: part.key, message: `${part.key} is ${digest.size} bytes with sha256 ${sha256}; the manifest of backup ${backupId} says ${part.size} bytes with ${part.sha256}.` };
    }
    return undefined;
  } catch (error) {
    return problemOf(error, part.key, `part of backup ${backupId}`);
  }
}

async function checkWalFile(client: S3Client, bucket: string, file: ArchivedWalFile, key: RepositoryKey | undefined, onNotDecrypted: () => void): Promise<VerificationProblem | undefined> {
  try {
    const read = await readWriteOnceObject(client, bucket, file.key);
    if (read === undefined) return { kind: 'missing-object', subject: file.key, message: `${file.key} disappeared while it was verified.` };
    const { head, body } = read;
    const description = readWalObjectMetadata(head.metadata);
    if (description === undefined) {
      body.destroy();
      return { kind: 'foreign-object', subject: file.key, message: `${file.key} has no holdfast WAL metadata (size, SHA-256, compression): it was not written by wal-push, and wal-fetch refuses it.` };
    }
    let source: Readable = body;
    if (description.encryptionKeyId !== undefined) {
      if (key === undefined) {
        // Without the key, the stored bytes are still checked against the server's checksum.
        await pipeline(body, discard());
        onNotDecrypted();
        return undefined;
      }
      if (key.keyId !== description.encryptionKeyId) {
        body.destroy();
        return { kind: 'checksum', subject: file.key, message: `${file.name} is encrypted with key ${description.encryptionKeyId}, not with the key given (${key.keyId}).` };
      }
      const chunks: Buffer[] = [];
      for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
      source = Readable.from([key.open(Buffer.concat(chunks), walAssociatedData(file.name), file.key)]);
    }
    const digest = new DigestingStream(contentDigest(description.encryptionKeyId === undefined ? undefined : key));
    const decoder = walDecoder(description.compression);
    if (decoder === undefined) await pipeline(source, digest, discard());
    else await pipeline(source, decoder, digest, discard());
    const sha256 = digest.sha256();
    if (digest.size !== description.size || sha256 !== description.sha256) {
      return { kind: 'checksum', subject: file.key, message: `${file.name} decodes to ${digest.size} bytes with sha256 ${sha256}; it was archived as ${description.size} bytes with ${description.sha256}.` };
    }
    return undefined;
  } catch (error) {
    return problemOf(error, file.key, 'archived WAL file');
  }
}

/** A finding about the object — or, for an unreachable endpoint or refused key, a failure of the run (thrown). */
function problemOf(error: unknown, key: string, what: string): VerificationProblem {
  if (error instanceof S3TransportError || (error instanceof S3RequestError && error.status === 403)) throw error;
  if (isNoSuchKey(error)) return { kind: 'missing-object', subject: key, message: `${key} (${what}) is missing.` };
  if (error instanceof S3IntegrityError || error instanceof DecryptionError) return { kind: 'checksum', subject: key, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  // gunzip of damaged bytes ends here too: the stored object is not what was pushed.
  if ((error as { code?: string }).code?.startsWith('Z_') === true) return { kind: 'checksum', subject: key, message: `${key} (${what}) does not decode: ${message}` };
  return { kind: 'unreadable', subject: key, message: `${key} (${what}) could not be read: ${message}` };
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

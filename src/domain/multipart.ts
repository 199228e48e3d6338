import { createHash, randomBytes } from 'node:crypto';
import {
  type ChecksumAlgorithm,
  combineCrc,
  compositeChecksum,
  supportsCompositeChecksum,
  decodeChecksum,
  encodeChecksum,
} from '../infra/checksum/checksum.js';
import type { WriteConditions } from './conditions.js';
import { checkWriteConditions } from './conditions.js';
import { S3Error, s3errors } from './errors.js';
import { type IntegrityExpectations, discardData, ingestBody, storedChecksumOf } from './ingest.js';
import type { BlobRef, MultipartUploadRecord, ObjectVersionRecord, StoredHeaders, UploadPartRecord } from './model.js';
import { assertValidObjectKey } from './names.js';
import type { WriteDeadline } from './ports.js';
import { type RequestedLock, retentionForNewVersion } from './object-lock.js';
import { type Vault, type ByteRange, assertIntegrityForLockedWrite } from './vault.js';

/** AWS multipart limits (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 ** 3;
export const MAX_PARTS = 10_000;

export interface CompletedPartInput {
  readonly partNumber: number;
  readonly etag: string;
}

/** Upload ids start with the time so uploads of one key list in initiation order, as S3 lists them. */
function newUploadId(nowMs: number): string {
  return nowMs.toString(16).padStart(12, '0') + randomBytes(12).toString('base64url');
}

function normalizeEtag(etag: string): string {
  const trimmed = etag.trim();
  return trimmed.startsWith('"') ? trimmed : `"${trimmed}"`;
}

/**
 * Multipart uploads. Parts are durable blobs of their own; completing an upload stitches the
 * chosen parts' blobs into one object version without copying a byte, so completing a 5 TiB
 * upload costs one metadata transaction.
 */
export class MultipartUploads {
  readonly #vault: Vault;

  constructor(vault: Vault) {
    this.#vault = vault;
  }

  async create(
    bucket: string,
    key: string,
    headers: StoredHeaders,
    checksumAlgorithm: ChecksumAlgorithm | undefined,
    lock: RequestedLock = { retention: undefined, legalHold: undefined },
  ): Promise<MultipartUploadRecord> {
    assertValidObjectKey(key);
    const record = await this.#vault.getBucket(bucket);
    this.#vault.assertLockableWrite(record, lock, undefined, 'Create Multipart Upload');
    const now = this.#vault.clock.nowMs();
    const upload: MultipartUploadRecord = {
      bucket,
      key,
      uploadId: newUploadId(now),
      initiatedMs: now,
      headers,
      checksumAlgorithm,
      lock,
    };
    await this.#vault.metadata.createUpload(upload);
    return upload;
  }

  async #upload(bucket: string, key: string, uploadId: string): Promise<MultipartUploadRecord> {
    await this.#vault.getBucket(bucket);
    const upload = await this.#vault.metadata.getUpload(bucket, key, uploadId);
    if (upload === undefined) throw s3errors.noSuchUpload(uploadId);
    return upload;
  }

  async uploadPart(input: {
    readonly bucket: string;
    readonly key: string;
    readonly uploadId: string;
    readonly partNumber: number;
    readonly body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
    readonly declaredSize: number | undefined;
    readonly integrity: IntegrityExpectations;
  }): Promise<UploadPartRecord> {
    assertPartNumber(input.partNumber);
    const upload = await this.#upload(input.bucket, input.key, input.uploadId);
    // Parts of an object that will be locked need an integrity check, as whole-object writes do.
    const willBeLocked =
      upload.lock.retention !== undefined || upload.lock.legalHold !== undefined || (await this.#vault.getBucket(input.bucket)).defaultRetention !== undefined;
    assertIntegrityForLockedWrite(willBeLocked, input.integrity, 'Put Part');
    if (
      upload.checksumAlgorithm !== undefined &&
      input.integrity.checksum !== undefined &&
      input.integrity.checksum.algorithm !== upload.checksumAlgorithm
    ) {
      throw s3errors.invalidRequest(
        `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${input.integrity.checksum.algorithm.toLowerCase()}`,
      );
    }
    const deadline = this.#vault.writeDeadline();
    const body = await ingestBody(input.body, input.integrity, {
      blobs: this.#vault.blobs,
      // Parts are always blobs: a completed object is stitched from blob references.
      inlineLimit: -1,
      digester: this.#vault.options.digester,
      onCleanupFailure: (e) => this.#vault.options.onBlobFailure?.('removing the blob of a failed part upload (the orphan sweep removes it later)', e),
      declaredSize: input.declaredSize,
      maxSize: MAX_PART_BYTES,
      checksumAlgorithm: upload.checksumAlgorithm,
    });
    return this.#recordPart(input.bucket, input.key, input.uploadId, input.partNumber, body, deadline);
  }

  async uploadPartCopy(input: {
    readonly bucket: string;
    readonly key: string;
    readonly uploadId: string;
    readonly partNumber: number;
    readonly source: ObjectVersionRecord;
    readonly range: ByteRange | undefined;
  }): Promise<UploadPartRecord> {
    assertPartNumber(input.partNumber);
    const upload = await this.#upload(input.bucket, input.key, input.uploadId);
    const size = input.range === undefined ? input.source.size : input.range.end - input.range.start + 1;
    if (size > MAX_PART_BYTES) throw s3errors.entityTooLarge(MAX_PART_BYTES);
    const deadline = this.#vault.writeDeadline();
    const body = await ingestBody(this.#vault.openData(input.source.data, input.range), {}, {
      blobs: this.#vault.blobs,
      inlineLimit: -1,
      digester: this.#vault.options.digester,
      onCleanupFailure: (e) => this.#vault.options.onBlobFailure?.('removing the blob of a failed part upload (the orphan sweep removes it later)', e),
      declaredSize: size,
      maxSize: MAX_PART_BYTES,
      checksumAlgorithm: upload.checksumAlgorithm,
    });
    return this.#recordPart(input.bucket, input.key, input.uploadId, input.partNumber, body, deadline);
  }

  async #recordPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Awaited<ReturnType<typeof ingestBody>>,
    deadline: WriteDeadline | undefined,
  ): Promise<UploadPartRecord> {
    const part: UploadPartRecord = {
      uploadId,
      partNumber,
      size: body.size,
      etag: `"${body.md5.toString('hex')}"`,
      lastModifiedMs: this.#vault.clock.nowMs(),
      checksum: storedChecksumOf(body),
      data: body.data,
    };
    try {
      const { displaced } = await this.#vault.metadata.putPart(bucket, key, part, deadline);
      this.#vault.discardLater(displaced);
    } catch (error) {
      await discardData(this.#vault.blobs, body.data).catch((e: unknown) => this.#vault.options.onBlobFailure?.('removing the blob of an unrecorded part (the orphan sweep removes it later)', e));
      throw error;
    }
    return part;
  }

  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    requested: readonly CompletedPartInput[],
    conditions: WriteConditions,
  ): Promise<ObjectVersionRecord> {
    const upload = await this.#upload(bucket, key, uploadId);
    if (requested.length === 0) {
      throw s3errors.malformedXml('The XML you provided was not well-formed or did not validate against our published schema');
    }
    for (let i = 1; i < requested.length; i++) {
      if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) throw s3errors.invalidPartOrder();
    }
    const stored = new Map<number, UploadPartRecord>();
    for (const part of await this.#vault.metadata.listParts(uploadId, 0, MAX_PARTS)) stored.set(part.partNumber, part);

    const chosen: UploadPartRecord[] = requested.map((want) => {
      const part = stored.get(want.partNumber);
      if (part === undefined || part.etag !== normalizeEtag(want.etag)) throw s3errors.invalidPart();
      return part;
    });
    chosen.forEach((part, i) => {
      if (i < chosen.length - 1 && part.size < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', s3errors.entityTooSmall().message, {
          ProposedSize: String(part.size),
          MinSizeAllowed: String(MIN_PART_BYTES),
          PartNumber: String(part.partNumber),
          ETag: part.etag,
        });
      }
    });

    const md5OfMd5s = createHash('md5');
    const blobs: BlobRef[] = [];
    for (const part of chosen) {
      md5OfMd5s.update(Buffer.from(part.etag.slice(1, -1), 'hex'));
      if (part.data.kind === 'blobs') blobs.push(...part.data.blobs);
    }
    let checksum: ObjectVersionRecord['checksum'];
    if (upload.checksumAlgorithm !== undefined) {
      const algorithm = upload.checksumAlgorithm;
      const digests = chosen.map((p) => (p.checksum === undefined ? undefined : decodeChecksum(algorithm, p.checksum.value)));
      if (digests.every((d): d is Buffer => d !== undefined)) {
        if (supportsCompositeChecksum(algorithm)) {
          checksum = { algorithm, value: compositeChecksum(algorithm, digests), type: 'COMPOSITE' };
        } else {
          // CRC64NVME is always a full-object checksum (AWS "Checking object integrity"): fold the parts' CRCs.
          let whole = digests[0]!;
          for (let i = 1; i < digests.length; i++) whole = combineCrc('CRC64NVME', whole, digests[i]!, chosen[i]!.size);
          checksum = { algorithm, value: encodeChecksum(whole), type: 'FULL_OBJECT' };
        }
      }
    }
    const bucketRecord = await this.#vault.getBucket(bucket);
    const now = this.#vault.clock.nowMs();
    const result = await this.#vault.metadata.completeUpload(
      bucket,
      key,
      uploadId,
      {
        bucket,
        key,
        isDeleteMarker: false,
        size: chosen.reduce((sum, p) => sum + p.size, 0),
        etag: `"${md5OfMd5s.digest('hex')}-${chosen.length}"`,
        lastModifiedMs: now,
        headers: upload.headers,
        checksum,
        partSizes: chosen.map((p) => p.size),
        data: { kind: 'blobs', blobs },
        retention: retentionForNewVersion(upload.lock.retention, bucketRecord.defaultRetention, now),
        legalHold: upload.lock.legalHold,
      },
      chosen.map((p) => p.partNumber),
      (latest) => checkWriteConditions(conditions, key, latest),
    );
    this.#vault.discardLater(result.displaced);
    await this.#vault.protectIfLocked(result.version);
    return result.version;
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#vault.getBucket(bucket);
    const parts = await this.#vault.metadata.abortUpload(bucket, key, uploadId);
    if (parts === undefined) throw s3errors.noSuchUpload(uploadId);
    this.#vault.discardLater(parts);
  }

  async listParts(bucket: string, key: string, uploadId: string, afterPartNumber: number, maxParts: number) {
    const upload = await this.#upload(bucket, key, uploadId);
    const parts = await this.#vault.metadata.listParts(uploadId, afterPartNumber, maxParts + 1);
    return { upload, parts: parts.slice(0, maxParts), isTruncated: parts.length > maxParts };
  }

  async listUploads(bucket: string, options: { prefix: string; keyMarker: string; uploadIdMarker: string; maxUploads: number }) {
    await this.#vault.getBucket(bucket);
    const uploads = await this.#vault.metadata.listUploads(bucket, {
      prefix: options.prefix,
      keyMarker: options.keyMarker,
      uploadIdMarker: options.uploadIdMarker,
      limit: options.maxUploads + 1,
    });
    return { uploads: uploads.slice(0, options.maxUploads), isTruncated: uploads.length > options.maxUploads };
  }

  /** Aborts uploads older than `maxAgeMs`; returns how many. Abandoned parts must not hold disk forever. */
  async sweepAbandoned(maxAgeMs: number): Promise<number> {
    const stale = await this.#vault.metadata.listStaleUploads(this.#vault.clock.nowMs() - maxAgeMs, 1000);
    for (const upload of stale) {
      const parts = await this.#vault.metadata.abortUpload(upload.bucket, upload.key, upload.uploadId);
      if (parts !== undefined) this.#vault.discardLater(parts);
    }
    return stale.length;
  }
}

function assertPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw s3errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', String(partNumber));
  }
}

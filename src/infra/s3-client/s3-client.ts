import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { systemClock, type Clock } from '../clock.js';
import { ChecksumVerifyingStream } from './checksum-verifying-stream.js';
import { type ObjectHead, objectHeadFrom, storedChecksumFrom } from './object-head.js';
import { DEFAULT_RETRY_POLICY, realSleep, type RetryPolicy, type Sleep, withRetries } from './retry-policy.js';
import { codeForStatus, isNoObjectLock, isRetryable, isRetryableErrorBody, S3IntegrityError, S3RequestError, S3TransportError } from './s3-client-errors.js';
import type { S3Credentials } from './s3-credentials.js';
import type { BucketObjectLock, ListedObject, ListedObjectVersion, ListObjectsV2Page, ListObjectVersionsPage, ObjectRetention } from './s3-xml.js';
import { escapeXml } from '../xml/escape-xml.js';
import { objectPath, signRequest } from './sigv4-signer.js';

export interface S3ClientOptions {
  /** Scheme, host and port (and a base path, behind a proxy); requests are path-style. */
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: S3Credentials;
  /** Extra trusted CA certificates (PEM) for an https endpoint (AWS_CA_BUNDLE). */
  readonly ca?: string | undefined;
  readonly clock?: Clock;
  readonly retry?: RetryPolicy;
  readonly sleep?: Sleep;
  /** An attempt during which no byte moves for this long fails with ETIMEDOUT. Default 60 s. */
  readonly idleTimeoutMs?: number;
}

/** A body that can be sent again on a retry: bytes in memory, or a file read twice (hash, send). */
export type PutObjectBody = { readonly kind: 'bytes'; readonly bytes: Uint8Array } | { readonly kind: 'file'; readonly path: string };

export interface ObjectLockRequest {
  readonly mode: 'COMPLIANCE' | 'GOVERNANCE';
  readonly retainUntilMs: number;
}

export interface PutObjectInput {
  readonly bucket: string;
  readonly key: string;
  readonly body: PutObjectBody;
  /** `If-None-Match: *`: create only; an existing key fails with PreconditionFailed (`isAlreadyExists`). */
  readonly createOnly?: boolean;
  readonly contentType?: string;
  /** User metadata, sent as `x-amz-meta-NAME` (names lower-case ASCII, values ASCII). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Explicit retention; without it the bucket's default retention (if any) applies. */
  readonly objectLock?: ObjectLockRequest;
}

export interface PutObjectOutput {
  readonly etag: string;
  readonly versionId: string | undefined;
  /** Base64 SHA-256 of the bytes sent: signed as the payload hash and stored as `x-amz-checksum-sha256`. */
  readonly checksumSha256: string;
  readonly size: number;
}

/** Bytes [start, end] of an object, both inclusive (an HTTP Range). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** What UploadPart answered, as CompleteMultipartUpload lists it. */
export interface UploadedPart {
  readonly etag: string;
  /** Base64 SHA-256 of the part's bytes. */
  readonly checksumSha256: string;
}

export interface ObjectAddress {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

export interface GetObjectOutput {
  readonly head: ObjectHead;
  /**
   * The object's bytes. The stream errors with `S3IntegrityError` at its end if they do not match
   * Content-Length or the stored FULL_OBJECT checksum. The caller must consume or destroy it.
   */
  readonly body: Readable;
  /** Whether `body` is checked against a stored checksum (the server returned one). */
  readonly checksumVerified: boolean;
}

export interface ListObjectsV2Input {
  readonly bucket: string;
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly startAfter?: string;
  readonly continuationToken?: string;
  /** Page size, at most 1000. */
  readonly maxKeys?: number;
}

export interface ListObjectVersionsInput {
  readonly bucket: string;
  readonly prefix?: string;
  readonly keyMarker?: string;
  readonly versionIdMarker?: string;
  /** Page size, at most 1000. */
  readonly maxKeys?: number;
}

/**
 * The XML parser is loaded on first use: a wal-push that succeeds parses no XML, and
 * archive_command starts one process per segment, so its start-up time is paid per segment.
 */
const loadXml = () => import('./s3-xml.js');

const EMPTY_SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Error and listing answers are read into memory; a bound keeps a hostile server from filling it. */
const MAX_XML_ANSWER_BYTES = 16 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

interface Exchange {
  readonly operation: string;
  readonly method: Method;
  readonly bucket: string;
  readonly key?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: { readonly source: PutObjectBody; readonly size: number; readonly sha256: Buffer };
}

/**
 * A lean S3 client on node:http(s): SigV4 header auth with signed payloads, path-style
 * addressing, and the operations backups need. Retries 5xx answers, timeouts and connection
 * resets with backoff (never a 4xx). Every upload carries `x-amz-checksum-sha256`, which S3 and
 * the vault verify against the bytes and store; downloads ask for it back
 * (`x-amz-checksum-mode: ENABLED`) and check it, so integrity is verified end to end.
 */
export class S3Client {
  readonly endpoint: URL;
  readonly region: string;
  readonly #credentials: S3Credentials;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy;
  readonly #sleep: Sleep;
  readonly #idleTimeoutMs: number;
  readonly #agent: HttpAgent;
  readonly #ca: string | undefined;

  constructor(options: S3ClientOptions) {
    if (options.endpoint.protocol !== 'http:' && options.endpoint.protocol !== 'https:') {
      throw new TypeError(`the S3 endpoint must be an http:// or https:// URL, not ${options.endpoint.protocol}`);
    }
    this.endpoint = options.endpoint;
    this.region = options.region;
    this.#credentials = options.credentials;
    this.#clock = options.clock ?? systemClock;
    this.#retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.#sleep = options.sleep ?? realSleep;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.#ca = options.ca;
    // Keep-alive: a push is a PUT followed by a HEAD; one connection serves both. Idle sockets
    // are unref'd by the agent, so they never keep a finished command alive.
    this.#agent = options.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) }) : new HttpAgent({ keepAlive: true });
  }

  /** Closes idle connections. */
  close(): void {
    this.#agent.destroy();
  }

  /** PutObject (single request). https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html */
  async putObject(input: PutObjectInput): Promise<PutObjectOutput> {
    const { size, sha256 } = await digestBody(input.body);
    const checksumSha256 = sha256.toString('base64');
    const headers: Record<string, string> = {
      'content-type': input.contentType ?? 'application/octet-stream',
      'x-amz-checksum-sha256': checksumSha256,
      // SDKs send the algorithm with header checksums; AWS wants one of Content-MD5 or this
      // pair on writes that Object Lock will retain.
      'x-amz-sdk-checksum-algorithm': 'SHA256',
    };
    if (input.createOnly === true) headers['if-none-match'] = '*';
    for (const [name, value] of Object.entries(input.metadata ?? {})) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
    if (input.objectLock !== undefined) {
      headers['x-amz-object-lock-mode'] = input.objectLock.mode;
      headers['x-amz-object-lock-retain-until-date'] = new Date(input.objectLock.retainUntilMs).toISOString();
    }
    const res = await this.#exchange({
      operation: 'PutObject',
      method: 'PUT',
      bucket: input.bucket,
      key: input.key,
      headers,
      body: { source: input.body, size, sha256 },
    });
    await drain(res);
    const returned = storedChecksumFrom(res.headers);
    if (returned !== undefined && returned.algorithm === 'SHA256' && returned.value !== checksumSha256) {
      throw new S3IntegrityError(describe(input.bucket, input.key), 'stored SHA256 checksum', checksumSha256, returned.value);
    }
    const head = objectHeadFrom(res.headers);
    return { etag: head.etag, versionId: head.versionId, checksumSha256, size };
  }

  /** HeadObject; with `checksumMode` the stored checksum too. Missing: `isNoSuchKey(error)`. */
  async headObject(address: ObjectAddress, options: { readonly checksumMode?: boolean } = {}): Promise<ObjectHead> {
    const res = await this.#exchange({
      operation: 'HeadObject',
      method: 'HEAD',
      bucket: address.bucket,
      key: address.key,
      query: address.versionId === undefined ? {} : { versionId: address.versionId },
      headers: options.checksumMode === true ? { 'x-amz-checksum-mode': 'ENABLED' } : {},
    });
    await drain(res);
    return objectHeadFrom(res.headers);
  }

  /**
   * GetObject of the whole object, asking for its stored checksum and verifying the bytes against
   * it as they stream. Retries happen until the answer's headers arrive; a body interrupted later
   * fails the stream, and the caller decides whether to start over.
   */
  async getObject(address: ObjectAddress, options: { readonly range?: ByteRange } = {}): Promise<GetObjectOutput> {
    const range = options.range;
    const res = await this.#exchange({
      operation: 'GetObject',
      method: 'GET',
      bucket: address.bucket,
      key: address.key,
      query: address.versionId === undefined ? {} : { versionId: address.versionId },
      // A stored checksum covers the whole object, so a ranged read checks only its length.
      headers: range === undefined ? { 'x-amz-checksum-mode': 'ENABLED' } : { range: `bytes=${range.start}-${range.end}` },
    });
    const head = objectHeadFrom(res.headers);
    const verifier = new ChecksumVerifyingStream(describe(address.bucket, address.key), head.contentLength, range === undefined ? head.checksum : undefined);
    pipeline(res, verifier, () => {
      // Errors reach the consumer through `verifier`, which pipeline destroys with them.
    });
    return { head, body: verifier, checksumVerified: verifier.verifiesChecksum };
  }

  /**
   * DeleteObject. Without `versionId`, in a versioned bucket, S3 only adds a delete marker and
   * keeps every version; with it, that version (or delete marker) is removed for good — if
   * Object Lock allows (https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html).
   * `deleteMarker` says whether what was created or removed is a delete marker.
   */
  async deleteObject(
    address: ObjectAddress,
    options: { readonly bypassGovernanceRetention?: boolean } = {},
  ): Promise<{ readonly versionId: string | undefined; readonly deleteMarker: boolean }> {
    const res = await this.#exchange({
      operation: 'DeleteObject',
      method: 'DELETE',
      bucket: address.bucket,
      key: address.key,
      query: address.versionId === undefined ? {} : { versionId: address.versionId },
      headers: options.bypassGovernanceRetention === true ? { 'x-amz-bypass-governance-retention': 'true' } : {},
    });
    await drain(res);
    const versionId = res.headers['x-amz-version-id'];
    return { versionId: typeof versionId === 'string' ? versionId : undefined, deleteMarker: res.headers['x-amz-delete-marker'] === 'true' };
  }

  /** One page of ListObjectsV2. https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html */
  async listObjectsV2Page(input: ListObjectsV2Input): Promise<ListObjectsV2Page> {
    const query: Record<string, string> = { 'list-type': '2', 'encoding-type': 'url' };
    if (input.prefix !== undefined) query['prefix'] = input.prefix;
    if (input.delimiter !== undefined) query['delimiter'] = input.delimiter;
    if (input.startAfter !== undefined) query['start-after'] = input.startAfter;
    if (input.continuationToken !== undefined) query['continuation-token'] = input.continuationToken;
    if (input.maxKeys !== undefined) query['max-keys'] = String(input.maxKeys);
    const res = await this.#exchange({ operation: 'ListObjectsV2', method: 'GET', bucket: input.bucket, query });
    const body = await readCapped(res, MAX_XML_ANSWER_BYTES);
    const { parseListObjectsV2 } = await loadXml();
    try {
      return parseListObjectsV2(body.toString('utf8'));
    } catch (error) {
      throw new S3TransportError('ListObjectsV2', describe(input.bucket), `unreadable answer: ${(error as Error).message}`, undefined);
    }
  }

  /** Every object under a prefix, in key order, following continuation tokens. */
  async *listObjects(input: Omit<ListObjectsV2Input, 'continuationToken'>): AsyncGenerator<ListedObject> {
    let continuationToken: string | undefined;
    do {
      const page = await this.listObjectsV2Page({ ...input, ...(continuationToken === undefined ? {} : { continuationToken }) });
      yield* page.objects;
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
      if (page.isTruncated && continuationToken === undefined) {
        throw new S3TransportError('ListObjectsV2', describe(input.bucket), 'the answer is truncated but has no NextContinuationToken', undefined);
      }
    } while (continuationToken !== undefined);
  }

  /**
   * One page of ListObjectVersions: every version and delete marker under a prefix.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
   */
  async listObjectVersionsPage(input: ListObjectVersionsInput): Promise<ListObjectVersionsPage> {
    const query: Record<string, string> = { versions: '', 'encoding-type': 'url' };
    if (input.prefix !== undefined) query['prefix'] = input.prefix;
    if (input.keyMarker !== undefined) query['key-marker'] = input.keyMarker;
    if (input.versionIdMarker !== undefined) query['version-id-marker'] = input.versionIdMarker;
    if (input.maxKeys !== undefined) query['max-keys'] = String(input.maxKeys);
    const { parseListObjectVersions } = await loadXml();
    return this.#xmlAnswer({ operation: 'ListObjectVersions', method: 'GET', bucket: input.bucket, query }, parseListObjectVersions);
  }

  /**
   * The oldest stored version of exactly `key` (delete markers aside) and how many versions the
   * key has; undefined when it has none. In a versioned bucket a PUT never replaces a version, it
   * adds one: the first version of a write-once key is what was written first, whatever anyone
   * with write access added later.
   */
  async firstVersionOf(bucket: string, key: string): Promise<{ readonly versionId: string; readonly versions: number; readonly deleteMarkers: number } | undefined> {
    let oldest: ListedObjectVersion | undefined;
    let versions = 0;
    let deleteMarkers = 0;
    for await (const version of this.listObjectVersions({ bucket, prefix: key, maxKeys: 100 })) {
      // Sorted by key: past `key` there is nothing more of it (only longer keys sharing the prefix).
      if (version.key > key) break;
      if (version.key !== key) continue;
      if (version.isDeleteMarker) {
        deleteMarkers += 1;
        continue;
      }
      versions += 1;
      // Newest first within a key; compare times anyway, keeping the later-listed on a tie.
      if (oldest === undefined || version.lastModifiedMs <= oldest.lastModifiedMs) oldest = version;
    }
    return oldest === undefined ? undefined : { versionId: oldest.versionId, versions, deleteMarkers };
  }

  /** Every version and delete marker under a prefix, following the key and version-id markers. */
  async *listObjectVersions(input: Omit<ListObjectVersionsInput, 'keyMarker' | 'versionIdMarker'>): AsyncGenerator<ListedObjectVersion> {
    let markers: { keyMarker: string; versionIdMarker?: string } | undefined;
    do {
      const page = await this.listObjectVersionsPage({ ...input, ...markers });
      yield* page.versions;
      if (!page.isTruncated) return;
      if (page.nextKeyMarker === undefined) {
        throw new S3TransportError('ListObjectVersions', describe(input.bucket), 'the answer is truncated but has no NextKeyMarker', undefined);
      }
      markers = { keyMarker: page.nextKeyMarker, ...(page.nextVersionIdMarker === undefined ? {} : { versionIdMarker: page.nextVersionIdMarker }) };
    } while (true);
  }

  /**
   * GetObjectRetention of a version (or the current one); undefined when it has none
   * (`NoSuchObjectLockConfiguration`). A bucket without Object Lock answers `InvalidRequest`.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectRetention.html
   */
  async getObjectRetention(address: ObjectAddress): Promise<ObjectRetention | undefined> {
    const { parseRetention } = await loadXml();
    try {
      return await this.#xmlAnswer({ operation: 'GetObjectRetention', method: 'GET', bucket: address.bucket, key: address.key, query: versionQuery(address, 'retention') }, parseRetention);
    } catch (error) {
      if (isNoObjectLock(error)) return undefined;
      throw error;
    }
  }

  /**
   * GetObjectLegalHold of a version (or the current one): whether a hold is ON; false when the
   * version never had one (`NoSuchObjectLockConfiguration`).
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLegalHold.html
   */
  async getObjectLegalHold(address: ObjectAddress): Promise<boolean> {
    const { parseLegalHold } = await loadXml();
    try {
      return await this.#xmlAnswer({ operation: 'GetObjectLegalHold', method: 'GET', bucket: address.bucket, key: address.key, query: versionQuery(address, 'legal-hold') }, parseLegalHold);
    } catch (error) {
      if (isNoObjectLock(error)) return false;
      throw error;
    }
  }

  /**
   * GetObjectLockConfiguration; `enabled: false` for a bucket without Object Lock
   * (`ObjectLockConfigurationNotFoundError`).
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectLockConfiguration.html
   */
  async getObjectLockConfiguration(bucket: string): Promise<BucketObjectLock> {
    const { parseObjectLockConfiguration } = await loadXml();
    try {
      return await this.#xmlAnswer({ operation: 'GetObjectLockConfiguration', method: 'GET', bucket, query: { 'object-lock': '' } }, parseObjectLockConfiguration);
    } catch (error) {
      if (error instanceof S3RequestError && error.code === 'ObjectLockConfigurationNotFoundError') return Object.freeze({ enabled: false, defaultRetention: undefined });
      throw error;
    }
  }

  /**
   * PutObjectRetention on a version (or the current one). Content-MD5 is sent because AWS
   * requires an integrity header on this operation (see shared notes: requestChecksumRequired).
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectRetention.html
   */
  async putObjectRetention(address: ObjectAddress, retention: ObjectLockRequest): Promise<void> {
    const xml = `<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>${retention.mode}</Mode><RetainUntilDate>${new Date(retention.retainUntilMs).toISOString()}</RetainUntilDate></Retention>`;
    const res = await this.#exchange({ operation: 'PutObjectRetention', method: 'PUT', bucket: address.bucket, key: address.key, query: versionQuery(address, 'retention'), ...xmlBody(xml) });
    await drain(res);
  }

  /**
   * CreateMultipartUpload: the upload id. https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
   */
  async createMultipartUpload(bucket: string, key: string): Promise<string> {
    const { parseInitiateMultipartUpload } = await loadXml();
    return this.#xmlAnswer(
      {
        operation: 'CreateMultipartUpload',
        method: 'POST',
        bucket,
        key,
        query: { uploads: '' },
        // Every part then carries x-amz-checksum-sha256, which the backend verifies and keeps.
        headers: { 'content-type': 'application/octet-stream', 'x-amz-checksum-algorithm': 'SHA256' },
      },
      parseInitiateMultipartUpload,
    );
  }

  /**
   * UploadPart of an upload created by createMultipartUpload: the part's ETag and SHA-256. The
   * part carries `x-amz-checksum-sha256`, the integrity header AWS demands on parts bound for an
   * Object Lock bucket (a SigV4 payload hash does not count), at no extra cost: it is the payload
   * hash already computed for the signature. Content-MD5 would cost 2.3× as much CPU.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
   */
  async uploadPart(input: { readonly bucket: string; readonly key: string; readonly uploadId: string; readonly partNumber: number; readonly bytes: Uint8Array }): Promise<UploadedPart> {
    const sha256 = createHash('sha256').update(input.bytes).digest();
    const checksumSha256 = sha256.toString('base64');
    const res = await this.#exchange({
      operation: 'UploadPart',
      method: 'PUT',
      bucket: input.bucket,
      key: input.key,
      query: { partNumber: String(input.partNumber), uploadId: input.uploadId },
      headers: { 'x-amz-checksum-sha256': checksumSha256, 'x-amz-sdk-checksum-algorithm': 'SHA256' },
      body: { source: { kind: 'bytes', bytes: input.bytes }, size: input.bytes.length, sha256 },
    });
    await drain(res);
    const etag = res.headers.etag;
    if (typeof etag !== 'string' || etag === '') throw new S3TransportError('UploadPart', describe(input.bucket, input.key), 'the answer has no ETag', undefined);
    return { etag, checksumSha256 };
  }

  /**
   * CompleteMultipartUpload: the new object's version id, if the bucket is versioned. A 200 answer
   * may still carry an `<Error>` body, and AWS asks callers to retry those like a 5xx (the API
   * page: "applications should be prepared to retry any failed requests"): the body is read
   * inside each attempt, so InternalError/SlowDown in a 200 are retried. A retry after a lost
   * answer may meet NoSuchUpload because the first attempt completed the upload; the key is then
   * looked up (HEAD) and its version taken as the answer.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
   */
  async completeMultipartUpload(input: { readonly bucket: string; readonly key: string; readonly uploadId: string; readonly parts: readonly UploadedPart[] }): Promise<{ readonly versionId: string | undefined }> {
    const parts = input.parts
      .map((part, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(part.etag)}</ETag><ChecksumSHA256>${part.checksumSha256}</ChecksumSHA256></Part>`)
      .join('');
    const xml = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts}</CompleteMultipartUpload>`;
    const exchange: Exchange = { operation: 'CompleteMultipartUpload', method: 'POST', bucket: input.bucket, key: input.key, query: { uploadId: input.uploadId }, ...xmlBody(xml) };
    const { parseErrorBody } = await loadXml();
    let attempts = 0;
    const attempt = async (): Promise<{ readonly versionId: string | undefined }> => {
      attempts++;
      const res = await this.#attempt(exchange);
      const body = await readCapped(res, MAX_ERROR_BODY_BYTES);
      const error = parseErrorBody(body.toString('utf8'));
      if (error.code !== undefined) throw new S3RequestError(exchange.operation, res.statusCode ?? 200, error.code, describe(input.bucket, input.key), error.message, error.requestId);
      const versionId = res.headers['x-amz-version-id'];
      return { versionId: typeof versionId === 'string' ? versionId : undefined };
    };
    try {
      return await withRetries(attempt, this.#retry, this.#sleep, Math.random, (e) => isRetryable(e) || isRetryableErrorBody(e));
    } catch (error) {
      if (!(attempts > 1 && error instanceof S3RequestError && error.code === 'NoSuchUpload')) throw error;
      const head = await this.headObject({ bucket: input.bucket, key: input.key }).catch(() => undefined);
      if (head === undefined) throw error;
      return { versionId: head.versionId };
    }
  }

  /** AbortMultipartUpload: frees the parts uploaded so far. https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html */
  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    const res = await this.#exchange({ operation: 'AbortMultipartUpload', method: 'DELETE', bucket, key, query: { uploadId } });
    await drain(res);
  }

  /** ListBuckets: the names of the buckets the credentials may list. https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html */
  async listBuckets(): Promise<string[]> {
    const { parseListBuckets } = await loadXml();
    return this.#xmlAnswer({ operation: 'ListBuckets', method: 'GET', bucket: '' }, parseListBuckets);
  }

  /** GetBucketVersioning. https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html */
  async getBucketVersioning(bucket: string): Promise<{ readonly status: string; readonly mfaDelete: string | undefined }> {
    const { parseBucketVersioning } = await loadXml();
    return this.#xmlAnswer({ operation: 'GetBucketVersioning', method: 'GET', bucket, query: { versioning: '' } }, parseBucketVersioning);
  }

  /**
   * GetBucketPolicy: the policy's JSON text, or undefined when the bucket has none
   * (`NoSuchBucketPolicy`). https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html
   */
  async getBucketPolicy(bucket: string): Promise<string | undefined> {
    try {
      return await this.#xmlAnswer({ operation: 'GetBucketPolicy', method: 'GET', bucket, query: { policy: '' } }, (body) => body);
    } catch (error) {
      if (error instanceof S3RequestError && error.code === 'NoSuchBucketPolicy') return undefined;
      throw error;
    }
  }

  /** One exchange whose answer is a bounded XML document, parsed; an unreadable one is a transport error. */
  async #xmlAnswer<T>(exchange: Exchange, parse: (body: string) => T): Promise<T> {
    const res = await this.#exchange(exchange);
    const body = await readCapped(res, MAX_XML_ANSWER_BYTES);
    try {
      return parse(body.toString('utf8'));
    } catch (error) {
      throw new S3TransportError(exchange.operation, describe(exchange.bucket, exchange.key), `unreadable answer: ${(error as Error).message}`, undefined);
    }
  }

  /** Sends one request with retries; resolves with a 2xx answer whose body the caller consumes. */
  #exchange(exchange: Exchange): Promise<IncomingMessage> {
    return withRetries(() => this.#attempt(exchange), this.#retry, this.#sleep);
  }

  #attempt(exchange: Exchange): Promise<IncomingMessage> {
    const resource = describe(exchange.bucket, exchange.key);
    const path = objectPath(this.endpoint.pathname, exchange.bucket, exchange.key);
    const headers: Record<string, string> = { host: this.endpoint.host, ...exchange.headers };
    if (exchange.body !== undefined) headers['content-length'] = String(exchange.body.size);
    const payloadHash = exchange.body === undefined ? EMPTY_SHA256_HEX : exchange.body.sha256.toString('hex');
    const signed = signRequest(
      { method: exchange.method, path, query: exchange.query ?? {}, headers, payloadHash },
      this.#credentials,
      this.region,
      this.#clock.nowMs(),
    );
    const send = this.endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const fail = (error: unknown) => reject(asTransportError(exchange.operation, resource, error));
      const req = send(
        {
          protocol: this.endpoint.protocol,
          hostname: this.endpoint.hostname.replace(/^\[|\]$/g, ''),
          port: this.endpoint.port === '' ? undefined : Number(this.endpoint.port),
          method: exchange.method,
          path: signed.target,
          headers: { ...signed.headers, 'user-agent': 'holdfast-s3-client' },
          agent: this.#agent,
          ...(this.#ca === undefined ? {} : { ca: this.#ca }),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(res);
            return;
          }
          Promise.all([readCapped(res, MAX_ERROR_BODY_BYTES), loadXml()]).then(([body, { parseErrorBody }]) => {
            const parsed = exchange.method === 'HEAD' ? undefined : parseErrorBody(body.toString('utf8'));
            const requestId = res.headers['x-amz-request-id'];
            reject(
              new S3RequestError(
                exchange.operation,
                status,
                parsed?.code ?? codeForStatus(status),
                resource,
                parsed?.message ?? '',
                parsed?.requestId ?? (typeof requestId === 'string' ? requestId : undefined),
              ),
            );
          }, fail);
        },
      );
      req.setTimeout(this.#idleTimeoutMs, () => {
        const error = new Error(`no data moved for ${this.#idleTimeoutMs} ms`) as NodeJS.ErrnoException;
        error.code = 'ETIMEDOUT';
        req.destroy(error);
      });
      req.on('error', fail);
      const body = exchange.body;
      if (body === undefined || body.size === 0) {
        req.end();
      } else if (body.source.kind === 'bytes') {
        req.end(body.source.bytes);
      } else {
        // Only the bytes that were hashed: a file that grew since is cut to that length, and one
        // that changed fails the signed payload hash at the server.
        const file = createReadStream(body.source.path, { start: 0, end: body.size - 1 });
        pipeline(file, req, (error) => {
          if (error) req.destroy(error);
        });
      }
    });
  }
}

/** A sub-resource query (`?retention`, `?legal-hold`), for one version when the address names it. */
function versionQuery(address: ObjectAddress, subresource: string): Record<string, string> {
  return address.versionId === undefined ? { [subresource]: '' } : { [subresource]: '', versionId: address.versionId };
}

/** An XML request body with the Content-MD5 that operations with required checksums need. */
function xmlBody(xml: string): Pick<Exchange, 'headers' | 'body'> {
  const bytes = Buffer.from(xml, 'utf8');
  return {
    headers: { 'content-type': 'application/xml', 'content-md5': createHash('md5').update(bytes).digest('base64') },
    body: { source: { kind: 'bytes', bytes }, size: bytes.length, sha256: createHash('sha256').update(bytes).digest() },
  };
}

function describe(bucket: string, key?: string): string {
  return key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;
}

function asTransportError(operation: string, resource: string, error: unknown): Error {
  if (error instanceof S3TransportError || error instanceof S3RequestError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new S3TransportError(operation, resource, (error as Error).message, code, { cause: error });
}

/** Size and SHA-256 of a body; a file is read once here and again when sent. */
async function digestBody(body: PutObjectBody): Promise<{ size: number; sha256: Buffer }> {
  if (body.kind === 'bytes') return { size: body.bytes.length, sha256: createHash('sha256').update(body.bytes).digest() };
  const hash = createHash('sha256');
  let size = 0;
  const handle = await open(body.path, 'r');
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest() };
}

function drain(res: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    res.on('end', resolve);
    res.on('error', reject);
    res.resume();
  });
}

function readCapped(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    res.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        res.destroy(new Error(`answer larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

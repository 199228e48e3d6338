// The crash test's clients: writers that PUT, overwrite and multipart-upload seeded contents until
// told to stop, recording each write in a WriteHistory, and the reader that checks, after a
// restart, that the store holds exactly what the history allows.
import { createHash } from 'node:crypto';
import type { SignedS3Client } from './signed-http-client.js';
import { EMPTY_SHA256, UNSIGNED_PAYLOAD, describeResponse, keyPath, s3ErrorCode, unescapeXml } from './signed-http-client.js';
import { SeededRandom, seededBytes, sha256Hex } from './seeded-content.js';
import type { WriteHistory } from './write-history.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The server's default inline limit: bodies up to it live in SQLite, larger ones in blob files. */
const INLINE_LIMIT = 64 * KiB;
const HOT_KEYS = 6;

export interface Workload {
  readonly bucket: string;
  readonly seed: number;
  readonly history: WriteHistory;
  readonly client: SignedS3Client;
  /** Cleared just before the kill: writers start nothing new once it is false. */
  readonly running: () => boolean;
}

/**
 * One writer: runs until `running()` turns false. Writer 0 starts each cycle with a multipart
 * upload (so there are a few, not many); the others mix new small and large objects with
 * overwrites of a handful of hot keys that several writers fight over.
 */
export async function writerLoop(workload: Workload, cycle: number, writer: number): Promise<void> {
  const random = new SeededRandom(new SeededRandom(workload.seed).derive('writer', cycle, writer));
  for (let n = 0; workload.running(); n++) {
    const label = `${workload.seed}:${cycle}:${writer}:${n}`;
    if (writer === 0 && n === 0) {
      await multipartUpload(workload, `multipart/c${cycle}/w${writer}/${n}`, label, random);
      continue;
    }
    const choice = random.next();
    if (choice < 0.45) {
      await putObject(workload, `small/c${cycle}/w${writer}/${n}`, 'small', label, smallSize(random), random);
    } else if (choice < 0.7) {
      await putObject(workload, `large/c${cycle}/w${writer}/${n}`, 'large', label, largeSize(random), random);
    } else {
      const size = random.chance(0.5) ? smallSize(random) : largeSize(random);
      await putObject(workload, `hot/${random.int(0, HOT_KEYS - 1)}`, 'overwrite', label, size, random);
    }
  }
}

function smallSize(random: SeededRandom): number {
  // The inline limit's edges sometimes, because that is where the storage path switches.
  if (random.chance(0.15)) return random.pick([0, 1, INLINE_LIMIT - 1, INLINE_LIMIT, INLINE_LIMIT + 1]);
  return random.int(0, INLINE_LIMIT);
}

function largeSize(random: SeededRandom): number {
  return random.int(100 * KiB, 3 * MiB);
}

function transportFailed(workload: Workload, what: string, error: unknown): void {
  // While the server is up, a dropped connection is a server failure; after the kill it is expected.
  if (workload.running()) workload.history.problem(`${what}: connection failed while the server was up: ${String(error)}`);
}

async function putObject(workload: Workload, key: string, kind: string, label: string, size: number, random: SeededRandom): Promise<void> {
  const body = seededBytes(label, size);
  const sha256 = sha256Hex(body);
  const headers: Record<string, string> = { 'content-length': String(size), 'content-type': 'application/octet-stream' };
  if (random.chance(0.3)) headers['content-md5'] = createHash('md5').update(body).digest('base64');
  // Both payload modes: a signed SHA-256 (the server verifies it) and UNSIGNED-PAYLOAD.
  const payloadHash = random.chance(0.3) ? sha256 : UNSIGNED_PAYLOAD;
  const record = workload.history.begin(key, kind, size, sha256);
  try {
    const response = await workload.client.send({ method: 'PUT', path: keyPath(workload.bucket, key), headers, payloadHash, body });
    if (response.status === 200) workload.history.acknowledge(record);
    else workload.history.refuse(record, describeResponse(response));
  } catch (error) {
    transportFailed(workload, `PUT ${key} (write #${record.id})`, error);
  }
}

/** Two parts: 5 MiB (S3's minimum for all but the last) and up to 1 MiB. Acknowledged by Complete's 200. */
async function multipartUpload(workload: Workload, key: string, label: string, random: SeededRandom): Promise<void> {
  const { client, history, bucket } = workload;
  const path = keyPath(bucket, key);
  try {
    const created = await client.send({ method: 'POST', path, query: { uploads: '' }, payloadHash: EMPTY_SHA256 });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())?.[1];
    if (created.status !== 200 || uploadId === undefined) {
      history.problem(`CreateMultipartUpload ${key}: ${describeResponse(created)}`);
      return;
    }
    const whole = createHash('sha256');
    const sizes = [5 * MiB, random.int(1, MiB)];
    const parts: string[] = [];
    for (const [index, size] of sizes.entries()) {
      const partNumber = index + 1;
      const body = seededBytes(`${label}:part${partNumber}`, size);
      whole.update(body);
      const response = await client.send({
        method: 'PUT',
        path,
        query: { partNumber: String(partNumber), uploadId },
        headers: { 'content-length': String(size) },
        payloadHash: UNSIGNED_PAYLOAD,
        body,
      });
      const etag = response.headers.etag;
      if (response.status !== 200 || etag === undefined) {
        history.problem(`UploadPart ${partNumber} of ${key}: ${describeResponse(response)}`);
        return;
      }
      parts.push(`<Part><PartNumber>${partNumber}</PartNumber><ETag>${etag}</ETag></Part>`);
    }
    const xml = Buffer.from(`<CompleteMultipartUpload>${parts.join('')}</CompleteMultipartUpload>`);
    const total = sizes.reduce((a, b) => a + b, 0);
    const record = history.begin(key, 'multipart', total, whole.digest('hex'));
    try {
      const response = await client.send({ method: 'POST', path, query: { uploadId }, payloadHash: sha256Hex(xml), body: xml });
      // CompleteMultipartUpload can fail with a 200 whose body is an <Error> (AWS documents this).
      if (response.status === 200 && s3ErrorCode(response.body) === undefined) history.acknowledge(record);
      else history.refuse(record, describeResponse(response));
    } catch (error) {
      transportFailed(workload, `CompleteMultipartUpload ${key} (write #${record.id})`, error);
    }
  } catch (error) {
    transportFailed(workload, `multipart upload of ${key}`, error);
  }
}

interface Observed {
  readonly size: number;
  readonly etag: string | undefined;
}

/**
 * Reads every key the history knows back (SHA-256 on the fly) and lists the bucket. Returns the
 * failures: a lost acknowledged write, content that is no whole version the clients sent, a
 * listing entry that is unknown, of the wrong size, or missing. Observed states are settled
 * into the history, so later cycles check against them.
 */
export async function verifyStore(workload: Workload): Promise<{ failures: string[]; objects: number; bytes: number }> {
  const { client, history, bucket } = workload;
  const failures: string[] = [];
  const observed = new Map<string, Observed>();
  let bytes = 0;
  await forEachConcurrently(history.keys(), 8, async (key) => {
    const expectation = history.expectation(key);
    const response = await client.open({ method: 'GET', path: keyPath(bucket, key), payloadHash: EMPTY_SHA256 });
    const hash = createHash('sha256');
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of response) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (response.statusCode !== 200) chunks.push(chunk as Buffer);
    }
    if (!response.complete) throw new Error(`GET ${key}: response cut short`);
    if (response.statusCode === 404 && s3ErrorCode(Buffer.concat(chunks)) === 'NoSuchKey') {
      if (expectation.mustExist) failures.push(`${key}: acknowledged write lost (404 NoSuchKey)\n    ${history.describe(key)}`);
      else history.settle(key, undefined);
      return;
    }
    if (response.statusCode !== 200) {
      failures.push(`${key}: GET answered ${response.statusCode} ${Buffer.concat(chunks).toString().slice(0, 400)}`);
      return;
    }
    bytes += size;
    const sha256 = hash.digest('hex');
    const match = expectation.allowed.find((v) => v.sha256 === sha256 && v.size === size);
    if (match === undefined) {
      failures.push(
        `${key}: holds ${size} bytes with sha256 ${sha256}, which is no version it may hold` +
          ` (corrupt, half-written or stale). Writes to it:\n    ${history.describe(key)}`,
      );
      return;
    }
    const etag = response.headers.etag;
    observed.set(key, { size, etag });
    history.settle(key, match);
  });

  const listed = await listAll(client, bucket);
  for (const entry of listed.values()) {
    const seen = observed.get(entry.key);
    if (seen === undefined) {
      failures.push(`listing shows ${entry.key} (${entry.size} bytes), which no acceptable write created`);
    } else if (seen.size !== entry.size) {
      failures.push(`listing says ${entry.key} has ${entry.size} bytes; GET returned ${seen.size}`);
    } else if (seen.etag !== entry.etag) {
      failures.push(`listing says ${entry.key} has ETag ${entry.etag}; GET returned ${seen.etag}`);
    }
  }
  for (const key of observed.keys()) {
    if (!listed.has(key)) failures.push(`${key} is readable but missing from ListObjectsV2`);
  }
  return { failures, objects: observed.size, bytes };
}

interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string | undefined;
}

/** Every object in the bucket, via ListObjectsV2 pages of 1000. */
async function listAll(client: SignedS3Client, bucket: string): Promise<Map<string, ListedObject>> {
  const listed = new Map<string, ListedObject>();
  let token: string | undefined;
  do {
    const query: Record<string, string> = { 'list-type': '2', 'max-keys': '1000' };
    if (token !== undefined) query['continuation-token'] = token;
    const response = await client.send({ method: 'GET', path: `/${bucket}`, query, payloadHash: EMPTY_SHA256 });
    if (response.status !== 200) throw new Error(`ListObjectsV2: ${describeResponse(response)}`);
    const xml = response.body.toString('utf8');
    for (const [, contents = ''] of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const key = unescapeXml(/<Key>([\s\S]*?)<\/Key>/.exec(contents)?.[1] ?? '');
      const size = Number(/<Size>(\d+)<\/Size>/.exec(contents)?.[1] ?? Number.NaN);
      const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(contents)?.[1];
      if (listed.has(key)) throw new Error(`ListObjectsV2 listed ${key} twice`);
      listed.set(key, { key, size, etag: etag === undefined ? undefined : unescapeXml(etag) });
    }
    const truncated = /<IsTruncated>true<\/IsTruncated>/.test(xml);
    const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
    if (truncated && next === undefined) throw new Error('ListObjectsV2 is truncated but has no NextContinuationToken');
    token = truncated && next !== undefined ? unescapeXml(next) : undefined;
  } while (token !== undefined);
  return listed;
}

async function forEachConcurrently<T>(items: readonly T[], limit: number, action: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await action(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

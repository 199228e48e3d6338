import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type ServerConfig, shownEnvName } from '../config/server-config.js';
import type { BlobStore } from '../domain/ports.js';
import { Secret } from '../domain/secret.js';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { BlobPrefixOwnedError, type BlobPrefixOwner } from '../infra/blob/s3/blob-prefix-owner.js';
import { S3BlobStore } from '../infra/blob/s3/s3-blob-store.js';
import type { Clock } from '../infra/clock.js';
import { S3Client } from '../infra/s3-client/s3-client.js';

/**
 * How much older than this start a blob must be for the orphan sweep to consider it, on an S3
 * blob store. A blob's age there is the backend's LastModified: the backend's clock, in whole
 * seconds, set when the upload began or completed; a front node's clock may differ by minutes
 * and a large multipart upload may take many. One hour covers both with room to spare; an
 * interrupted write is then swept at the first start more than an hour after it.
 */
export const S3_ORPHAN_SWEEP_GRACE_MS = 60 * 60 * 1000;

/**
 * On cluster nodes the leader sweeps while other nodes write, so "older than the grace" must
 * mean "no longer being written": a write of new bytes (one object's PUT or copy, or one part)
 * still unfinished after half the grace is refused, the blob write aborted before it completes
 * or the metadata transaction rolled back just before its COMMIT (VaultOptions.maxWriteMs). A
 * blob's LastModified is at or after its write began, so a blob a write may still reference is
 * at most this old, plus the COMMIT's own round trip; the other half of the grace covers that
 * and the clock skew between node and backend.
 */
export const CLUSTER_MAX_BLOB_WRITE_MS = S3_ORPHAN_SWEEP_GRACE_MS / 2;

export interface VaultBlobs {
  readonly store: BlobStore;
  /** Subtracted from the start time to get the orphan sweep's cut-off. */
  readonly orphanSweepGraceMs: number;
  /** Now on the clock that stamps the blobs' modification times: the orphan sweep's cut-off is taken from it. */
  readonly backendNowMs: () => Promise<number>;
  /** How long a write of new bytes may take, metadata commit included (VaultOptions.maxWriteMs); undefined: no limit. */
  readonly maxWriteMs: number | undefined;
  readonly close: () => void;
}

/**
 * The vault's blob store: DATA/blobs, or a bucket of an existing S3-compatible store when
 * blobS3Endpoint is set. The S3 store is checked before the server listens, by writing and
 * deleting a probe object, so a wrong bucket or key stops the start instead of the first upload;
 * then its prefix is claimed for `owner` (this vault's metadata), and a prefix another vault's
 * metadata holds stops the start: each vault's orphan sweep would delete the other's blobs.
 */
export async function openVaultBlobs(config: ServerConfig, env: Readonly<Record<string, string | undefined>>, clock: Clock, owner: BlobPrefixOwner): Promise<VaultBlobs> {
  if (config.blobS3Endpoint === undefined || config.blobS3Bucket === undefined) {
    // The data directory is locked to this server, so its clock wrote every blob: no grace needed.
    return { store: new FsBlobStore(join(config.dataDir, 'blobs')), orphanSweepGraceMs: 0, maxWriteMs: undefined, backendNowMs: () => Promise.resolve(clock.nowMs()), close: () => undefined };
  }
  // Present: loadServerConfig refused an empty one.
  const accessKeyId = (env[config.blobS3AccessKeyIdEnv] ?? '').trim();
  const secretAccessKey = new Secret((env[config.blobS3SecretAccessKeyEnv] ?? '').trim());
  let ca: string | undefined;
  if (config.blobS3CaFile !== undefined) {
    try {
      ca = await readFile(config.blobS3CaFile, 'utf8');
    } catch (error) {
      throw new ConfigError(`Invalid configuration: blobS3CaFile ${config.blobS3CaFile} cannot be read (${(error as Error).message}). Fix: give the PEM file of the CA that signed the backend's certificate.`);
    }
  }
  const client = new S3Client({
    ...(ca === undefined ? {} : { ca }),
    endpoint: new URL(config.blobS3Endpoint),
    region: config.blobS3Region,
    credentials: { accessKeyId, secretAccessKey, source: `environment (${shownEnvName(config.blobS3AccessKeyIdEnv, 'blobS3AccessKeyIdEnv')}, ${shownEnvName(config.blobS3SecretAccessKeyEnv, 'blobS3SecretAccessKeyEnv')})` },
    clock,
  });
  // A cluster node's writes must end well inside the grace another node's orphan sweep allows.
  const maxWriteMs = config.clusterNode ? CLUSTER_MAX_BLOB_WRITE_MS : undefined;
  const store = new S3BlobStore({ client, bucket: config.blobS3Bucket, prefix: config.blobS3Prefix, clock, ...(maxWriteMs === undefined ? {} : { maxWriteMs }) });
  try {
    await store.probe();
  } catch (error) {
    client.close();
    throw new Error(
      `Cannot write to the S3 blob store ${store.location} at ${config.blobS3Endpoint} (blobS3Endpoint, blobS3Bucket): ${(error as Error).message}. ` +
        `Fix: check that the endpoint is reachable (for https with a private CA, set blobS3CaFile), the bucket exists, and the key in ${shownEnvName(config.blobS3AccessKeyIdEnv, 'blobS3AccessKeyIdEnv')} may PutObject and DeleteObject there.`,
      { cause: error },
    );
  }
  try {
    await store.claimOwner(owner);
  } catch (error) {
    client.close();
    if (error instanceof BlobPrefixOwnedError) {
      throw new ConfigError(
        `Invalid configuration: blobS3Prefix: ${error.message}, not to this vault (${owner.id}, metadata: ${owner.metadata}). ` +
          `Fix: give each vault its own blobS3Prefix (or bucket); only if that vault and its objects are gone for good, delete ${error.markerUrl}.`,
      );
    }
    throw new Error(`Cannot claim the S3 blob store ${store.location} at ${config.blobS3Endpoint}: ${(error as Error).message}. Fix: the key in ${shownEnvName(config.blobS3AccessKeyIdEnv, 'blobS3AccessKeyIdEnv')} must also GetObject there.`, { cause: error });
  }
  return { store, orphanSweepGraceMs: S3_ORPHAN_SWEEP_GRACE_MS, maxWriteMs, backendNowMs: () => store.backendNowMs(), close: () => client.close() };
}

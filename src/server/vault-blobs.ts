import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type ServerConfig } from '../config/server-config.js';
import type { BlobStore } from '../domain/ports.js';
import { Secret } from '../domain/secret.js';
import { FsBlobStore } from '../infra/blob/fs/fs-blob-store.js';
import { S3BlobStore } from '../infra/blob/s3/s3-blob-store.js';
import type { Clock } from '../infra/clock.js';
import { S3Client } from '../infra/s3-client/s3-client.js';

/**
 * The vault's blob store: DATA/blobs, or a bucket of an existing S3-compatible store when
 * blobS3Endpoint is set. The S3 store is checked before the server listens, by writing and
 * deleting a probe object, so a wrong bucket or key stops the start instead of the first upload.
 */
export async function openVaultBlobs(config: ServerConfig, env: Readonly<Record<string, string | undefined>>, clock: Clock): Promise<{ readonly store: BlobStore; readonly close: () => void }> {
  if (config.blobS3Endpoint === undefined || config.blobS3Bucket === undefined) {
    return { store: new FsBlobStore(join(config.dataDir, 'blobs')), close: () => undefined };
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
    credentials: { accessKeyId, secretAccessKey, source: `environment (${config.blobS3AccessKeyIdEnv}, ${config.blobS3SecretAccessKeyEnv})` },
    clock,
  });
  const store = new S3BlobStore({ client, bucket: config.blobS3Bucket, prefix: config.blobS3Prefix, clock });
  try {
    await store.probe();
  } catch (error) {
    client.close();
    throw new Error(
      `Cannot write to the S3 blob store ${store.location} at ${config.blobS3Endpoint} (blobS3Endpoint, blobS3Bucket): ${(error as Error).message}. ` +
        `Fix: check that the endpoint is reachable (for https with a private CA, set blobS3CaFile), the bucket exists, and the key in ${config.blobS3AccessKeyIdEnv} may PutObject and DeleteObject there.`,
      { cause: error },
    );
  }
  return { store, close: () => client.close() };
}

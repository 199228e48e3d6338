import { readFileSync } from 'node:fs';
import type { S3ClientOptions } from './s3-client.js';
import { type ReadTextFile, resolveS3Credentials } from './s3-credentials.js';

/** A setting the environment gives in a form that cannot work; the message says which and how to fix it. */
export class S3ClientConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'S3ClientConfigError';
  }
}

const DEFAULT_REGION = 'us-east-1';

/** An S3 region name as AWS spells them (us-east-1, eu-west-3) or a local backend's own. */
export const S3_REGION_NAME = /^[a-z0-9-]{1,64}$/;

/**
 * The endpoint URL: http(s), host, port and optionally a path; no query, fragment or
 * user:password. Refusals never repeat the text: it may carry a password.
 */
export function parseS3Endpoint(text: string): URL {
  let endpoint: URL;
  try {
    endpoint = new URL(text.trim());
  } catch {
    throw new S3ClientConfigError('the endpoint is not a URL; give one like http://127.0.0.1:9470 or https://s3.eu-west-1.amazonaws.com.');
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new S3ClientConfigError('the endpoint must start with http:// or https://.');
  }
  if (endpoint.search !== '' || endpoint.hash !== '' || endpoint.username !== '' || endpoint.password !== '') {
    throw new S3ClientConfigError('the endpoint must be scheme, host, port and optionally a path: no query, fragment or user:password.');
  }
  return endpoint;
}

/**
 * Client options for `endpoint` from the standard AWS variables, as aws-cli and the SDKs read
 * them: credentials (see `resolveS3Credentials`), the region from `AWS_REGION`, then
 * `AWS_DEFAULT_REGION` (default us-east-1), and for https extra CA certificates from the PEM file
 * `AWS_CA_BUNDLE`.
 */
export function s3ClientOptionsFromEnvironment(endpointText: string, env: NodeJS.ProcessEnv, readFile: ReadTextFile = (path) => readFileSync(path, 'utf8')): S3ClientOptions {
  let endpoint: URL;
  try {
    endpoint = parseS3Endpoint(endpointText);
  } catch (error) {
    // Credentials of the client come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile.
    throw new S3ClientConfigError(`${(error as Error).message} (credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile, not the URL)`);
  }
  const region = env['AWS_REGION']?.trim() || env['AWS_DEFAULT_REGION']?.trim() || DEFAULT_REGION;
  if (!S3_REGION_NAME.test(region)) {
    throw new S3ClientConfigError(`the region "${region}" (AWS_REGION/AWS_DEFAULT_REGION) is not a region name like us-east-1.`);
  }
  let ca: string | undefined;
  const caFile = env['AWS_CA_BUNDLE']?.trim();
  if (endpoint.protocol === 'https:' && caFile !== undefined && caFile !== '') {
    try {
      ca = readFile(caFile);
    } catch (error) {
      throw new S3ClientConfigError(`cannot read the CA bundle ${caFile} (AWS_CA_BUNDLE): ${(error as Error).message}.`);
    }
  }
  return { endpoint, region, credentials: resolveS3Credentials(env, readFile), ...(ca === undefined ? {} : { ca }) };
}

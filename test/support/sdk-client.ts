import assert from 'node:assert/strict';
import { S3Client, S3ServiceException, type S3ClientConfig } from '@aws-sdk/client-s3';
import { REGION, type RunningVault } from './vault-server.js';

/**
 * An AWS SDK v3 client for a test server: path-style, the server's region and root credentials,
 * and otherwise the SDK's defaults (notably `requestChecksumCalculation: WHEN_SUPPORTED`).
 * Retries are off so that a flaky server answer fails the test instead of being papered over.
 */
export function sdkClient(vault: RunningVault, overrides: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: vault.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: vault.accessKeyId, secretAccessKey: vault.secretAccessKey },
    maxAttempts: 1,
    ...overrides,
  });
}

export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Records every request the client sends, as signed and about to go on the wire, so a test can
 * show it exercised what it claims (e.g. that a stream body really went aws-chunked).
 */
export function captureRequests(client: S3Client): CapturedRequest[] {
  const seen: CapturedRequest[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as Partial<CapturedRequest> | undefined;
      seen.push({
        method: request?.method ?? '',
        path: request?.path ?? '',
        query: request?.query ?? {},
        headers: { ...request?.headers },
      });
      return next(args);
    },
    // The deserialize step runs last, after signing and the checksum middleware.
    { step: 'deserialize', priority: 'low', name: 'holdfastCaptureRequests' },
  );
  return seen;
}

/** Asserts that `action` rejects with the S3 error `code` and HTTP status `status`. */
export async function expectS3Error(action: Promise<unknown>, code: string | undefined, status: number): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof S3ServiceException, `expected an S3 service error, got ${String(error)}`);
    const detail = `${error.name} (${error.$metadata.httpStatusCode}): ${error.message}`;
    assert.equal(error.$metadata.httpStatusCode, status, `expected status ${status}, got ${detail}`);
    if (code !== undefined) assert.equal(error.name, code, `expected code ${code}, got ${detail}`);
    return true;
  });
}

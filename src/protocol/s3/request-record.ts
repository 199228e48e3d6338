import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Denial } from './authorization.js';
import type { RequestNote } from './request.js';

/** One finished S3 request, as the audit log, the metrics and the alert rules see it. */
export interface S3RequestRecord {
  readonly requestId: string;
  readonly method: string;
  /** The S3 operation (`PutObject`), or undefined when the request failed before routing. */
  readonly operation: string | undefined;
  /** The IAM action the request needed, when known. */
  readonly action: string | undefined;
  readonly bucket: string | undefined;
  readonly key: string | undefined;
  /** The version the request read, wrote or deleted, when it names or creates one. */
  readonly versionId: string | undefined;
  readonly principal: { readonly name: string; readonly kind: string } | undefined;
  /** The access key the request was signed with (also for failed authentication). */
  readonly accessKeyId: string | undefined;
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly sourceIp: string | undefined;
  readonly userAgent: string | undefined;
  readonly startedMs: number;
  readonly durationSeconds: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The refused action, when authorization refused one. */
  readonly denial: Denial | undefined;
  /** Whether the bypass-governance header was sent and honoured. */
  readonly bypassGovernance: boolean;
  /** What the operation observed (Object Lock refusals). */
  readonly notes: readonly RequestNote[];
}

/** What the HTTP exchange itself tells about a finished request (S3 or admin API alike). */
export function exchangeFacts(
  req: IncomingMessage,
  res: ServerResponse,
  startedNs: bigint,
  /** The Content-Length sent, when the response's headers were not kept on `res` (writeHead with a list). */
  bytesOut?: number,
): Pick<S3RequestRecord, 'status' | 'sourceIp' | 'userAgent' | 'durationSeconds' | 'bytesIn' | 'bytesOut'> {
  return {
    status: res.statusCode,
    sourceIp: req.socket.remoteAddress,
    userAgent: req.headers['user-agent'],
    durationSeconds: Number(process.hrtime.bigint() - startedNs) / 1e9,
    // The payload size the client declared (aws-chunked bodies: the decoded length).
    bytesIn: Number(req.headers['x-amz-decoded-content-length'] ?? req.headers['content-length'] ?? 0) || 0,
    bytesOut: bytesOut ?? Number(res.getHeader('content-length') ?? 0),
  };
}

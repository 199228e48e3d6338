import { once } from 'node:events';
import { Agent, type ClientRequest, type IncomingMessage, request } from 'node:http';

/** What came back for one request: enough to judge it, nothing kept of a successful body. */
export interface Exchange {
  readonly status: number;
  readonly bodyBytes: number;
  /** The start of the body when the status is not 200, for error reports. */
  readonly errorHead: string;
}

const ERROR_HEAD_CHARS = 300;

/**
 * One request with a buffered (small) body or none, on a keep-alive agent. node:http with a few
 * listeners and no per-request timer: the scenario's watchdog destroys the agent instead.
 */
export function exchange(
  agent: Agent,
  port: number,
  method: 'GET' | 'PUT',
  path: string,
  headers: Readonly<Record<string, string>> | undefined,
  body: Buffer | undefined,
): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method, path, headers }, (res) =>
      collect(res, resolve, reject),
    );
    req.once('error', reject);
    req.end(body);
  });
}

/**
 * One request whose body is `bytes` long, streamed from `fill` repeated (respecting backpressure),
 * so a 1 GiB upload needs 1 MiB of memory on the client.
 */
export function exchangeStreamed(
  agent: Agent,
  port: number,
  path: string,
  headers: Readonly<Record<string, string>>,
  fill: Buffer,
  bytes: number,
): Promise<Exchange> {
  return new Promise<Exchange>((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port, method: 'PUT', path, headers }, (res) =>
      collect(res, resolve, reject),
    );
    req.once('error', reject);
    pump(req, fill, bytes).catch((error: unknown) => req.destroy(error instanceof Error ? error : new Error(String(error))));
  });
}

async function pump(req: ClientRequest, fill: Buffer, bytes: number): Promise<void> {
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, fill.length);
    const flowing = req.write(n === fill.length ? fill : fill.subarray(0, n));
    left -= n;
    if (!flowing) await once(req, 'drain');
  }
  req.end();
}

function collect(res: IncomingMessage, resolve: (exchange: Exchange) => void, reject: (error: Error) => void): void {
  const status = res.statusCode ?? 0;
  let bodyBytes = 0;
  let errorHead = '';
  res.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.length;
    if (status !== 200 && errorHead.length < ERROR_HEAD_CHARS) errorHead += chunk.toString('utf8', 0, ERROR_HEAD_CHARS);
  });
  res.once('end', () => resolve({ status, bodyBytes, errorHead: errorHead.replace(/\s+/g, ' ').trim() }));
  res.once('error', reject);
}

/** A keep-alive pool of exactly `concurrency` connections, reused in LIFO order. */
export function keepAliveAgent(concurrency: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' });
}

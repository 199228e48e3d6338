import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Server, createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { rawErrorResponse } from '../protocol/s3/s3-http-handler.js';

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  /** PEM certificate chain and key: HTTPS when given. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly handle: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface Listener {
  readonly url: string;
  readonly secure: boolean;
  close(graceMs: number): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host.startsWith('::ffff:127.');
}

/**
 * The HTTP(S) listener the S3 and admin handlers share. Node's defaults are tuned for web pages:
 * uploads of many GiB need no total request timeout (idleness is bounded instead), and requests
 * the HTTP parser refuses still get an S3 XML error.
 */
export async function startListener(options: ListenerOptions): Promise<Listener> {
  const serverOptions = {
    requestTimeout: 0,
    headersTimeout: 60_000,
    keepAliveTimeout: 65_000,
    maxHeaderSize: 16 * 1024,
    // Answer a Host-less request with an S3 error ourselves instead of a bare 400 from the parser.
    requireHostHeader: false,
  };
  const server: Server =
    options.tls === undefined
      ? createServer(serverOptions, options.handle)
      : createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key, minVersion: 'TLSv1.2' }, options.handle);
  server.setTimeout(300_000);
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (socket.writable && !socket.destroyed) socket.end(rawErrorResponse(error.code));
    else socket.destroy();
  });
  // A failed TLS handshake (a scanner, a client without our CA) is the client's problem, not ours.
  server.on('tlsClientError', (_error: Error, socket: Socket) => socket.destroy());
  // An unknown Expect value is not a reason to refuse an S3 request: handle it as usual.
  server.on('checkExpectation', options.handle);
  server.on('connect', (_req, socket: NodeJS.WritableStream & { end(data: string): void }) => {
    socket.end(rawErrorResponse(undefined));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const secure = options.tls !== undefined;
  return {
    url: `${secure ? 'https' : 'http'}://${host}:${address.port}`,
    secure,
    close: (graceMs) => closeServer(server, graceMs),
  };
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections go idle as their last response finishes: close each as it does.
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(sweep);
  clearTimeout(timer);
}

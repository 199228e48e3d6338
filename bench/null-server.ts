/**
 * The do-nothing server that measures the load generator's ceiling: node:http in its own process,
 * no auth, no storage. A PUT is answered 200 as soon as its body has been read; a GET is answered
 * 200 with as many bytes as the real object would have (the size is in the key: `large-<bytes>`,
 * otherwise 4 KiB), sent from memory. Prints nothing; tells its parent the port over IPC.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMALL_OBJECT_BYTES } from './workload.js';

const FILL = randomBytes(1024 * 1024);
const SMALL_BODY = FILL.subarray(0, SMALL_OBJECT_BYTES);
const LARGE_KEY = /\/large-(\d+)$/;

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'GET') {
    const size = LARGE_KEY.exec(req.url?.split('?')[0] ?? '')?.[1];
    void sendBody(res, size === undefined ? SMALL_OBJECT_BYTES : Number(size));
    return;
  }
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { etag: '"0"', 'content-length': '0' });
    res.end();
  });
});

async function sendBody(res: ServerResponse, bytes: number): Promise<void> {
  res.writeHead(200, { 'content-length': String(bytes) });
  if (bytes === SMALL_OBJECT_BYTES) {
    res.end(SMALL_BODY);
    return;
  }
  let left = bytes;
  while (left > 0 && !res.destroyed) {
    const n = Math.min(left, FILL.length);
    const flowing = res.write(n === FILL.length ? FILL : FILL.subarray(0, n));
    left -= n;
    if (!flowing) await once(res, 'drain');
  }
  res.end();
}

server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: (server.address() as AddressInfo).port });
});
process.once('disconnect', () => process.exit(0));

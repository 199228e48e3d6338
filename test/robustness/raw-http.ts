// HTTP/1.1 over a bare TCP socket: the only way to send what no HTTP client library would
// (bad request lines, control characters, conflicting framing, bodies shorter or longer than
// announced) and to see every byte the server answers, including a second response to
// bytes the first request did not consume.
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly statusLine: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export interface RawExchange {
  /** Final responses in order (1xx interim responses are dropped). */
  readonly responses: readonly RawResponse[];
  /** True if the server closed the connection; false if we gave up waiting. */
  readonly closedByServer: boolean;
  /** Bytes after the last complete response that do not form one. */
  readonly leftover: Buffer;
  /** Set if the socket failed (e.g. reset by the server). */
  readonly socketError: string | undefined;
}

export interface ExchangeOptions {
  /** Give up waiting for the server to close after this long. */
  readonly waitMs: number;
  /** Methods of the requests sent, in order, so that responses to HEAD are read without a body. */
  readonly methods: readonly string[];
  /** Sent after `request`, once `delayMs` has passed (a body that arrives late, or never completes). */
  readonly more?: { readonly delayMs: number; readonly data: Buffer };
}

/**
 * Sends `request` and collects everything the server sends until it closes the connection (or
 * `waitMs` passes), then parses the responses. Requests should carry `Connection: close`.
 */
export function exchange(port: number, request: Buffer, options: ExchangeOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let socketError: string | undefined;
    let closedByServer = false;
    let moreTimer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => socket.destroy(), options.waitMs);
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', (error) => {
      socketError = error.message;
    });
    socket.on('end', () => {
      closedByServer = true;
    });
    socket.on('close', () => {
      clearTimeout(giveUp);
      clearTimeout(moreTimer);
      // The connection is over, whoever ended it: an unframed body runs to here.
      const parsed = parseResponses(Buffer.concat(received), options.methods, true);
      resolve({ ...parsed, closedByServer, socketError });
    });
    socket.write(request);
    if (options.more !== undefined) {
      const more = options.more;
      moreTimer = setTimeout(() => {
        if (!socket.destroyed) socket.write(more.data);
      }, more.delayMs);
    }
  });
}

/** Parses as many complete responses as `data` holds. A body without framing runs to the close. */
export function parseResponses(
  data: Buffer,
  methods: readonly string[],
  closed: boolean,
): { responses: RawResponse[]; leftover: Buffer } {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', offset);
    if (headEnd < 0) break;
    const lines = data.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const statusLine = lines[0] ?? '';
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (match === null) break;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let cursor = headEnd + 4;
    if (status >= 100 && status < 200) {
      offset = cursor;
      continue;
    }
    // A response to HEAD has no body, unless the server could not parse the request as HEAD at
    // all (then bytes other than a next response follow, framed as a body).
    const headWithoutBody = (methods[responses.length] ?? 'GET') === 'HEAD' && (cursor === data.length || data.subarray(cursor, cursor + 5).toString('latin1') === 'HTTP/');
    let body: Buffer;
    if (headWithoutBody || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const decoded = decodeChunked(data, cursor);
      if (decoded === undefined) break;
      body = decoded.body;
      cursor = decoded.end;
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (!Number.isSafeInteger(length) || cursor + length > data.length) break;
      body = data.subarray(cursor, cursor + length);
      cursor += length;
    } else {
      if (!closed) break;
      body = data.subarray(cursor);
      cursor = data.length;
    }
    responses.push({ status, statusLine, headers, body });
    offset = cursor;
  }
  return { responses, leftover: data.subarray(offset) };
}

function decodeChunked(data: Buffer, start: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let cursor = start;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', cursor);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(cursor, lineEnd).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isSafeInteger(size) || size < 0) return undefined;
    cursor = lineEnd + 2;
    if (size === 0) {
      // Trailers (none expected), then the empty line.
      const end = data.indexOf('\r\n\r\n', cursor - 2);
      return end < 0 ? undefined : { body: Buffer.concat(parts), end: end + 4 };
    }
    if (cursor + size + 2 > data.length) return undefined;
    parts.push(data.subarray(cursor, cursor + size));
    cursor += size + 2;
  }
}

/** Renders a request: request line, headers in the order given (duplicates allowed), body. */
export function rawRequest(requestLine: string | Buffer, headers: ReadonlyArray<readonly [string, string]>, body?: Buffer): Buffer {
  const head = `\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`;
  const line = typeof requestLine === 'string' ? Buffer.from(requestLine, 'utf8') : requestLine;
  return Buffer.concat([line, Buffer.from(head, 'utf8'), body ?? Buffer.alloc(0)]);
}

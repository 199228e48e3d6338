// Runs one fuzz case against the server over a raw socket and returns what went wrong, if
// anything: a response that is neither a well-formed S3 error nor a success the request earned,
// and, per kind, what the server must have stored or must not have stored afterwards.
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from '@aws-crypto/crc32';
import { seededBytes } from '../durability/seeded-content.js';
import { EMPTY_SHA256, type RequestSigner, type SignInput, UNSIGNED_PAYLOAD, keyPath, unescapeXml } from '../durability/signed-http-client.js';
import { type ChunkedMode, type ChunkedMutation, type ChunkedPlan, PAYLOAD_KIND, chunkedHeaders, encodeChunked } from './aws-chunked-body.js';
import { type FuzzCase, type Header, encodeKeyForPath, percentDecodeBytes } from './hostile-input.js';
import { type RawExchange, type RawResponse, exchange, rawRequest } from './raw-http.js';

export const BUCKET = 'fuzz';
export const EXISTING_KEY = 'existing';
export const UPLOAD_KEY = 'mp-target';

export interface FuzzTarget {
  readonly port: number;
  readonly signer: RequestSigner;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly existingBody: Buffer;
  /** The open multipart upload of UPLOAD_KEY that CompleteMultipartUpload cases aim at. */
  uploadId: string;
  /** A key no earlier case used. */
  nextKey(prefix: string): string;
}

/** What may answer a request. */
export interface Allowed {
  /** A 2xx/3xx: only for correctly signed requests (and the health probe). */
  readonly success: boolean;
  /** No answer at all: only while the server still waits for bytes the request announced. */
  readonly silence?: boolean;
}

const sha256Hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const md5Base64 = (data: Uint8Array) => createHash('md5').update(data).digest('base64');
const crc32Base64 = (data: Uint8Array) => {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(data) >>> 0);
  return value.toString('base64');
};
const amzNow = () => new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');

/**
 * The property every response must have. 4xx: an S3 XML error (`<Error><Code>`), with a request
 * id, or for HEAD just the status. 5xx: never, except 501 NotImplemented, which is the code AWS
 * documents for functionality a server does not implement (ErrorResponses), not a failure.
 */
export function responseProblems(ex: RawExchange, methods: readonly string[], allowed: Allowed | ((index: number) => Allowed)): string[] {
  const rule = (index: number) => (typeof allowed === 'function' ? allowed(index) : allowed);
  const problems: string[] = [];
  if (ex.responses.length === 0 && rule(0).silence !== true) {
    problems.push(`no response: ${ex.closedByServer ? 'connection closed' : 'nothing within the wait'}${ex.socketError === undefined ? '' : ` (${ex.socketError})`}`);
  }
  ex.responses.forEach((response, index) => {
    const label = `response ${index + 1} "${response.statusLine}"`;
    const method = methods[index] ?? 'GET';
    const code = /<Error>\s*<Code>([A-Za-z0-9.]+)<\/Code>/.exec(response.body.toString('utf8'))?.[1];
    const body = response.body.toString('utf8').slice(0, 300);
    if (response.status >= 500 && !(response.status === 501 && code === 'NotImplemented')) {
      problems.push(`${label}: a server error answered a client's request: ${body}`);
    } else if (response.status >= 400) {
      if (response.headers['x-amz-request-id'] === undefined) problems.push(`${label}: error without x-amz-request-id`);
      if (method !== 'HEAD') {
        if (code === undefined) problems.push(`${label}: error body is not an S3 <Error><Code>: ${JSON.stringify(body)}`);
        if (!/xml/.test(response.headers['content-type'] ?? '')) problems.push(`${label}: error content-type ${response.headers['content-type']}`);
      }
    } else if (!rule(index).success) {
      problems.push(`${label}: success for a request that is not correctly signed: ${body}`);
    }
  });
  if (ex.leftover.length > 0) problems.push(`bytes that are no HTTP response: ${JSON.stringify(ex.leftover.subarray(0, 200).toString('latin1'))}`);
  return problems;
}

interface Head {
  method: string;
  target: string;
  headers: Record<string, string>;
}

/** A request signed by the official signer, which `adjust` may alter before it is rendered. */
async function signedRequest(t: FuzzTarget, input: SignInput, body?: Buffer, adjust?: (head: Head) => Buffer | void): Promise<Buffer> {
  const signed = await t.signer.sign(input);
  const head: Head = { method: input.method, target: signed.target, headers: { ...signed.headers } };
  const replaced = adjust?.(head);
  const lines: Header[] = [...Object.entries(head.headers), ['connection', 'close']];
  return rawRequest(`${head.method} ${head.target} HTTP/1.1`, lines, replaced ?? body);
}

/** A correctly signed request, answered; throws if the server gives no response (a bug the caller reports). */
export async function call(t: FuzzTarget, method: string, path: string, query: Record<string, string> = {}, body?: Buffer): Promise<RawResponse> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-length': String(body.length) };
  const request = await signedRequest(t, { method, path, query, headers, payloadHash: body === undefined ? EMPTY_SHA256 : sha256Hex(body) }, body);
  const ex = await exchange(t.port, request, { waitMs: 10_000, methods: [method] });
  const response = ex.responses[0];
  if (response === undefined) throw new Error(`${method} ${path}: no response (${ex.socketError ?? 'closed'})`);
  return response;
}

export async function runCase(c: FuzzCase, t: FuzzTarget): Promise<string[]> {
  switch (c.kind) {
    case 'raw':
      return rawCase(c, t);
    case 'bogus-auth':
      return bogusAuthCase(c, t);
    case 'huge-headers':
      return hugeHeadersCase(c, t);
    case 'signed-put':
      return signedPutCase(c, t);
    case 'tampered':
      return tamperedCase(c, t);
    case 'signed-headers':
      return signedHeadersCase(c, t);
    case 'chunked':
      return chunkedCase(c, t);
    case 'length-mismatch':
      return lengthMismatchCase(c, t);
    case 'xml':
      return xmlCase(c, t);
  }
}

async function rawCase(c: Extract<FuzzCase, { kind: 'raw' }>, t: FuzzTarget): Promise<string[]> {
  const headers: Header[] = c.host ? [['Host', `127.0.0.1:${t.port}`]] : [];
  headers.push(...c.headers);
  // With framing headers of its own the request may announce more than it sends: the server may wait.
  const framed = c.headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  if (!framed && c.body.length > 0) headers.push(['Content-Length', String(c.body.length)]);
  headers.push(['Connection', 'close']);
  const ex = await exchange(t.port, rawRequest(`${c.method} ${c.target} HTTP/1.1`, headers, c.body), {
    waitMs: framed ? 800 : 5_000,
    methods: [c.method],
  });
  const path = c.target.replace(/^[a-z]+:\/\/[^/]*/i, '').split('?')[0];
  const health = path === '/_holdfast/health' && (c.method === 'GET' || c.method === 'HEAD');
  return responseProblems(ex, [c.method], { success: health, silence: framed });
}

async function bogusAuthCase(c: Extract<FuzzCase, { kind: 'bogus-auth' }>, t: FuzzTarget): Promise<string[]> {
  const now = amzNow();
  const fill = (text: string) => text.replaceAll('{AK}', t.accessKeyId).replaceAll('{DATE}', now.slice(0, 8)).replaceAll('{NOW}', now);
  const headers: Header[] = [['Host', `127.0.0.1:${t.port}`], ...c.headers.map(([n, v]) => [n, fill(v)] as const), ['Connection', 'close']];
  const ex = await exchange(t.port, rawRequest(`${c.method} ${fill(c.target)} HTTP/1.1`, headers), { waitMs: 5_000, methods: [c.method] });
  return responseProblems(ex, [c.method], { success: false });
}

async function hugeHeadersCase(c: Extract<FuzzCase, { kind: 'huge-headers' }>, t: FuzzTarget): Promise<string[]> {
  const headers: Header[] = [['Host', `127.0.0.1:${t.port}`]];
  if (c.layout === 'one') headers.push(['x-amz-meta-huge', 'h'.repeat(c.bytes)]);
  else for (let i = 0; i * 24 < c.bytes; i++) headers.push([`x-amz-meta-h${i}`, 'v'.repeat(10)]);
  headers.push(['Connection', 'close']);
  const ex = await exchange(t.port, rawRequest(`GET /${BUCKET}/${EXISTING_KEY} HTTP/1.1`, headers), { waitMs: 5_000, methods: ['GET'] });
  return responseProblems(ex, ['GET'], { success: false });
}

/** After a 200 PUT: the key reads back byte-exact, HEAD agrees, and ListObjectsV2 lists it verbatim. */
async function storedProblems(t: FuzzTarget, path: string, keyBytes: Buffer, body: Buffer): Promise<string[]> {
  const problems: string[] = [];
  const got = await call(t, 'GET', path);
  if (got.status !== 200 || !got.body.equals(body)) {
    problems.push(`GET ${path} after its PUT succeeded: ${got.status}, ${got.body.length} bytes, expected the ${body.length} bytes sent`);
  }
  const head = await call(t, 'HEAD', path);
  if (head.status !== 200 || head.headers['content-length'] !== String(body.length)) {
    problems.push(`HEAD ${path}: ${head.status}, content-length ${head.headers['content-length']}, expected ${body.length}`);
  }
  let key: string;
  try {
    // ignoreBOM: a key may well start with U+FEFF, which must not be dropped.
    key = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(keyBytes);
  } catch {
    return [...problems, `the server stored a key that is not valid UTF-8: ${keyBytes.toString('hex')}`];
  }
  const list = await call(t, 'GET', `/${BUCKET}`, { 'list-type': '2', 'encoding-type': 'url', prefix: key, 'max-keys': '1000' });
  const listed = [...list.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1] ?? ''));
  // encoding-type=url: %XX escapes; some S3 implementations write a space as '+'.
  const found = listed.some((k) => percentDecodeBytes(k).equals(keyBytes) || percentDecodeBytes(k.replaceAll('+', '%20')).equals(keyBytes));
  if (list.status !== 200 || !found) {
    problems.push(`ListObjectsV2 (${list.status}) does not list the key verbatim: want bytes ${keyBytes.toString('hex')}, listed ${JSON.stringify(listed.slice(0, 5))}`);
  }
  return problems;
}

async function signedPutCase(c: Extract<FuzzCase, { kind: 'signed-put' }>, t: FuzzTarget): Promise<string[]> {
  const put = async (path: string, body: Buffer) => {
    const request = await signedRequest(
      t,
      { method: 'PUT', path, headers: { 'content-length': String(body.length) }, payloadHash: c.signedPayload ? sha256Hex(body) : UNSIGNED_PAYLOAD },
      body,
    );
    return exchange(t.port, request, { waitMs: 10_000, methods: ['PUT'] });
  };
  const path = `/${BUCKET}/${c.encodedKey}`;
  const first = await put(path, c.body);
  const problems = responseProblems(first, ['PUT'], { success: true });
  if (first.responses[0]?.status !== 200) {
    const after = await call(t, 'GET', path);
    if (after.status === 200) problems.push(`PUT ${path} was refused, yet GET answers 200`);
    return problems;
  }
  const stored = [{ path, keyBytes: percentDecodeBytes(c.encodedKey), body: c.body }];
  for (const [index, variant] of c.variants.entries()) {
    const variantPath = `/${BUCKET}/${encodeKeyForPath(variant)}`;
    const body = Buffer.concat([c.body, Buffer.from(`variant ${index}`)]);
    const ex = await put(variantPath, body);
    problems.push(...responseProblems(ex, ['PUT'], { success: true }).map((p) => `variant ${JSON.stringify(variant)}: ${p}`));
    if (ex.responses[0]?.status === 200) stored.push({ path: variantPath, keyBytes: Buffer.from(variant, 'utf8'), body });
  }
  // Checked after all variants were written: no spelling of the key may overwrite another.
  for (const entry of stored) problems.push(...(await storedProblems(t, entry.path, entry.keyBytes, entry.body)));
  for (const entry of stored) {
    const deleted = await call(t, 'DELETE', entry.path);
    if (deleted.status !== 204) problems.push(`DELETE ${entry.path}: ${deleted.status} ${deleted.body.toString().slice(0, 200)}`);
  }
  return problems;
}

async function tamperedCase(c: Extract<FuzzCase, { kind: 'tampered' }>, t: FuzzTarget): Promise<string[]> {
  const key = t.nextKey('tampered');
  const path = keyPath(BUCKET, key);
  const input: SignInput = {
    method: 'PUT',
    path,
    headers: { 'content-length': String(c.body.length), 'x-amz-meta-color': 'blue' },
    payloadHash: sha256Hex(c.body),
    ...(c.tamper === 'stale-date' ? { signingDate: new Date(Date.now() - 20 * 60 * 1000) } : {}),
  };
  const request = await signedRequest(t, input, c.body, (head) => {
    const auth = head.headers.authorization ?? '';
    switch (c.tamper) {
      case 'path':
        head.target = keyPath(BUCKET, `${key}-x`);
        return;
      case 'header-value':
        head.headers['x-amz-meta-color'] = 'red';
        return;
      case 'extra-query':
        head.target += '?x-id=PutObject';
        return;
      case 'method':
        head.method = 'POST';
        return;
      case 'signature':
        head.headers.authorization = auth.replace(/.$/, (last) => (last === '0' ? '1' : '0'));
        return;
      case 'body': {
        const body = Buffer.from(c.body);
        body[0] = body[0]! ^ 0xff;
        return body;
      }
      case 'drop-signed-header':
        delete head.headers['x-amz-meta-color'];
        return;
      case 'other-key-id':
        head.headers.authorization = auth.replace(/Credential=[^/]+\//, `Credential=${randomBytes(10).toString('hex').toUpperCase()}/`);
        return;
      case 'stale-date':
        return;
    }
  });
  const ex = await exchange(t.port, request, { waitMs: 10_000, methods: [c.tamper === 'method' ? 'POST' : 'PUT'] });
  const problems = responseProblems(ex, ['PUT'], { success: false });
  for (const candidate of [path, keyPath(BUCKET, `${key}-x`)]) {
    const after = await call(t, 'GET', candidate);
    if (after.status !== 404) problems.push(`after a refused, tampered PUT, GET ${candidate} answered ${after.status}`);
  }
  return problems;
}

async function signedHeadersCase(c: Extract<FuzzCase, { kind: 'signed-headers' }>, t: FuzzTarget): Promise<string[]> {
  const fresh = t.nextKey('headers');
  const path = { existing: keyPath(BUCKET, EXISTING_KEY), fresh: keyPath(BUCKET, fresh), bucket: `/${BUCKET}`, service: '/' }[c.target];
  const query: Record<string, string> = c.method === 'POST' ? (c.target === 'bucket' ? { delete: '' } : { uploads: '' }) : {};
  const headers: Record<string, string> = Object.fromEntries(c.headers);
  const body = c.method === 'PUT' ? c.body : undefined;
  if (body !== undefined) headers['content-length'] = String(body.length);
  const request = await signedRequest(t, { method: c.method, path, query, headers, payloadHash: body === undefined ? EMPTY_SHA256 : sha256Hex(body) }, body);
  const ex = await exchange(t.port, request, { waitMs: 10_000, methods: [c.method] });
  const problems = responseProblems(ex, [c.method], { success: true });
  const status = ex.responses[0]?.status ?? 0;
  if (c.target === 'fresh' && c.method === 'PUT' && status === 200 && body !== undefined) {
    const copied = headers['x-amz-copy-source'] === `/${BUCKET}/${EXISTING_KEY}`;
    const got = await call(t, 'GET', path);
    const want = copied ? t.existingBody : body;
    if (got.status !== 200 || !got.body.equals(want)) problems.push(`GET after a 200 PUT with hostile headers: ${got.status}, ${got.body.length} bytes, expected ${want.length}`);
    await call(t, 'DELETE', path);
  }
  if (c.target === 'existing' && (c.method === 'PUT' || c.method === 'DELETE') && status < 300) {
    await call(t, 'PUT', path, {}, t.existingBody);
  }
  return problems;
}

/**
 * Mutations that leave a valid request: trailer changes mean nothing without a trailer, and an
 * empty payload has no data chunk to oversize or to lose the CRLF of.
 */
function leavesValid(mode: ChunkedMode, mutation: ChunkedMutation, size: number): boolean {
  if (mutation === 'none') return true;
  if (mode === 'signed' && ['wrong-trailer-checksum', 'missing-trailer', 'garbage-trailer'].includes(mutation)) return true;
  return size === 0 && (mutation === 'oversize-chunk' || mutation === 'drop-crlf');
}

/** Mutations after which the body is no valid aws-chunked encoding of the payload (see aws-chunked-body.ts). */
function mustRefuse(mode: ChunkedMode, mutation: ChunkedMutation, size: number): boolean {
  if (leavesValid(mode, mutation, size)) return false;
  const always: readonly ChunkedMutation[] = ['truncate', 'flip-byte', 'bad-size', 'oversize-chunk', 'drop-crlf', 'drop-final', 'long-line'];
  const perMode: readonly ChunkedMutation[] = mode === 'signed' ? ['bad-signature'] : ['wrong-trailer-checksum', 'missing-trailer', 'garbage-trailer'];
  return always.includes(mutation) || perMode.includes(mutation);
}

async function chunkedCase(c: Extract<FuzzCase, { kind: 'chunked' }>, t: FuzzTarget): Promise<string[]> {
  const payload = seededBytes(`chunked:${c.size}`, c.size);
  const plan: ChunkedPlan = { mode: c.mode, payload, chunkSize: c.chunkSize, mutation: c.mutation, at: c.at, badSize: c.badSize };
  const headers = chunkedHeaders(plan);
  const decodedLength = c.decodedLength === 'shorter' && c.size === 0 ? 'garbage' : c.decodedLength;
  if (decodedLength === 'shorter') headers['x-amz-decoded-content-length'] = String(c.size - 1);
  if (decodedLength === 'longer') headers['x-amz-decoded-content-length'] = String(c.size + 1);
  if (decodedLength === 'garbage') headers['x-amz-decoded-content-length'] = '12abc';
  const path = keyPath(BUCKET, t.nextKey('chunked'));
  // Content-Length is left unsigned: it is only known once the (mutated) body is built.
  const request = await signedRequest(t, { method: 'PUT', path, headers, payloadHash: PAYLOAD_KIND[c.mode] }, undefined, (head) => {
    const seedSignature = /Signature=([0-9a-f]{64})/.exec(head.headers.authorization ?? '')?.[1] ?? '';
    const amzDate = head.headers['x-amz-date'] ?? '';
    const body = encodeChunked(plan, c.mode === 'signed' ? { seedSignature, amzDate, secretAccessKey: t.secretAccessKey } : undefined);
    head.headers['content-length'] = String(body.length);
    return body;
  });
  const ex = await exchange(t.port, request, { waitMs: 10_000, methods: ['PUT'] });
  const problems = responseProblems(ex, ['PUT'], { success: true });
  const status = ex.responses[0]?.status;
  const valid = leavesValid(c.mode, c.mutation, c.size) && decodedLength === 'exact';
  // A bad size that still parses to the true first-chunk size (e.g. "0x10" for 16 bytes) is no corruption.
  const harmlessSize = c.mutation === 'bad-size' && parseInt(c.badSize, 16) === Math.min(c.size, c.chunkSize);
  if (valid && status !== 200) problems.push(`a valid ${PAYLOAD_KIND[c.mode]} upload of ${c.size} bytes was refused: ${ex.responses[0]?.body.toString().slice(0, 300)}`);
  if (status === 200 && (mustRefuse(c.mode, c.mutation, c.size) || decodedLength !== 'exact') && !harmlessSize) {
    problems.push(`a broken ${PAYLOAD_KIND[c.mode]} body (${c.mutation}, decoded length ${decodedLength}) was accepted`);
  }
  const after = await call(t, 'GET', path);
  if (status === 200 && (after.status !== 200 || !after.body.equals(payload))) {
    problems.push(`GET after a 200 aws-chunked PUT: ${after.status}, ${after.body.length} bytes; expected the ${payload.length}-byte payload`);
  }
  if (status !== 200 && after.status !== 404) problems.push(`the refused aws-chunked PUT left something readable: GET answered ${after.status}`);
  return problems;
}

async function lengthMismatchCase(c: Extract<FuzzCase, { kind: 'length-mismatch' }>, t: FuzzTarget): Promise<string[]> {
  const path = keyPath(BUCKET, t.nextKey('length'));
  const body = seededBytes(`length:${c.declared}`, c.declared);
  const input: SignInput = {
    method: 'PUT',
    path,
    headers: { 'content-length': String(c.declared) },
    payloadHash: UNSIGNED_PAYLOAD,
    ...(c.signLength ? {} : { unsignedHeaders: ['content-length'] }),
  };
  const problems: string[] = [];
  if (c.sent < c.declared) {
    // The server must keep waiting for the rest (or refuse); when the client gives up, nothing is stored.
    const request = await signedRequest(t, input, body.subarray(0, c.sent));
    const ex = await exchange(t.port, request, { waitMs: 700, methods: ['PUT'] });
    problems.push(...responseProblems(ex, ['PUT'], { success: false, silence: true }));
    const after = await call(t, 'GET', path);
    if (after.status !== 404) problems.push(`a PUT with ${c.sent} of ${c.declared} bytes, then abandoned, left GET answering ${after.status}`);
    return problems;
  }
  // Longer: the first Content-Length bytes are the body; the rest is the next "request" on the
  // wire. Whatever the server answers, it may store exactly the announced bytes or nothing.
  const request = await signedRequest(t, input, Buffer.concat([body, Buffer.from(c.junk, 'latin1')]));
  const ex = await exchange(t.port, request, { waitMs: 5_000, methods: ['PUT', 'GET'] });
  // Dropping the connection over the garbage, unanswered, is a fair defence.
  problems.push(...responseProblems(ex, ['PUT', 'GET'], (index) => ({ success: index === 0, silence: true })));
  const after = await call(t, 'GET', path);
  const stored = after.status === 200 && after.body.equals(body);
  if (!stored && after.status !== 404) {
    problems.push(`GET after the PUT: ${after.status}, ${after.body.length} bytes; expected nothing or exactly the ${c.declared} announced bytes`);
  }
  if (ex.responses[0]?.status === 200 && !stored) problems.push('the PUT was acknowledged, but its object is not readable');
  return problems;
}

async function xmlCase(c: Extract<FuzzCase, { kind: 'xml' }>, t: FuzzTarget): Promise<string[]> {
  const complete = c.target === 'complete';
  const path = complete ? keyPath(BUCKET, UPLOAD_KEY) : `/${BUCKET}`;
  const query: Record<string, string> = complete ? { uploadId: t.uploadId } : { delete: '' };
  const headers: Record<string, string> = { 'content-length': String(c.body.length), 'content-type': 'application/xml' };
  if (c.integrity === 'md5') headers['content-md5'] = md5Base64(c.body);
  if (c.integrity === 'wrong-md5') headers['content-md5'] = md5Base64(Buffer.concat([c.body, Buffer.from('x')]));
  if (c.integrity === 'crc32') headers['x-amz-checksum-crc32'] = crc32Base64(c.body);
  const request = await signedRequest(t, { method: 'POST', path, query, headers, payloadHash: c.signedPayload ? sha256Hex(c.body) : UNSIGNED_PAYLOAD }, c.body);
  const ex = await exchange(t.port, request, { waitMs: 15_000, methods: ['POST'] });
  const problems = responseProblems(ex, ['POST'], { success: true });
  const response = ex.responses[0];
  if (complete && response?.status === 200 && !/<Error>/.test(response.body.toString())) {
    // The upload has no parts, so no CompleteMultipartUpload can legitimately succeed.
    problems.push(`CompleteMultipartUpload of an upload without parts succeeded: ${response.body.toString().slice(0, 300)}`);
    t.uploadId = await createUpload(t);
  }
  return problems;
}

export async function createUpload(t: FuzzTarget): Promise<string> {
  const created = await call(t, 'POST', keyPath(BUCKET, UPLOAD_KEY), { uploads: '' });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())?.[1];
  if (created.status !== 200 || uploadId === undefined) throw new Error(`CreateMultipartUpload: ${created.statusLine} ${created.body.toString()}`);
  return unescapeXml(uploadId);
}

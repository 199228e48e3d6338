// The fast-check arbitraries of the request fuzz test: hostile request lines, paths, keys,
// headers, aws-chunked bodies and XML documents. Cases are plain data (printable when fast-check
// reports a counterexample); request-fuzz-cases.ts turns them into bytes on a socket.
import fc from 'fast-check';
import { CHUNKED_MUTATIONS, type ChunkedMode, type ChunkedMutation } from './aws-chunked-body.js';

export type Header = readonly [string, string];

export type FuzzCase =
  /** Unsigned requests with hostile request lines, headers and bodies: all must be refused. */
  | { readonly kind: 'raw'; readonly method: string; readonly target: string; readonly headers: readonly Header[]; readonly host: boolean; readonly body: Buffer }
  /** Malformed or forged credentials: all must be refused. `{AK}` stands for the real access key id. */
  | { readonly kind: 'bogus-auth'; readonly method: string; readonly target: string; readonly headers: readonly Header[] }
  /** Headers beyond the server's header size limit. */
  | { readonly kind: 'huge-headers'; readonly layout: 'one' | 'many'; readonly bytes: number }
  /** A correctly signed PUT of a hostile key (already encoded for the path): stored verbatim or refused. */
  | { readonly kind: 'signed-put'; readonly encodedKey: string; readonly variants: readonly string[]; readonly body: Buffer; readonly signedPayload: boolean }
  /** A correctly signed PUT altered after signing: must be refused and store nothing. */
  | { readonly kind: 'tampered'; readonly tamper: Tamper; readonly body: Buffer }
  /** Correctly signed requests carrying hostile header values. */
  | { readonly kind: 'signed-headers'; readonly method: string; readonly target: 'existing' | 'fresh' | 'bucket' | 'service'; readonly headers: readonly Header[]; readonly body: Buffer }
  /** Signed PUTs with aws-chunked bodies, intact or broken. */
  | {
      readonly kind: 'chunked';
      readonly mode: ChunkedMode;
      readonly size: number;
      readonly chunkSize: number;
      readonly mutation: ChunkedMutation;
      readonly at: number;
      readonly badSize: string;
      readonly decodedLength: 'exact' | 'shorter' | 'longer' | 'garbage';
    }
  /** Signed PUTs whose body is shorter or longer than their Content-Length. */
  | { readonly kind: 'length-mismatch'; readonly declared: number; readonly sent: number; readonly signLength: boolean; readonly junk: string }
  /** Signed DeleteObjects / CompleteMultipartUpload with hostile XML. */
  | { readonly kind: 'xml'; readonly target: 'delete' | 'complete'; readonly body: Buffer; readonly integrity: 'md5' | 'crc32' | 'none' | 'wrong-md5'; readonly signedPayload: boolean };

export const TAMPERS = ['path', 'header-value', 'extra-query', 'method', 'signature', 'body', 'drop-signed-header', 'other-key-id', 'stale-date'] as const;
export type Tamper = (typeof TAMPERS)[number];

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'CONNECT', 'get', 'BREW', 'G ET', 'M-SEARCH', 'X'.repeat(300)];

const PATH_PIECES = [
  '/', '//', '..', '../', '..%2f', '%2e%2e', '%2E%2e/', '%2f', '%5c', '.', './', '\\', '..\\', '%00', '%0a', '%0d%0a', '%C0%AF',
  '%c0%ae%c0%ae/', '%e0%80%af', '%FF', '%fe%ff', '%', '%g1', '%%', '%ED%A0%80', '%EF%BB%BF', '%F4%90%80%80', '/etc/passwd',
  'C:\\Windows\\win.ini', 'etc', '~', 'fuzz', 'fuzz/', 'fuzz/existing', '_holdfast', '_holdfast/health', 'é', 'e\u0301', '\uFF0E\uFF0E\uFF0F',
  '\u2025/', '😀', '*', ';', '=', '#frag', '?', '?uploads', '?delete', '?uploadId=', '?partNumber=0&uploadId=x', '?list-type=2&prefix=..%2f',
  '?acl', '?versionId=../../etc', '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=x', '&&', ' ', '\t', '\u0001', '\u007f', '\u0000',
  '\u0085', '\u2028', 'a'.repeat(1030), '%41'.repeat(400),
];

const RAW_HEADERS: readonly Header[] = [
  ['Content-Length', '-1'], ['Content-Length', '1e3'], ['Content-Length', '99999999999999999999999'], ['Content-Length', '0x10'],
  ['Content-Length', '4'], ['Transfer-Encoding', 'chunked'], ['Transfer-Encoding', 'gzip, chunked'], ['Transfer-Encoding', 'identity'],
  ['Expect', '100-continue'], ['Expect', '200-ok'], ['Host', ''], ['Host', 'evil.example'], ['Host', 'fuzz.localhost'], ['Host', '[::1'],
  ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'], ['Content-Encoding', 'aws-chunked'], ['x-amz-decoded-content-length', '-5'],
  ['x-amz-date', '20991301T250000Z'], ['Date', 'yesterday'], ['Range', 'bytes=-0'], ['Range', 'bytes=999999999999999999999-'],
  ['Content-MD5', 'zz'], ['x-amz-copy-source', '../../../etc/passwd'], ['If-None-Match', '*'], ['x-amz-meta-é', 'v'], ['Bad Header', 'x'],
  ['X-Null', 'a\u0000b'], ['X-CR', 'a\rb'], ['', 'empty-name'], [':authority', 'x'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket'],
  ['Content-Type', `multipart/form-data; boundary=${'-'.repeat(70)}`], ['Authorization', ''], ['X-Forwarded-For', '127.0.0.1'],
  ['Cookie', 'a=b'.repeat(100)], ['x-amz-security-token', 'x'], ['Accept-Encoding', 'gzip, br'], ['Keep-Alive', 'timeout=99999'],
];

const AUTHORIZATIONS = [
  'AWS4-HMAC-SHA256',
  'AWS4-HMAC-SHA256 ',
  'AWS4-HMAC-SHA256 Credential=',
  'AWS4-HMAC-SHA256 Credential={AK}/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=' + '0'.repeat(64),
  'AWS4-HMAC-SHA256 Credential={AK}/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=' + 'f'.repeat(64),
  'AWS4-HMAC-SHA256 Credential={AK}/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=zz',
  'AWS4-HMAC-SHA256 Credential={AK}/{DATE}/eu-west-1/iam/aws4_request, SignedHeaders=host, Signature=' + 'a'.repeat(64),
  'AWS4-HMAC-SHA256 Credential={AK}/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=, Signature=',
  'AWS4-HMAC-SHA256 Credential={AK}/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=' + 'x;'.repeat(3000) + ', Signature=' + '0'.repeat(64),
  'AWS4-HMAC-SHA256 Credential=' + '/'.repeat(200) + ', SignedHeaders=host, Signature=' + '0'.repeat(64),
  'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64),
  'AWS4-HMAC-SHA256 Credential=é/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64),
  'AWS4-HMAC-SHA256 Credential={AK}/{DATE}/us-east-1/s3/aws4_request,,,,SignedHeaders=host,,Signature=' + '0'.repeat(64),
  'AWS4-HMAC-SHA256 Signature=' + '0'.repeat(64) + ', Credential={AK}/{DATE}/us-east-1/s3/aws4_request, Credential=x, SignedHeaders=host',
  'AWS {AK}:c2lnbmF0dXJl',
  'AWS4-ECDSA-P256-SHA256 Credential={AK}/{DATE}/s3/aws4_request, SignedHeaders=host, Signature=00',
  'Bearer eyJhbGciOiJub25lIn0.e30.',
  'Basic YWRtaW46YWRtaW4=',
  ',,,,',
  'x'.repeat(15_000),
];

const PRESIGNED_QUERIES = [
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AK}%2F{DATE}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={NOW}&X-Amz-Expires=99999999&X-Amz-SignedHeaders=host&X-Amz-Signature=' + '0'.repeat(64),
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AK}%2F{DATE}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date={NOW}&X-Amz-Expires=-1&X-Amz-SignedHeaders=host&X-Amz-Signature=' + '0'.repeat(64),
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={AK}&X-Amz-Signature=00',
  'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=x',
  'X-Amz-Credential=%ZZ&X-Amz-Date=%00',
  'AWSAccessKeyId={AK}&Expires=99999999999&Signature=abc%3D',
];

/** Key fragments aimed at path handling, terminals, XML rendering and Unicode comparison. */
const KEY_PIECES = [
  '../', '..', '/', '//', './', '%2e%2e', '%2F', '%00', '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u2028', '\u202e', '\uFEFF',
  '\u200b', '\uFF0E\uFF0E\uFF0F', '\u2215', '\u00e9', 'e\u0301', '\u212B', '\u00C5', '\uFB01', 'ﬀ', '/etc/passwd', 'C:\\Windows', '\\..\\',
  'CON', 'aux.txt', '.git/config', '~root', '$HOME', '`id`', '<Key>', ']]>', '&amp;', '"\'', '\ud800', '\udfff', '😀', '\u{10FFFF}', ' ',
  '?', '#', '+', '%', '*', 'blobs/00/' + '0'.repeat(32), 'metadata/vault.sqlite',
];

/** A string of exactly `bytes` UTF-8 bytes, mostly of `unit`, to probe the 1024-byte key limit. */
function fillToBytes(unit: string, bytes: number): string {
  let text = '';
  while (Buffer.byteLength(text + unit) <= bytes) text += unit;
  return text + 'a'.repeat(bytes - Buffer.byteLength(text));
}

const hostileKey: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 5,
      arbitrary: fc
        .array(
          fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...KEY_PIECES) },
            { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }) },
            { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
          ),
          { minLength: 1, maxLength: 8 },
        )
        .map((parts) => parts.join('')),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom('a', 'é', '€', '😀', '/'), fc.constantFrom(1023, 1024, 1025)).map(([unit, bytes]) => fillToBytes(unit, bytes)),
    },
  )
  .filter((key) => key !== '');

/** Percent-encodings a decoder must reject or decode exactly once: overlong, invalid, truncated. */
const ENCODED_PIECES = [
  '%', '%G0', '%C0%AF', '%C1%BF', '%E0%80%AF', '%FF', '%FE', '%ED%A0%80', '%ED%BF%BF', '%E2%80', '%F4%90%80%80', '%F8%88%80%80%80',
  '%00', '%0A', '%2e%2e%2f', '%2E%2E%5C', '..%2F', '%252e%252e%252f', '%u002e', '%C3%A9', 'e%CC%81', '%EF%BC%8E', 'plain', '/', '..',
];

/**
 * The path bytes for a key: UTF-8, percent-encoded except unreserved characters and '/'. Lone
 * surrogates, which UTF-8 cannot carry, are sent as their WTF-8 bytes, i.e. as invalid UTF-8.
 */
export function encodeKeyForPath(key: string): string {
  let out = '';
  for (const char of key) {
    const code = char.codePointAt(0)!;
    const bytes = code >= 0xd800 && code <= 0xdfff
      ? Buffer.from([0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)])
      : Buffer.from(char, 'utf8');
    for (const byte of bytes) {
      const c = String.fromCharCode(byte);
      out += /[A-Za-z0-9\-._~/]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Decodes %XX escapes to bytes, leaving malformed escapes as literal bytes (no UTF-8 validation). */
export function percentDecodeBytes(text: string): Buffer {
  const bytes: number[] = [];
  const raw = Buffer.from(text, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (raw[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(raw[i]!);
    }
  }
  return Buffer.from(bytes);
}

const signedPut: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.oneof(
      { weight: 3, arbitrary: hostileKey.map((key) => ({ key, encoded: encodeKeyForPath(key) })) },
      {
        weight: 1,
        arbitrary: fc.array(fc.constantFrom(...ENCODED_PIECES), { minLength: 1, maxLength: 5 }).map((parts) => ({ key: undefined, encoded: parts.join('') })),
      },
    ),
    fc.uint8Array({ maxLength: 2048 }),
    fc.boolean(),
  )
  .map(([{ key, encoded }, body, signedPayload]) => {
    // Unicode-equivalent spellings of the key must be distinct keys, each with its own bytes.
    const variants =
      key === undefined || !key.isWellFormed()
        ? []
        : [...new Set([key.normalize('NFC'), key.normalize('NFD'), key.normalize('NFKC')])].filter((v) => v !== key);
    return { kind: 'signed-put', encodedKey: encoded, variants, body: Buffer.from(body), signedPayload } as const;
  });

const XML_BOMB = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<ROOT><Object><Key>&lol9;</Key></Object><Part><PartNumber>1</PartNumber><ETag>&lol9;</ETag></Part></ROOT>`;

const XXE = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]>
<ROOT><Object><Key>&xxe;</Key></Object><Part><PartNumber>1</PartNumber><ETag>&xxe;</ETag></Part></ROOT>`;

function xmlDocuments(root: 'Delete' | 'CompleteMultipartUpload'): fc.Arbitrary<string> {
  const item = root === 'Delete' ? 'Object' : 'Part';
  const valid = root === 'Delete' ? '<Object><Key>k</Key></Object>' : '<Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part>';
  return fc.oneof(
    fc.constant(XML_BOMB.replaceAll('ROOT', root)),
    fc.constant(XXE.replaceAll('ROOT', root)),
    fc.integer({ min: 1_000, max: 60_000 }).map((depth) => `<${root}>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</${root}>`),
    fc.integer({ min: 1_000, max: 30_000 }).map((depth) => `<${root}>${`<${item}>`.repeat(depth)}${`</${item}>`.repeat(depth)}</${root}>`),
    fc.integer({ min: 1, max: 3 }).map((mib) => `<${root}>${valid.repeat(Math.ceil((mib * 1024 * 1024) / valid.length))}</${root}>`),
    fc.constant(`<${root}>${valid.repeat(1001)}</${root}>`),
    fc.constant(`<${root}>${valid}`),
    fc.constant(`<${root}><${item}><Key><![CDATA[../../etc/passwd]]></Key><PartNumber><![CDATA[1]]></PartNumber></${item}></${root}>`),
    fc.constant(`<?xml version="1.0" encoding="UTF-16"?><${root}>${valid}</${root}>`),
    fc.constant(`<${root} xmlns:x="urn:x"><x:${item}><x:Key>k</x:Key><x:PartNumber>1</x:PartNumber><x:ETag>e</x:ETag></x:${item}></${root}>`),
    fc.constant(`<${root}><__proto__><polluted>yes</polluted></__proto__><constructor><prototype>x</prototype></constructor></${root}>`),
    fc.constant(`<${root}><${item}><Key>a</Key><Key>b</Key><PartNumber>1e400</PartNumber><PartNumber>-1</PartNumber><ETag><x/></ETag></${item}></${root}>`),
    fc.constant(`<${root}><${item}>text</${item}><Quiet>maybe</Quiet></${root}>`),
    fc.constant(`<${root}/>`),
    fc.constant(`<${root} ${'a'.repeat(10)}="1" ${'a'.repeat(10)}="2">${valid}</${root}>`),
    fc.constant(`<?xml-stylesheet href="file:///etc/passwd"?><!-- ${'-'.repeat(10)} --><${root}>${valid}</${root}>`),
    fc.constant(`\uFEFF<${root}>${valid}</${root}>`),
    hostileKey.map((key) => `<${root}><${item}><Key>${key}</Key><PartNumber>1</PartNumber><ETag>${key}</ETag></${item}></${root}>`),
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 300 }),
  );
}

const HOSTILE_SIGNED_HEADERS: readonly Header[] = [
  ['range', 'bytes=-0'], ['range', 'bytes=0-0,'.repeat(300)], ['range', 'bytes=99999999999999999999-'], ['range', 'bytes=5-1'],
  ['range', 'bytes=--1'], ['range', 'items=0-1'], ['range', `bytes=0-${'9'.repeat(400)}`], ['if-match', '*'], ['if-match', `"${'x'.repeat(5000)}"`],
  ['if-modified-since', 'not a date'], ['if-unmodified-since', '+275760-09-13T00:00:00.000Z'], ['if-none-match', '*'],
  ['x-amz-copy-source', '/fuzz/existing'], ['x-amz-copy-source', '../../etc/passwd'], ['x-amz-copy-source', '/fuzz/%2e%2e%2f%2e%2e%2fetc%2fpasswd'],
  ['x-amz-copy-source', 'fuzz/existing?versionId=../../x'], ['x-amz-copy-source', '%00'], ['x-amz-copy-source', '/'], ['x-amz-copy-source', '%ED%A0%80'],
  ['x-amz-copy-source', `/fuzz/${'a'.repeat(2000)}`], ['x-amz-copy-source', '/no-such-bucket/x'], ['x-amz-copy-source-range', 'bytes=0-99999999999'],
  ['x-amz-metadata-directive', 'REPLACE'], ['x-amz-metadata-directive', 'BOGUS'], ['x-amz-meta-big', 'v'.repeat(3000)],
  ['x-amz-meta-bigger', 'v'.repeat(12_000)], [`x-amz-meta-${'k'.repeat(200)}`, 'v'], ['content-md5', 'zz'], ['content-md5', '1B2M2Y8AsgTpgAmY7PhCfg=='],
  ['x-amz-checksum-crc32', '!!!'], ['x-amz-checksum-crc32', 'AAAAAA=='], ['x-amz-checksum-sha256', 'x'], ['x-amz-checksum-foo', 'x'],
  ['x-amz-sdk-checksum-algorithm', 'MD4'], ['x-amz-checksum-algorithm', '../'], ['x-amz-storage-class', 'GLACIER'], ['x-amz-storage-class', '../'],
  ['content-type', '../../'], ['content-disposition', 'attachment; filename="../../etc/passwd"'], ['x-amz-object-lock-mode', 'COMPLIANCE'],
  ['x-amz-object-lock-retain-until-date', '9999-12-31T00:00:00Z'], ['x-amz-tagging', 'a=b&'.repeat(100)], ['expect', '100-continue'],
  ['x-amz-decoded-content-length', '-5'], ['content-encoding', 'aws-chunked'], ['x-amz-trailer', 'x-amz-checksum-crc32'],
  ['x-amz-trailer', 'x-amz-checksum-crc32, x-amz-checksum-sha1'], ['x-amz-checksum-mode', 'ENABLED'], ['x-amz-expected-bucket-owner', '../'],
  ['content-language', 'é'], ['x-amz-website-redirect-location', 'http://evil.example/'], ['cache-control', 'no-cache'.repeat(500)],
];

const rawCase: fc.Arbitrary<FuzzCase> = fc.record({
  kind: fc.constant('raw' as const),
  method: fc.constantFrom(...METHODS),
  target: fc
    .tuple(fc.constantFrom('', '', '', 'http://127.0.0.1', '*', 'HTTP://x:1'), fc.array(fc.constantFrom(...PATH_PIECES), { minLength: 1, maxLength: 8 }))
    .map(([prefix, pieces]) => (prefix === '*' ? '*' : `${prefix}/${pieces.join('')}`)),
  headers: fc.array(fc.constantFrom(...RAW_HEADERS), { maxLength: 4 }),
  host: fc.boolean(),
  body: fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)),
});

const bogusAuthCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(
    fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD', 'POST'),
    fc.constantFrom('/', '/fuzz', '/fuzz/existing', '/fuzz/new-object', '/fuzz?delete', '/fuzz/mp-target?uploads'),
    fc.oneof(
      fc.constantFrom(...AUTHORIZATIONS).map((value) => ({ header: value, query: undefined })),
      fc.string({ maxLength: 200 }).map((value) => ({ header: `AWS4-HMAC-SHA256 ${value}`, query: undefined })),
      fc.constantFrom(...PRESIGNED_QUERIES).map((query) => ({ header: undefined, query })),
    ),
    fc.constantFrom<Header[]>([], [['x-amz-date', '{NOW}']], [['x-amz-date', '19700101T000000Z']], [['x-amz-date', 'garbage']], [['x-amz-content-sha256', 'UNSIGNED-PAYLOAD']]),
  )
  .map(([method, path, auth, extra]) => {
    const target = auth.query === undefined ? path : `${path}${path.includes('?') ? '&' : '?'}${auth.query}`;
    const headers: Header[] = [...extra];
    if (auth.header !== undefined) headers.push(['Authorization', auth.header.replace(/[\r\n]/g, ' ')]);
    return { kind: 'bogus-auth', method, target, headers } as const;
  });

const chunkedCase: fc.Arbitrary<FuzzCase> = fc.record({
  kind: fc.constant('chunked' as const),
  mode: fc.constantFrom('signed' as const, 'unsigned-trailer' as const),
  size: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 150 * 1024 })),
  chunkSize: fc.constantFrom(8 * 1024, 64 * 1024),
  mutation: fc.constantFrom(...CHUNKED_MUTATIONS),
  at: fc.double({ min: 0, max: 0.999, noNaN: true }),
  badSize: fc.constantFrom('zz', '-1', 'ffffffffffffffffffff', '0x10', '', ' 10', '1'.repeat(300), '7fffffff', '+1'),
  decodedLength: fc.constantFrom('exact' as const, 'exact' as const, 'exact' as const, 'shorter' as const, 'longer' as const, 'garbage' as const),
});

const anyCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 20, arbitrary: rawCase },
  { weight: 10, arbitrary: bogusAuthCase },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('huge-headers' as const),
      layout: fc.constantFrom('one' as const, 'many' as const),
      bytes: fc.integer({ min: 17 * 1024, max: 96 * 1024 }),
    }),
  },
  { weight: 25, arbitrary: signedPut },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('tampered' as const), tamper: fc.constantFrom(...TAMPERS), body: fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)) }) },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('signed-headers' as const),
      method: fc.constantFrom('GET', 'HEAD', 'PUT', 'DELETE', 'POST'),
      target: fc.constantFrom('existing' as const, 'fresh' as const, 'bucket' as const, 'service' as const),
      headers: fc.array(fc.constantFrom(...HOSTILE_SIGNED_HEADERS), { minLength: 1, maxLength: 3 }),
      body: fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)),
    }),
  },
  { weight: 12, arbitrary: chunkedCase },
  {
    weight: 6,
    arbitrary: fc
      .record({
        kind: fc.constant('length-mismatch' as const),
        declared: fc.integer({ min: 1, max: 8192 }),
        delta: fc.oneof(fc.integer({ min: -8192, max: -1 }), fc.integer({ min: 1, max: 512 })),
        signLength: fc.boolean(),
        junk: fc.constantFrom('GARBAGE\r\n\r\n', 'GET /fuzz/existing HTTP/1.1\r\nHost: x\r\n\r\n', '\u0000\u0001\u0002', 'x'.repeat(512)),
      })
      .map(({ declared, delta, ...rest }) => ({ ...rest, declared, sent: Math.max(0, declared + delta) })),
  },
  {
    weight: 12,
    arbitrary: fc.constantFrom('delete' as const, 'complete' as const).chain((target) =>
      fc.record({
        kind: fc.constant('xml' as const),
        target: fc.constant(target),
        body: xmlDocuments(target === 'delete' ? 'Delete' : 'CompleteMultipartUpload').map((text) => Buffer.from(text, 'utf8')),
        integrity: fc.constantFrom('md5' as const, 'md5' as const, 'crc32' as const, 'none' as const, 'wrong-md5' as const),
        signedPayload: fc.boolean(),
      }),
    ),
  },
);

/** Long strings and buffers shortened, so that a reported counterexample stays readable. */
export function describeCase(value: FuzzCase): string {
  return JSON.stringify(value, (_name, field: unknown) => {
    if (typeof field === 'string' && field.length > 160) return `${field.slice(0, 120)}… (${field.length} chars)`;
    if (typeof field === 'object' && field !== null && (field as { type?: unknown }).type === 'Buffer') {
      const data = (field as { data: number[] }).data;
      const text = Buffer.from(data).toString('utf8');
      return data.length > 160 ? `<${data.length} bytes: ${JSON.stringify(text.slice(0, 80))}…>` : `<bytes ${JSON.stringify(text)}>`;
    }
    return field;
  });
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = anyCase.map((value) => ({ ...value, [fc.toStringMethod]: () => describeCase(value) }));

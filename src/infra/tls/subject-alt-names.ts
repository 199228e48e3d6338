import { isIPv4, isIPv6 } from 'node:net';

/**
 * The names a TLS client checks the server against (RFC 6125 section 6): DNS names and IP
 * addresses in the subjectAltName extension. Clients ignore the subject's common name when this
 * extension is present, so every name the server is reached by must be listed here.
 */
export type SubjectAltName =
  | { readonly kind: 'dns'; readonly name: string }
  | { readonly kind: 'ip'; readonly address: string; readonly bytes: Buffer };

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * A DNS name as a certificate carries it (RFC 5280 4.2.1.6: preferred name syntax, IA5): ASCII
 * letters, digits and hyphens in dot-separated labels, optionally `*.` in front for a wildcard.
 * Internationalised names must be given in their ASCII (punycode, `xn--…`) form.
 */
export function dnsName(name: string): SubjectAltName {
  const labels = (name.startsWith('*.') ? name.slice(2) : name).split('.');
  if (name.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
    throw new Error(`"${name}" is not a DNS name (letters, digits and hyphens in dot-separated labels; write international names as xn--…)`);
  }
  return { kind: 'dns', name: name.toLowerCase() };
}

/** The 4 or 16 octets of an IPv4 or IPv6 address, as iPAddress holds them (RFC 5280 4.2.1.6). */
export function ipAddressBytes(address: string): Buffer | undefined {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  // A zone (fe80::1%eth0) names an interface of this host and has no place in a certificate.
  if (!isIPv6(address) || address.includes('%')) return undefined;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes the last two 16-bit groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  let text = address;
  if (v4 !== undefined) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    text = `${address.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  all.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/** An IP address name; IPv6 may be written with or without brackets. */
export function ipAddressName(address: string): SubjectAltName {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const bytes = ipAddressBytes(bare);
  if (bytes === undefined) throw new Error(`"${address}" is not an IPv4 or IPv6 address`);
  return { kind: 'ip', address: bare, bytes };
}

/** A name given by a user, which may be either: an IP address when it parses as one, else a DNS name. */
export function subjectAltName(text: string): SubjectAltName {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  return isIPv4(bare) || isIPv6(bare) ? ipAddressName(bare) : dnsName(text);
}

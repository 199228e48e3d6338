/**
 * IP addresses and CIDR blocks for the IpAddress / NotIpAddress condition operators ("The IP
 * address or range in CIDR format", RFC 4632; IPv6 text forms per RFC 4291 section 2.2).
 * IPv4 addresses are 4 bytes, IPv6 addresses 16. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`,
 * what a dual-stack socket reports for an IPv4 client) is the IPv4 address it carries, so it
 * matches IPv4 blocks; an IPv4 address tested against an IPv6 block is compared in its mapped form.
 */
export interface CidrBlock {
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an IPv4 or IPv6 address (an IPv6 zone, `%eth0`, is ignored); undefined when it is not one. */
export function parseIpAddress(text: string): Uint8Array | undefined {
  const bytes = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  return bytes !== undefined && bytes.length === 16 && isIpv4Mapped(bytes) ? bytes.slice(12) : bytes;
}

/** Parses `address/prefix`, or a bare address as a block of one; undefined when malformed. */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const bytes = addressText.includes(':') ? parseIpv6(addressText) : parseIpv4(addressText);
  if (bytes === undefined || addressText.includes('%')) return undefined;
  let prefixLength = bytes.length * 8;
  if (slash >= 0) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText)) return undefined;
    prefixLength = Number(prefixText);
    if (prefixLength > bytes.length * 8) return undefined;
  }
  if (bytes.length === 16 && isIpv4Mapped(bytes) && prefixLength >= 96) {
    return { bytes: bytes.slice(12), prefixLength: prefixLength - 96 };
  }
  return { bytes, prefixLength };
}

export function cidrContains(block: CidrBlock, address: Uint8Array): boolean {
  let candidate = address;
  if (address.length === 4 && block.bytes.length === 16) candidate = Uint8Array.of(...IPV4_MAPPED_PREFIX, ...address);
  if (candidate.length !== block.bytes.length) return false;
  const whole = block.prefixLength >> 3;
  for (let i = 0; i < whole; i++) if (candidate[i] !== block.bytes[i]) return false;
  const rest = block.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((candidate[whole] ?? 0) & mask) === ((block.bytes[whole] ?? 0) & mask);
}

function isIpv4Mapped(bytes: Uint8Array): boolean {
  return IPV4_MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/** Dotted quad; leading zeros are refused because some parsers read them as octal. Runs per request: no RegExp. */
function parseIpv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  let field = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 46; // a virtual '.' ends the last field
    if (code === 46) {
      if (digits === 0 || field > 3) return undefined;
      bytes[field++] = value;
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits === 1 && value === 0) return undefined;
      value = value * 10 + (code - 48);
      if (value > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  return field === 4 ? bytes : undefined;
}

function parseIpv6(input: string): Uint8Array | undefined {
  const zone = input.indexOf('%');
  const text = zone < 0 ? input : input.slice(0, zone);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseGroups(halves[0] as string);
  const tail = halves.length === 2 ? parseGroups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** Colon-separated hex groups; the last may be a dotted quad (two groups' worth). */
function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const fields = text.split(':');
  const groups: number[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    if (i === fields.length - 1 && field.includes('.')) {
      const v4 = parseIpv4(field);
      if (v4 === undefined) return undefined;
      groups.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
    } else if (/^[0-9A-Fa-f]{1,4}$/.test(field)) {
      groups.push(parseInt(field, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/**
 * A minimal ASN.1 DER encoder (ITU-T X.690, section 8 for the basic encoding, section 10 and 11
 * for the DER restrictions): just the types an X.509 v3 certificate needs. Every function returns
 * one complete TLV element; constructed types take already-encoded elements.
 */

/** Universal tag numbers (X.680 section 8.4), with the constructed bit where the type is constructed. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  utf8String: 0x0c,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Definite length (X.690 8.1.3): short form below 128, else 0x80 | byte count, then big-endian bytes. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element with an explicit identifier octet (tag class, constructed bit and number < 31). */
export function element(identifier: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([identifier]), encodeLength(content.length), content]);
}

export function sequence(...elements: readonly Uint8Array[]): Buffer {
  return element(TAG.sequence, Buffer.concat(elements));
}

/**
 * SET OF. DER (X.690 11.6) orders the components by their encodings; callers here only ever
 * build sets of one element (a relative distinguished name with one attribute), but sort anyway.
 */
export function set(...elements: readonly Uint8Array[]): Buffer {
  return element(TAG.set, Buffer.concat([...elements].sort((a, b) => Buffer.compare(a, b))));
}

export function boolean(value: boolean): Buffer {
  // DER (X.690 11.1): TRUE is all ones.
  return element(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

export function nullValue(): Buffer {
  return element(TAG.null, Buffer.alloc(0));
}

/**
 * A non-negative INTEGER, from a bigint or from unsigned big-endian bytes. Two's complement in
 * the fewest octets (X.690 8.3.2): leading zero octets dropped, one 0x00 added back when the top
 * bit is set so the value stays positive.
 */
export function integer(value: bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError('only non-negative INTEGERs are supported');
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  } else {
    bytes = Buffer.from(value);
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return element(TAG.integer, bytes);
}

/** OBJECT IDENTIFIER from dotted form (X.690 8.19): first two arcs as 40·a + b, then base 128. */
export function objectIdentifier(dotted: string): Buffer {
  if (!/^[0-2]\.\d+(\.\d+)*$/.test(dotted)) throw new Error(`"${dotted}" is not a dotted object identifier`);
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first, second] = [arcs[0]!, arcs[1]!];
  if (first < 2n && second > 39n) throw new Error(`"${dotted}": the second arc must be below 40 under arc ${first}`);
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...arcs.slice(2)]) {
    const group = [Number(arc & 0x7fn)];
    for (let rest = arc >> 7n; rest > 0n; rest >>= 7n) group.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...group);
  }
  return element(TAG.objectIdentifier, Buffer.from(bytes));
}

/** BIT STRING (X.690 8.6): the count of unused bits in the last octet, then the octets. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) throw new RangeError(`invalid unused bit count ${unusedBits}`);
  return element(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A BIT STRING of named bits (such as KeyUsage), from the numbers of the bits that are set.
 * DER (X.690 11.2.2) drops trailing zero bits, so the encoding ends at the highest bit set.
 */
export function namedBits(setBits: readonly number[]): Buffer {
  if (setBits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...setBits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of setBits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return bitString(bytes, 7 - (highest & 7));
}

export function octetString(bytes: Uint8Array): Buffer {
  return element(TAG.octetString, bytes);
}

export function utf8String(text: string): Buffer {
  return element(TAG.utf8String, Buffer.from(text, 'utf8'));
}

export function ia5String(text: string): Buffer {
  // eslint-disable-next-line no-control-regex -- IA5 is 7-bit ASCII, control characters included.
  if (!/^[\x00-\x7f]*$/.test(text)) throw new Error(`"${text}" is not IA5 (ASCII) text`);
  return element(TAG.ia5String, Buffer.from(text, 'ascii'));
}

function digits(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** UTCTime `YYMMDDHHMMSSZ` (X.690 11.8: seconds present, no fraction, Z). Years 1950–2049 only. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`UTCTime cannot hold the year ${year}`);
  return element(TAG.utcTime, Buffer.from(`${digits(year % 100, 2)}${timeOfYear(date)}Z`, 'ascii'));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (X.690 11.7: no fraction when the seconds are whole, Z). */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`GeneralizedTime cannot hold the year ${year}`);
  return element(TAG.generalizedTime, Buffer.from(`${digits(year, 4)}${timeOfYear(date)}Z`, 'ascii'));
}

function timeOfYear(date: Date): string {
  return [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map((n) => digits(n, 2)).join('');
}

/** X.509 Time (RFC 5280 4.1.2.5): UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

/** `[n] EXPLICIT`: a constructed context-specific wrapper around one complete element. */
export function explicitTag(tagNumber: number, inner: Uint8Array): Buffer {
  return element(0xa0 | checkedTagNumber(tagNumber), inner);
}

/** `[n] IMPLICIT` of a primitive type: the content octets under a context-specific tag. */
export function implicitPrimitive(tagNumber: number, content: Uint8Array): Buffer {
  return element(0x80 | checkedTagNumber(tagNumber), content);
}

function checkedTagNumber(tagNumber: number): number {
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 30) throw new RangeError(`tag number ${tagNumber} needs the long form`);
  return tagNumber;
}

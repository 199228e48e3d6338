import * as der from './der.js';
import type { SubjectAltName } from './subject-alt-names.js';

/**
 * X.509 v3 extensions (RFC 5280 section 4.2), each encoded as
 * `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`.
 * The OIDs are those of RFC 5280's id-ce arc (2.5.29) and id-kp arc (1.3.6.1.5.5.7.3).
 */
function extension(oid: string, critical: boolean, value: Uint8Array): Buffer {
  // DER omits a field equal to its DEFAULT (X.690 11.5), so non-critical has no BOOLEAN.
  return critical ? der.sequence(der.objectIdentifier(oid), der.boolean(true), der.octetString(value)) : der.sequence(der.objectIdentifier(oid), der.octetString(value));
}

/** subjectAltName (4.2.1.6): dNSName [2] IA5String, iPAddress [7] OCTET STRING. Non-critical: the subject is not empty. */
export function subjectAltNameExtension(names: readonly SubjectAltName[]): Buffer {
  const generalNames = names.map((name) =>
    name.kind === 'dns' ? der.implicitPrimitive(2, Buffer.from(name.name, 'ascii')) : der.implicitPrimitive(7, name.bytes),
  );
  return extension('2.5.29.17', false, der.sequence(...generalNames));
}

/**
 * basicConstraints (4.2.1.9) of an end entity, marked critical: cA FALSE is the DEFAULT, so DER
 * encodes an empty SEQUENCE.
 */
export function endEntityBasicConstraintsExtension(): Buffer {
  return extension('2.5.29.19', true, der.sequence());
}

/** KeyUsage bit numbers (4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5 } as const;

/** keyUsage (4.2.1.3), critical, as conforming CAs mark it. */
export function keyUsageExtension(bits: readonly number[]): Buffer {
  return extension('2.5.29.15', true, der.namedBits(bits));
}

/** extendedKeyUsage (4.2.1.12): id-kp-serverAuth only. */
export function serverAuthExtension(): Buffer {
  return extension('2.5.29.37', false, der.sequence(der.objectIdentifier('1.3.6.1.5.5.7.3.1')));
}

/** subjectKeyIdentifier (4.2.1.2): KeyIdentifier ::= OCTET STRING. */
export function subjectKeyIdentifierExtension(keyIdentifier: Uint8Array): Buffer {
  return extension('2.5.29.14', false, der.octetString(keyIdentifier));
}

/** authorityKeyIdentifier (4.2.1.1): SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }. */
export function authorityKeyIdentifierExtension(keyIdentifier: Uint8Array): Buffer {
  return extension('2.5.29.35', false, der.sequence(der.implicitPrimitive(0, keyIdentifier)));
}

import { randomBytes, randomInt } from 'node:crypto';
import { Secret } from './secret.js';

/**
 * Root credentials: there are no defaults, ever. A value that is short, low in variety, or
 * well known (vendor defaults, the AWS documentation examples) is refused, because those are
 * the first values an attacker tries.
 */
export interface AccessKeyPair {
  readonly accessKeyId: string;
  readonly secretAccessKey: Secret;
}

export const MIN_ACCESS_KEY_ID_LENGTH = 16;
export const MIN_SECRET_LENGTH = 32;

const WELL_KNOWN = [
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'AKIDEXAMPLE',
  'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  'minioadmin',
  'admin',
  'password',
  'changeme',
  'secret',
  'root',
  'test',
  'accesskey',
  'secretkey',
];

function looksWellKnown(value: string): boolean {
  const lower = value.toLowerCase();
  return WELL_KNOWN.some((known) => lower === known.toLowerCase()) || lower.includes('example') || /^(.)\1*$/.test(value);
}

/** Returns the problem with a proposed pair, or undefined if it is acceptable. */
export function weakCredentialProblem(accessKeyId: string, secretAccessKey: string): string | undefined {
  if (!/^[A-Za-z0-9]+$/.test(accessKeyId)) return 'the access key id may contain only letters and digits';
  if (accessKeyId.length < MIN_ACCESS_KEY_ID_LENGTH || accessKeyId.length > 128) {
    return `the access key id must be ${MIN_ACCESS_KEY_ID_LENGTH} to 128 characters long`;
  }
  if (looksWellKnown(accessKeyId)) return 'the access key id is a well-known example or default value';
  if (secretAccessKey.length < MIN_SECRET_LENGTH) return `the secret access key must be at least ${MIN_SECRET_LENGTH} characters long`;
  if (secretAccessKey.length > 256) return 'the secret access key must be at most 256 characters long';
  if (looksWellKnown(secretAccessKey)) return 'the secret access key is a well-known example or default value';
  if (new Set(secretAccessKey).size < 12) return 'the secret access key has too few distinct characters to be random';
  if (secretAccessKey === accessKeyId) return 'the secret access key equals the access key id';
  return undefined;
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 20-character key id (like AWS's) and a 40-character secret with 240 bits of entropy. */
export function generateAccessKeyPair(prefix = 'HF'): AccessKeyPair {
  let id = prefix;
  while (id.length < 20) id += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return { accessKeyId: id, secretAccessKey: new Secret(randomBytes(30).toString('base64url')) };
}

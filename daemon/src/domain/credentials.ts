import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  BASE62,
  checksumOf,
  credentialKinds,
  PREFIX_LENGTH,
  RANDOM_LENGTH,
  type CredentialKind,
} from '@gatehouse/shared';

export interface IssuedCredential {
  /** The plaintext: shown to its owner once, then only its hash is kept. */
  plaintext: string;
  prefix: string;
  hash: string;
  lastFour: string;
}

/** Uniform base62 characters from `crypto.randomBytes` (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

// One-shot `hash`: a third of createHash's cost on a credential, which every agent request hashes.
export const sha256Hex = (value: string): string => hash('sha256', value, 'hex');

/** Compares two hex digests in constant time. */
export function hashesMatch(expectedHex: string, actualHex: string): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  const actual = Buffer.from(actualHex, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether `plaintext` hashes to `expected` (a sha-256 digest), compared in constant time. */
export function digestMatches(expected: Buffer, plaintext: string): boolean {
  const actual = hash('sha256', plaintext, 'buffer');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A new high-entropy credential (`<kind>_<prefix>_<32 random><6 checksum>`). 190 random bits
 * make a slow KDF pointless: a sha-256 is stored and compared in constant time.
 */
export function issueCredential(kind: CredentialKind): IssuedCredential {
  const prefix = randomBase62(PREFIX_LENGTH);
  const unchecked = `${credentialKinds[kind]}_${prefix}_${randomBase62(RANDOM_LENGTH)}`;
  const plaintext = unchecked + checksumOf(unchecked);
  return { plaintext, prefix, hash: sha256Hex(plaintext), lastFour: plaintext.slice(-4) };
}
